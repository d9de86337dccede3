package web

import (
	"bytes"
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// graphSpec says which queries fill a Graph collection: the metric, the
// Days of each InactiveUsers count, and the grouping that gives the
// properties of Graph's documented resource type (os is the OS family,
// as Graph's values are: Windows, iOS, ...).
type graphSpec struct {
	metric  insights.Metric
	days    []int
	groupBy []insights.Dimension
}

// graphSpecOf returns the spec of collection period/name; export.Graph
// says which collections exist and what fills them.
func graphSpecOf(period, name string) graphSpec {
	var (
		app, country, mfa, os = insights.DimAppID, insights.DimCountry, insights.DimMFAMethod, insights.DimOSFamily
		inactiveDays          = []int{1, 30, 60, 90}
	)
	if period == "monthly" {
		inactiveDays = []int{0, 30, 60, 90}
	}
	switch name {
	case "activeUsers":
		return graphSpec{metric: insights.ActiveUsers}
	case "authentications":
		return graphSpec{metric: insights.Authentications, groupBy: []insights.Dimension{app, country, os}}
	case "mfaCompletions":
		return graphSpec{metric: insights.MFAChallenges, groupBy: []insights.Dimension{app, mfa, os}}
	case "signUps":
		return graphSpec{metric: insights.SignUps, groupBy: []insights.Dimension{os}}
	case "summary":
		return graphSpec{metric: insights.Summary, groupBy: []insights.Dimension{app, os}}
	case "inactiveUsers":
		return graphSpec{metric: insights.InactiveUsers, days: inactiveDays}
	case "inactiveUsersByApplication":
		return graphSpec{metric: insights.InactiveUsers, days: inactiveDays, groupBy: []insights.Dimension{app}}
	case "userCount":
		return graphSpec{metric: insights.TotalUsers}
	}
	return graphSpec{metric: insights.Requests} // monthly/requests
}

// graphPageSize is the most objects a page of a collection holds: the
// default and the largest $top.
const graphPageSize = 1000

// serveGraph answers GET /reports/userInsights/{period}/{name}: the
// collection as export.Graph writes it (or as graphLogCollections fill it), {"value":[...]}, over the range
// and equalities of $filter (see parseGraphFilter). Without factDate
// bounds, daily collections cover the DefaultDays days ending today and
// monthly ones the 12 calendar months ending with the current one.
func (h *handler) serveGraph(w http.ResponseWriter, r *http.Request) error {
	period, name := r.PathValue("period"), r.PathValue("name")
	collection := period + "/" + name
	if !slices.Contains(graphCollectionNames(), collection) {
		return errorf(http.StatusNotFound, "unknown collection %s; known: %s", collection,
			strings.Join(graphCollectionNames(), ", "))
	}
	p := &params{v: r.URL.Query()}
	p.known([]string{"$filter", "$select", "$top", "$skiptoken"})
	opts := graphOptions{top: cmp.Or(p.int("$top", 1, graphPageSize), graphPageSize), skip: p.int("$skiptoken", 0, math.MaxInt32)}
	if p.err != nil {
		return p.err
	}
	gf, err := parseGraphFilter(p.str("$filter"))
	if err != nil {
		return err
	}
	if opts.sel, err = parseSelect(p.str("$select"), graphProperties[collection]); err != nil {
		return err
	}
	gran, from, to := graphRange(period, gf, h.today())
	if err := checkRange(from, to, gran, "shorten the factDate range of $filter"); err != nil {
		return err
	}
	if fill, ok := graphLogCollections[collection]; ok {
		objs, err := fill(h, r.Context(), gf, from, to)
		if err != nil {
			return err
		}
		writeBody(w, http.StatusOK, "application/json; charset=utf-8", graphPage(r, collection, objs, logIncomplete(period, h.today()), opts))
		return nil
	}
	spec := graphSpecOf(period, name)
	base := insights.Query{Metric: spec.metric, From: from, To: to, Granularity: gran,
		Filter: insights.And(gf.eqs...), GroupBy: spec.groupBy}
	var results []*insights.Result
	for _, q := range graphQueries(base, spec.days) {
		res, err := h.query(r.Context(), q, permsOf(r))
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	var buf bytes.Buffer
	if err := export.Graph(&buf, collection, results...); err != nil {
		return err
	}
	objs, err := graphObjects(buf.Bytes())
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", graphPage(r, collection, objs, incompleteDates(results), opts))
	return nil
}

// graphQueries returns base, or one copy per Days for inactive users.
func graphQueries(base insights.Query, days []int) []insights.Query {
	if len(days) == 0 {
		return []insights.Query{base}
	}
	qs := make([]insights.Query, len(days))
	for i, d := range days {
		qs[i] = base
		qs[i].Days = d
	}
	return qs
}

// graphRange returns the granularity and range of a collection: daily
// ones [from, to) as the filter bounds factDate; monthly ones the months
// whose first day (their factDate) is within the bounds.
func graphRange(period string, gf graphFilter, today insights.Date) (insights.Granularity, insights.Date, insights.Date) {
	if period == "daily" {
		from, to := gf.from, gf.to
		if to.IsZero() {
			to = today.AddDays(1)
		}
		if from.IsZero() {
			from = to.AddDays(-DefaultDays)
		}
		return insights.Day, from, to
	}
	month := func(d insights.Date, add int) insights.Date {
		return insights.NewDate(d.Year, d.Month+time.Month(add), 1)
	}
	to := month(today, 1)
	if !gf.to.IsZero() {
		to = month(gf.to.AddDays(-1), 1)
	}
	from := month(to, -12)
	if !gf.from.IsZero() {
		from = month(gf.from, 0)
		if gf.from.Day != 1 {
			from = month(gf.from, 1)
		}
	}
	return insights.Month, from, to
}
