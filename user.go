package insights

import (
	"context"

	"github.com/insightslab/insights/metrics"
)

// UserInfo is the per-user summary the engine keeps for every user key,
// whatever the retention: the zero Date means none.
type UserInfo struct {
	Key         string
	FirstActive Date // first day with an activity
	LastActive  Date // last day with an activity (activities after deletion included)
	Deleted     Date // day of the user's deletion
}

// User returns the summary of userKey; ok is false for an unknown or
// erased key. Cost: two map and array lookups under the read lock (the
// first user-level call after Open decodes the users: userload.go).
func (e *Engine) User(ctx context.Context, userKey string) (info UserInfo, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return UserInfo{}, false, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return UserInfo{}, false, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		return UserInfo{}, false, err
	}
	uid, ok := e.keys[userKey]
	if !ok {
		return UserInfo{}, false, nil
	}
	date := func(n int32) Date {
		if n == metrics.NoDay {
			return Date{}
		}
		return dateOfNum(n)
	}
	return UserInfo{Key: userKey, FirstActive: date(e.first[uid]), LastActive: date(e.last[uid]), Deleted: date(e.deleted[uid])}, true, nil
}
