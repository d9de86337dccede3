package export

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// DetectionSource streams risk detections, like EntrySource.
// DetectionPages adapts the engine's paged list to it.
type DetectionSource interface {
	Next() bool
	Detection() insights.Detection
	Err() error
}

// RiskyUserSource streams risky users, like EntrySource. RiskyUserPages
// adapts the engine's paged list to it.
type RiskyUserSource interface {
	Next() bool
	RiskyUser() insights.RiskyUser
	Err() error
}

// detectionHeader is the header of DetectionsCSV.
var detectionHeader = []string{"id", "type", "level", "time", "windowStart", "windowEnd",
	"userKey", "source", "rule", "evidence"}

// riskyUserHeader is the header of RiskyUsersCSV.
var riskyUserHeader = []string{"userKey", "displayName", "level", "state", "updated", "detections"}

// riskTime formats a detection's or risky user's time as LogCSV does, ""
// for the zero time.
func riskTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// DetectionsCSV writes the detections of src as CSV: the header
//
//	id,type,level,time,windowStart,windowEnd,userKey,source,rule,evidence
//
// then one line per detection in the source's order. Times are RFC 3339
// with nanoseconds in the detection's zone; evidence is the LogEntry IDs
// separated by spaces (IDs hold none). Ids, user keys, sources, rules and
// evidence are neutralized (see the package doc). Cost: one pass, memory
// independent of the number of detections.
func DetectionsCSV(w io.Writer, src DetectionSource, opts *CSVOptions) error {
	c, err := newCSV(w, opts, detectionHeader)
	if err != nil {
		return err
	}
	for src.Next() {
		d := src.Detection()
		c.text(d.ID)
		c.text(string(d.Type))
		c.text(d.Level)
		c.raw(riskTime(d.Time))
		c.raw(riskTime(d.WindowStart))
		c.raw(riskTime(d.WindowEnd))
		c.text(d.UserKey)
		c.text(d.Source)
		c.text(d.Rule)
		c.text(strings.Join(d.Evidence, " "))
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	return c.close()
}

// DetectionsJSON writes the detections of src as JSON lines, or a JSON
// array with opts.Array: each is insights.Detection's JSON. Cost: one
// pass, memory independent of the number of detections.
func DetectionsJSON(w io.Writer, src DetectionSource, opts *JSONOptions) error {
	return writeJSONList(w, src, src.Detection, opts)
}

// RiskyUsersCSV writes the risky users of src as CSV: the header
//
//	userKey,displayName,level,state,updated,detections
//
// then one line per user in the source's order. User keys, display names,
// levels and states are neutralized (see the package doc). Cost: one
// pass, memory independent of the number of users.
func RiskyUsersCSV(w io.Writer, src RiskyUserSource, opts *CSVOptions) error {
	c, err := newCSV(w, opts, riskyUserHeader)
	if err != nil {
		return err
	}
	for src.Next() {
		u := src.RiskyUser()
		c.text(u.UserKey)
		c.text(u.DisplayName)
		c.text(u.Level)
		c.text(u.State)
		c.raw(riskTime(u.Updated))
		c.raw(strconv.Itoa(u.Detections))
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	return c.close()
}

// RiskyUsersJSON writes the risky users of src as JSON lines, or a JSON
// array with opts.Array: each is insights.RiskyUser's JSON. Cost: one
// pass, memory independent of the number of users.
func RiskyUsersJSON(w io.Writer, src RiskyUserSource, opts *JSONOptions) error {
	return writeJSONList(w, src, src.RiskyUser, opts)
}

// pager streams the items of a paged list, fetching the next page with
// the last one's cursor when the current one is used up.
type pager[T any] struct {
	fetch func(cursor string) ([]T, string, error)
	items []T
	i     int
	next  string
	begun bool
	cur   T
	err   error
}

func (p *pager[T]) Next() bool {
	for p.err == nil && p.i >= len(p.items) {
		if p.begun && p.next == "" {
			return false
		}
		p.begun = true
		p.items, p.next, p.err = p.fetch(p.next)
		p.i = 0
	}
	if p.err != nil {
		return false
	}
	p.cur = p.items[p.i]
	p.i++
	return true
}

func (p *pager[T]) Err() error { return p.err }

// Detections is the function that lists one page of detections:
// (*insights.Engine).Detections.
type Detections func(context.Context, insights.DetectionQuery) (*insights.DetectionPage, error)

// RiskyUsers is the function that lists one page of risky users:
// (*insights.Engine).RiskyUsers.
type RiskyUsers func(context.Context, insights.RiskyUserQuery) (*insights.RiskyUserPage, error)

// DetectionPages returns every detection matching q, from q.Cursor on, as
// a DetectionSource: list (eng.Detections) is called for one page of
// q.Limit at a time as the source is read, each with the cursor of the
// page before, so memory holds one page. The source stops at list's
// first error, which its Err returns.
func DetectionPages(ctx context.Context, list Detections, q insights.DetectionQuery) DetectionSource {
	return &detectionPager{pager[insights.Detection]{next: q.Cursor, fetch: func(cursor string) ([]insights.Detection, string, error) {
		q.Cursor = cursor
		page, err := list(ctx, q)
		if err != nil {
			return nil, "", err
		}
		return page.Detections, page.Next, nil
	}}}
}

// RiskyUserPages returns every risky user matching q, from q.Cursor on,
// as a RiskyUserSource, as DetectionPages does with list (eng.RiskyUsers).
func RiskyUserPages(ctx context.Context, list RiskyUsers, q insights.RiskyUserQuery) RiskyUserSource {
	return &riskyUserPager{pager[insights.RiskyUser]{next: q.Cursor, fetch: func(cursor string) ([]insights.RiskyUser, string, error) {
		q.Cursor = cursor
		page, err := list(ctx, q)
		if err != nil {
			return nil, "", err
		}
		return page.Users, page.Next, nil
	}}}
}

type detectionPager struct{ pager[insights.Detection] }

func (p *detectionPager) Detection() insights.Detection { return p.cur }

type riskyUserPager struct{ pager[insights.RiskyUser] }

func (p *riskyUserPager) RiskyUser() insights.RiskyUser { return p.cur }

// DetectionList returns the detections of list, one page say, as a
// DetectionSource. The source reads list without copying it.
func DetectionList(list []insights.Detection) DetectionSource {
	return &detectionPager{pager[insights.Detection]{items: list, begun: true}}
}

// RiskyUserList returns the users of list as a RiskyUserSource, as
// DetectionList does.
func RiskyUserList(list []insights.RiskyUser) RiskyUserSource {
	return &riskyUserPager{pager[insights.RiskyUser]{items: list, begun: true}}
}
