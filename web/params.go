package web

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// Request limits. A request over one is answered 400 with what to change.
const (
	// MaxBuckets is the most buckets a query may have: 400 days at day
	// granularity, 400 weeks, 400 months.
	MaxBuckets = 400
	// MaxRangeDays is the longest range of any query, whole-range ones included.
	MaxRangeDays = 3660
	// MaxTop is the largest top.
	MaxTop = 100
	// MaxRows is the most rows a result may have; group with top to stay under it.
	MaxRows = 100_000
	// DefaultDays is the length of the range when a request gives none:
	// the DefaultDays days ending today, in the store's zone.
	DefaultDays = 30
	// MaxParamBytes is the longest value of a parameter, but filter
	// expressions (filter, $filter), which may be MaxFilterBytes long.
	MaxParamBytes = 512
	// MaxFilterBytes is the longest filter expression.
	MaxFilterBytes = 4096
)

// queryParams are the parameters of /api/query, those of the CLI's query.
var queryParams = []string{"metric", "from", "to", "granularity", "filter", "by", "top", "other", "days", "approx", "format", "excel"}

// logParams are the parameters of /api/signins.
var logParams = []string{"from", "to", "filter", "user", "limit", "cursor", "format", "excel"}

// params reads url.Values, keeping the first error.
type params struct {
	v   url.Values
	err error
}

// known fails on a parameter outside names, one given twice (a typo
// must not silently widen a query) or one longer than its limit.
func (p *params) known(names []string) {
	for _, k := range slices.Sorted(maps.Keys(p.v)) {
		limit := MaxParamBytes
		if k == "filter" || k == "$filter" {
			limit = MaxFilterBytes
		}
		switch {
		case !slices.Contains(names, k):
			p.fail(badRequest("unknown parameter %q; known: %s", truncate(k), cmp.Or(strings.Join(names, ", "), "none")))
		case len(p.v[k]) > 1:
			p.fail(badRequest("parameter %q given %d times", k, len(p.v[k])))
		case len(p.v[k][0]) > limit:
			p.fail(badRequest("parameter %q is %d bytes long, at most %d", k, len(p.v[k][0]), limit))
		}
	}
}

// truncate returns s, or its first MaxParamBytes bytes and "...": what a
// message may quote of a request.
func truncate(s string) string {
	if len(s) <= MaxParamBytes {
		return s
	}
	return strings.ToValidUTF8(s[:MaxParamBytes], "") + "..."
}

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *params) str(name string) string { return p.v.Get(name) }

// int returns the parameter, 0 when absent, failing outside [lo, hi].
func (p *params) int(name string, lo, hi int) int {
	s := p.v.Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(badRequest("%s %q: want an integer from %d to %d", name, s, lo, hi))
		return 0
	}
	return n
}

// bool returns the parameter: "true" or "1" (or present and empty) is true.
func (p *params) bool(name string) bool {
	if !p.v.Has(name) {
		return false
	}
	switch s := p.v.Get(name); s {
	case "", "true", "1":
		return true
	case "false", "0":
		return false
	default:
		p.fail(badRequest("%s %q: want true or false", name, s))
		return false
	}
}

// date returns the parameter, the zero Date when absent.
func (p *params) date(name string) insights.Date {
	s := p.v.Get(name)
	if s == "" {
		return insights.Date{}
	}
	d, err := insights.ParseDate(s)
	if err != nil {
		p.fail(badRequest("%s %q: want a date YYYY-MM-DD", name, s))
	}
	return d
}

// filter returns the parameter parsed by insights.ParseFilter, every event when absent.
func (p *params) filter() insights.Filter {
	s := p.v.Get("filter")
	if s == "" {
		return insights.And()
	}
	f, err := insights.ParseFilter(s)
	if err != nil {
		p.fail(badRequest("filter: %v", err))
	}
	return f
}

// format returns "json" (the default) or "csv".
func (p *params) format() string {
	switch s := p.v.Get("format"); s {
	case "", "json":
		return "json"
	case "csv":
		return "csv"
	default:
		p.fail(badRequest("format %q: want json or csv", s))
		return ""
	}
}

// span returns the range [from, to): as given, or ending today (to is
// tomorrow, being exclusive) and DefaultDays long.
func (p *params) span(today insights.Date) (from, to insights.Date) {
	from, to = p.date("from"), p.date("to")
	switch {
	case to.IsZero() && from.IsZero():
		to = today.AddDays(1)
		from = to.AddDays(-DefaultDays)
	case to.IsZero():
		to = today.AddDays(1)
	case from.IsZero():
		from = to.AddDays(-DefaultDays)
	}
	return from, to
}

// parseQuery reads the parameters of /api/query into a Query, its
// defaults filled (range: the DefaultDays days ending today; granularity
// day), and checks the limits above.
func parseQuery(v url.Values, today insights.Date) (insights.Query, error) {
	p := &params{v: v}
	p.known(queryParams)
	var q insights.Query
	if s := p.str("metric"); s == "" {
		p.fail(badRequest("metric is required; one of %s", metricNames()))
	} else if m, err := insights.ParseMetric(s); err != nil {
		p.fail(badRequest("metric %q: want one of %s", s, metricNames()))
	} else {
		q.Metric = m
	}
	q.From, q.To = p.span(today)
	if s := p.str("granularity"); s != "" {
		g, err := insights.ParseGranularity(s)
		if err != nil {
			p.fail(badRequest("granularity %q: want day, week, month or total", s))
		}
		q.Granularity = g
	}
	q.Filter = p.filter()
	if s := p.str("by"); s != "" {
		for _, name := range strings.Split(s, ",") {
			d, err := insights.ParseDimension(strings.TrimSpace(name))
			if err != nil {
				p.fail(badRequest("by: unknown dimension %q", name))
			}
			q.GroupBy = append(q.GroupBy, d)
		}
	}
	q.Top = p.int("top", 0, MaxTop)
	q.Other = p.bool("other")
	q.Days = p.int("days", 0, insights.MaxDays)
	q.Approximate = p.bool("approx")
	p.format()
	p.bool("excel")
	if p.err != nil {
		return insights.Query{}, p.err
	}
	return q, checkRange(q.From, q.To, q.Granularity, coarser(q.From, q.To, q.Granularity))
}

// coarser is what /api/query's message offers for a range with too many
// buckets of g: the coarser granularities that have few enough.
func coarser(from, to insights.Date, g insights.Granularity) string {
	var fit []string
	for _, c := range []insights.Granularity{insights.Week, insights.Month, insights.Total} {
		if c > g && bucketCount(from, to, c) <= MaxBuckets {
			fit = append(fit, c.String())
		}
	}
	return "shorten it or use granularity " + strings.Join(fit, ", ")
}

// checkRange enforces MaxRangeDays and MaxBuckets on [from, to), the
// latter's message ending with remedy.
func checkRange(from, to insights.Date, g insights.Granularity, remedy string) error {
	if !from.Before(to) {
		return badRequest("from %s is not before to %s", from, to)
	}
	days := daysBetween(from, to)
	if days > MaxRangeDays {
		return badRequest("range %s to %s is %d days, at most %d", from, to, days, MaxRangeDays)
	}
	if n := bucketCount(from, to, g); n > MaxBuckets {
		return badRequest("range %s to %s has %d %s buckets, at most %d: %s", from, to, n, g, MaxBuckets, remedy)
	}
	return nil
}

// daysBetween returns the number of days from a to b.
func daysBetween(a, b insights.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
	return int((tb.Unix() - ta.Unix()) / 86400)
}

// bucketCount returns how many buckets of g cover [from, to), at most
// one more than the full buckets (weeks may start mid-range).
func bucketCount(from, to insights.Date, g insights.Granularity) int {
	switch g {
	case insights.Day:
		return daysBetween(from, to)
	case insights.Week:
		return daysBetween(from, to)/7 + 2
	case insights.Month:
		last := to.AddDays(-1)
		return (last.Year-from.Year)*12 + int(last.Month-from.Month) + 1
	}
	return 1
}

// parseLogQuery reads the parameters of /api/signins.
func parseLogQuery(v url.Values) (insights.LogQuery, error) {
	p := &params{v: v}
	p.known(logParams)
	q := insights.LogQuery{From: p.date("from"), To: p.date("to"), Filter: p.filter(), UserSearch: p.str("user"),
		Limit: p.int("limit", 1, insights.MaxPageSize), Cursor: p.str("cursor")}
	p.format()
	p.bool("excel")
	return q, p.err
}

// metricNames lists the metrics' names for error messages.
func metricNames() string {
	var names []string
	for _, m := range insights.Metrics() {
		names = append(names, m.String())
	}
	return strings.Join(names, ", ")
}
