package web

import (
	"net/url"
	"strconv"

	"github.com/insightslab/insights"
)

// The dashboard's lists (sign-ins, registration details, registration and
// reset events) page alike: a page of listPage rows, a link to the next
// and to the first, the view's other parameters kept, and a CSV of every
// row from the page's cursor on.

// listPage is the number of rows a page of a list shows.
const listPage = 50

// logList returns the /api/signins or /api/methodactivity query of a
// page of a log list for s, filtered by s's filter and fs, searching
// users for user ("": all) and at the page's cursor, and that query parsed.
func logList(s scope, fs []insights.Filter, user string) (url.Values, insights.LogQuery, error) {
	q := url.Values{"from": {s.from.String()}, "to": {s.to.String()}, "limit": {strconv.Itoa(listPage)}}
	if f := s.and(fs...); !f.IsAll() {
		q.Set("filter", f.String())
	}
	if user != "" {
		q.Set("user", user)
	}
	if c := s.own.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	lq, err := parseLogQuery(q)
	return q, lq, err
}

// csvQuery returns the query of a list's CSV download: q without its page
// (limit and the cursor parameter), format=csv.
func csvQuery(q url.Values, cursor string) url.Values {
	out := url.Values{"format": {"csv"}}
	for k, vs := range q {
		if k != "limit" && k != cursor {
			out[k] = vs
		}
	}
	return out
}

// pagerLinks returns the links of a list paged by the cursor parameter:
// to the page at next ("" when none), and to the first page when this one
// is not. The other parameters of the page are kept.
func pagerLinks(v view, s scope, cursor, next string) (string, string) {
	var nextLink, firstLink string
	if next != "" {
		nextLink = v.slug + "?" + withOwn(s, url.Values{cursor: {next}}).Encode()
	}
	if s.own.Get(cursor) != "" {
		first := withOwn(s, nil)
		first.Del(cursor)
		firstLink = v.slug + "?" + first.Encode()
	}
	return nextLink, firstLink
}

// pages streams the entries of a paged listing as an export.EntrySource:
// the entries left of the current page, then the pages fetch returns from
// next on, until a page has no next.
type pages struct {
	fetch   func(cursor string) (*insights.LogPage, error)
	entries []insights.LogEntry
	next    string // the cursor of the page after entries; "" when they are the last
	cur     insights.LogEntry
	err     error
}

func (p *pages) Next() bool {
	for len(p.entries) == 0 {
		if p.next == "" || p.err != nil {
			return false
		}
		page, err := p.fetch(p.next)
		if err != nil {
			p.err = err
			return false
		}
		p.entries, p.next = page.Entries, page.Next
	}
	p.cur, p.entries = p.entries[0], p.entries[1:]
	return true
}

func (p *pages) Entry() insights.LogEntry { return p.cur }

func (p *pages) Err() error { return p.err }
