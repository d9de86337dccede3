package web

import (
	"context"
	"net/url"
	"slices"

	"github.com/insightslab/insights"
)

// scopeDim is one filter of the dashboard's filter bar: its parameter,
// label and dimension.
type scopeDim struct {
	param, label string
	dim          insights.Dimension
}

// scopeDims are the filter bar's dimensions, in the bar's order.
var scopeDims = []scopeDim{
	{"os", "OS", insights.DimOSFamily},
	{"country", "Country", insights.DimCountry},
	{"app", "Application", insights.DimAppName},
	{"language", "Language", insights.DimLanguage},
	{"idp", "Identity provider", insights.DimIdentityProvider},
}

// maxChoices is how many values of each dimension the filter bar offers:
// the most frequent in the range.
const maxChoices = 50

// scope is what a page's filter bar selects: a range of days, one value
// per filter-bar dimension, and the page's own parameters.
type scope struct {
	from, to insights.Date
	today    insights.Date
	values   map[string]string // filter-bar parameter → selected value
	filter   insights.Filter   // the selected values, as one event-level filter
	own      url.Values        // the view's own parameters
}

// parseScope reads a page's parameters: from and to, the first and the
// last day of the range (people count days inclusively; the API's to is
// exclusive), by default the DefaultDays days ending today and at most
// MaxBuckets days; those of the filter bar's dimensions dims, and the
// view's own (params).
func parseScope(v url.Values, today insights.Date, dims []scopeDim, own []string) (scope, error) {
	p := &params{v: v}
	names := []string{"from", "to"}
	for _, d := range dims {
		names = append(names, d.param)
	}
	p.known(append(names, own...))
	s := scope{today: today, values: map[string]string{}, own: url.Values{}}
	last := p.date("to")
	if last.IsZero() {
		last = today
	}
	s.from, s.to = p.date("from"), last.AddDays(1)
	if s.from.IsZero() {
		s.from = s.to.AddDays(-DefaultDays)
	}
	if p.err != nil {
		return scope{}, p.err
	}
	if !s.from.Before(s.to) {
		return scope{}, badRequest("from %s is after to %s", s.from, last)
	}
	if n := daysBetween(s.from, s.to); n > MaxBuckets {
		return scope{}, badRequest("%s to %s is %d days; the dashboard shows at most %d: choose a later from or an earlier to",
			s.from, last, n, MaxBuckets)
	}
	var eqs []insights.Filter
	for _, d := range dims {
		if val := v.Get(d.param); val != "" {
			s.values[d.param] = val
			eqs = append(eqs, insights.Eq(d.dim, val))
		}
	}
	s.filter = insights.And(eqs...)
	for _, name := range own {
		if v.Has(name) {
			s.own.Set(name, v.Get(name))
		}
	}
	return s, nil
}

// and returns the scope's filter and fs, as one filter.
func (s scope) and(fs ...insights.Filter) insights.Filter {
	var all []insights.Filter
	for _, f := range append([]insights.Filter{s.filter}, fs...) {
		if !f.IsAll() {
			all = append(all, f)
		}
	}
	if len(all) == 1 {
		return all[0]
	}
	return insights.And(all...)
}

// query returns the URL query of the scope's range and filter-bar values,
// with extra set on top: what links between pages keep.
func (s scope) query(extra url.Values) url.Values {
	v := url.Values{"from": {s.from.String()}, "to": {s.last().String()}}
	for param, val := range s.values {
		v.Set(param, val)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// link returns the query of a link from the scope's page to view o: the
// range, and the filter bar's values when o takes them.
func (s scope) link(o view) url.Values {
	if o.unscoped {
		return url.Values{"from": {s.from.String()}, "to": {s.last().String()}}
	}
	return s.query(nil)
}

// last returns the last day of the scope's range, the page's to.
func (s scope) last() insights.Date { return s.to.AddDays(-1) }

// choices returns the values the filter bar offers for d: the maxChoices
// most frequent in the scope's range (events of any kind, regardless of
// the other filters), sorted, with the selected value sel kept.
func (h *handler) choices(ctx context.Context, s scope, d insights.Dimension, sel string) ([]string, error) {
	res, err := h.eng.Query(ctx, insights.Query{Metric: insights.Requests, From: s.from, To: s.to,
		Granularity: insights.Total, GroupBy: []insights.Dimension{d}, Top: maxChoices})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range res.Rows {
		if v := r.Groups[0]; v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if sel != "" && !slices.Contains(out, sel) {
		out = append(out, sel)
	}
	slices.Sort(out)
	return out, nil
}
