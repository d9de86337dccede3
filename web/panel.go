package web

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// panel is one chart of a view: the /api/query parameters behind it and
// how to draw the result. The page's range and filter bar come on top.
type panel struct {
	title  string
	note   string            // what the chart counts, in a sentence
	kind   chartKind         // how to draw it
	show   []string          // the series to draw, in the result's order; nil draws every row
	span   spanKind          // the range it covers
	filter string            // an expression (ParseFilter) ANDed with the filter bar's
	params map[string]string // metric, granularity, by, top, other, days
}

// spanKind is the range a panel covers, from the page's.
type spanKind uint8

const (
	pageRange  spanKind = iota // the page's range
	lastMonths                 // the 12 calendar months ending with the month of the page's last day
)

// of returns the range of k for a page's scope.
func (k spanKind) of(s scope) (insights.Date, insights.Date) {
	if k == lastMonths {
		last := s.last()
		next := insights.NewDate(last.Year, last.Month+1, 1)
		return insights.NewDate(next.Year, next.Month-12, 1), next
	}
	return s.from, s.to
}

// panelView is what the template draws of a panel.
type panelView struct {
	Title, Note string
	Zone        string // every chart says in which zone its dates are
	Window      string // the result's own description of its values
	Range       string // the dates covered
	Query       string // the /api/query URL of the numbers (data-query), relative
	CSV         string // the same as CSV
	Chart       chart
	Columns     []string // the table's group columns
	Rows        []tableRow
	Incomplete  bool // a bucket contains the present
	Warnings    []string
}

// tableRow is one row of a panel's table.
type tableRow struct {
	Start, Series string
	Groups        []string
	Value, Flags  string
}

// runPanel computes p for scope s through the same parsing as /api/query.
func (h *handler) runPanel(ctx context.Context, p panel, s scope, perms Permissions) (panelView, error) {
	from, to := p.span.of(s)
	v := url.Values{"from": {from.String()}, "to": {to.String()}}
	for k, val := range p.params {
		v.Set(k, val)
	}
	pf := insights.And()
	if p.filter != "" {
		f, err := insights.ParseFilter(p.filter)
		if err != nil {
			return panelView{}, err
		}
		pf = f
	}
	if f := s.and(pf); !f.IsAll() {
		v.Set("filter", f.String())
	}
	q, err := parseQuery(v, s.today)
	if err != nil {
		return panelView{}, err
	}
	res, err := h.query(ctx, q, perms)
	if err != nil {
		return panelView{}, err
	}
	pv := panelView{Title: p.title, Note: p.note, Zone: res.Zone, Window: res.Window, Warnings: res.Warnings,
		Range: from.String() + " to " + to.AddDays(-1).String(),
		Query: "api/query?" + v.Encode(), Chart: newChart(p.kind, res, p.show, unitOf(res.Query.Metric))}
	v.Set("format", "csv")
	pv.CSV = "api/query?" + v.Encode()
	pv.Columns = res.Query.GroupNames()
	for _, r := range res.Rows {
		if len(p.show) > 0 && !slices.Contains(p.show, r.Series) {
			continue
		}
		pv.Incomplete = pv.Incomplete || r.Incomplete
		pv.Rows = append(pv.Rows, tableRow{Start: r.Start.String(), Series: r.Series, Groups: r.Groups,
			Value: formatValue(r.Value), Flags: strings.TrimSpace(flags(r))})
	}
	return pv, nil
}
