package insights

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// UserRow is one user behind a row of a user-set metric.
type UserRow struct {
	Start, End Date     // the row's bucket
	Series     string   // the row's series (lifecycle)
	Offset     int      // the row's offset (retention)
	Groups     []string // the row's group values
	UserKey    string
}

// Users lists the users behind every row of q, a user-set metric (every
// user metric but Stickiness, exact only), in the rows' order and by
// ascending user id within a row. The sets are computed when Users is
// called, as one snapshot; the keys are then streamed without holding the
// engine's lock. Errors wrap ErrInvalidQuery like Query's. Stats counts
// the call like Query's (the computation of the sets, not the streaming).
func (e *Engine) Users(ctx context.Context, q Query) (*UserCursor, error) {
	defer e.observeQuery(q, time.Now())
	if !q.Metric.userSetMetric() || q.Approximate {
		return nil, fmt.Errorf("%w: metric %s (approximate %t) has no user list", ErrInvalidQuery, q.Metric, q.Approximate)
	}
	e.mu.RLock()
	err := e.loadUsers(ctx) // for the keys; the sets may not need them
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	ev, err := e.evaluate(ctx, q)
	if err != nil {
		return nil, err
	}
	// ev.keys was captured under the lock; keys are only appended (erasure
	// blanks one in place), so the ids in the sets index this prefix.
	return &UserCursor{ctx: ctx, rows: ev.rows, keys: ev.keys, row: -1}, nil
}

// UserCursor streams the rows of Users, like sql.Rows: call Next until it
// returns false, then check Err. Not safe for concurrent use.
type UserCursor struct {
	ctx  context.Context
	rows []outRow
	keys []string
	row  int
	it   roaring.IntPeekable
	cur  UserRow
	n    int
	err  error
}

// Next advances to the next user and reports whether there is one.
func (c *UserCursor) Next() bool {
	for c.err == nil {
		if c.it != nil && c.it.HasNext() {
			if c.n++; c.n%1024 == 0 {
				if c.err = c.ctx.Err(); c.err != nil {
					return false
				}
			}
			c.cur.UserKey = c.keys[c.it.Next()]
			return true
		}
		if c.row++; c.row >= len(c.rows) {
			return false
		}
		r := c.rows[c.row]
		c.cur = UserRow{Start: r.Start, End: r.End, Series: r.Series, Offset: r.Offset, Groups: r.Groups}
		c.it = nil
		if r.set != nil {
			c.it = r.set.Iterator()
		}
	}
	return false
}

// User returns the current user. Valid after Next returned true.
func (c *UserCursor) User() UserRow { return c.cur }

// Err returns the error that stopped Next, if any (a context error).
func (c *UserCursor) Err() error { return c.err }
