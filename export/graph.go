package export

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// graphCollection is one of Graph's reports/userInsights collections: the
// metric whose results fill it, the Graph property of each group-by
// dimension it has, and the Graph property of each count.
type graphCollection struct {
	metric insights.Metric
	dims   []graphDim
	counts []graphCount
	needs  insights.Dimension // a group-by the collection requires; 0 for none
}

// graphDim maps group-by dimensions to a Graph property.
type graphDim struct {
	prop string
	dims []insights.Dimension
}

// graphCount maps a row's series (for inactive users: the query's Days) to
// a Graph count property.
type graphCount struct {
	key  string
	prop string
}

var (
	gAppID    = graphDim{"appId", []insights.Dimension{insights.DimAppID}}
	gAppName  = graphDim{"appName", []insights.Dimension{insights.DimAppName}}
	gAuthFlow = graphDim{"authFlow", []insights.Dimension{insights.DimAuthFlow}}
	gBrowser  = graphDim{"browser", []insights.Dimension{insights.DimBrowser, insights.DimBrowserFamily}}
	gCountry  = graphDim{"country", []insights.Dimension{insights.DimCountry}}
	gIdP      = graphDim{"identityProvider", []insights.Dimension{insights.DimIdentityProvider}}
	gLanguage = graphDim{"language", []insights.Dimension{insights.DimLanguage}}
	gMFA      = graphDim{"mfaMethod", []insights.Dimension{insights.DimMFAMethod}}
	gOS       = graphDim{"os", []insights.Dimension{insights.DimOS, insights.DimOSFamily}}

	gCount    = []graphCount{{"", "count"}}
	gAttempts = []graphCount{{"attempts", "attemptsCount"}, {"successes", "successCount"}}
)

// graphCollections are the collections Graph serves, by "daily/<name>"
// and "monthly/<name>", with the properties of Graph's beta metadata.
var graphCollections = func() map[string]graphCollection {
	both := map[string]graphCollection{
		"activeUsers": {metric: insights.ActiveUsers, counts: gCount,
			dims: []graphDim{gAppID, gAppName, gCountry, gLanguage, gOS}},
		"authentications": {metric: insights.Authentications, counts: gAttempts,
			dims: []graphDim{{"appid", gAppID.dims}, gAuthFlow, gBrowser, gCountry, gIdP, gLanguage, gOS}},
		"mfaCompletions": {metric: insights.MFAChallenges, counts: gAttempts,
			dims: []graphDim{gAppID, gCountry, gIdP, gLanguage, gMFA, gOS}},
		"signUps": {metric: insights.SignUps, counts: gCount,
			dims: []graphDim{gAppID, gBrowser, gCountry, gIdP, gLanguage, gOS}},
		"summary": {metric: insights.Summary, dims: []graphDim{gAppID, gOS}, counts: []graphCount{
			{"activeUsers", "activeUsers"},
			{"authenticationCompletions", "authenticationCompletions"},
			{"authenticationRequests", "authenticationRequests"},
			{"smsMfaCompletions", "securityTextCompletions"},
			{"smsMfaRequests", "securityTextRequests"},
			{"voiceMfaCompletions", "securityVoiceCompletions"},
			{"voiceMfaRequests", "securityVoiceRequests"},
		}},
	}
	m := map[string]graphCollection{
		"daily/userCount":  {metric: insights.TotalUsers, counts: gCount, dims: []graphDim{gLanguage}},
		"monthly/requests": {metric: insights.Requests, counts: []graphCount{{"", "requestCount"}}},
	}
	for name, c := range both {
		m["daily/"+name], m["monthly/"+name] = c, c
	}
	inactive := map[string][]graphCount{
		"daily": {{"1", "inactive1DayCount"}, {"30", "inactive30DayCount"}, {"60", "inactive60DayCount"}, {"90", "inactive90DayCount"}},
		"monthly": {{"0", "inactiveCalendarMonthCount"}, {"30", "inactive30DayCount"},
			{"60", "inactive60DayCount"}, {"90", "inactive90DayCount"}},
	}
	for period, counts := range inactive {
		dims := []graphDim{gAppID}
		m[period+"/inactiveUsers"] = graphCollection{metric: insights.InactiveUsers, dims: dims, counts: counts}
		m[period+"/inactiveUsersByApplication"] = graphCollection{metric: insights.InactiveUsers, dims: dims,
			counts: counts, needs: insights.DimAppID}
	}
	return m
}()

// GraphCollections returns the collection names Graph takes, sorted: those
// filled by Query results. Graph's daily/mfaTelecomFraud and
// monthly/mfaRegisteredUsers are not counts of a Query (the web package
// reads them from the event log) and are not among them.
func GraphCollections() []string {
	names := make([]string, 0, len(graphCollections))
	for n := range graphCollections {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Graph writes results as the Microsoft Graph collection
// reports/userInsights/<collection>, for reports written against Entra's:
//
//	{"value":[{"factDate":"2023-09-20","appId":"A","count":16},...]}
//
// collection is "daily/<name>" or "monthly/<name>" (GraphCollections lists
// them); daily ones take results of Granularity Day, monthly ones of
// Granularity Month. Each object holds factDate (the bucket's first date;
// for monthly ones the first of the month, even when the query's range
// cuts the month), one property per group-by dimension, and the counts,
// rounded to integers. The results that fill each collection:
//
//	activeUsers                 ActiveUsers -> count; group by appId, appName, country, language, os or osFamily (-> os)
//	authentications             Authentications: attempts -> attemptsCount, successes -> successCount;
//	                            group by appId (-> appid), authFlow, browser or browserFamily (-> browser),
//	                            country, identityProvider, language, os or osFamily
//	mfaCompletions              MFAChallenges: attempts -> attemptsCount, successes -> successCount;
//	                            group by appId, country, identityProvider, language, mfaMethod, os or osFamily
//	signUps                     SignUps -> count; group by appId, browser, country, identityProvider, language, os
//	summary                     Summary (grouped by appId and os by default): activeUsers, authenticationRequests,
//	                            authenticationCompletions, smsMfa* -> securityText*, voiceMfa* -> securityVoice*
//	inactiveUsers               InactiveUsers, one result per count: Days 1 (daily) -> inactive1DayCount,
//	                            Days 0 (monthly, calendar month) -> inactiveCalendarMonthCount,
//	                            Days 30, 60, 90 -> inactive30DayCount, ...; may group by appId
//	inactiveUsersByApplication  as inactiveUsers, grouped by appId
//	daily/userCount             TotalUsers -> count; group by language
//	monthly/requests            Requests -> requestCount
//
// Several results are merged into one object per date and group values:
// they must share the metric, granularity and group-by (inactive users
// pass one result per Days). A count that a given result covers but that
// has no row for an object is 0; a count no result covers is left out, as
// are series Graph has no property for (authentication failures and
// interrupts). Objects are sorted by date, then group values.
//
// Errors wrap insights.ErrInvalidQuery and say what does not fit: an
// unknown collection, a result of another metric or granularity, a
// group-by dimension the collection has no property for, the same count
// given twice. Nothing is written on such an error. Cost: memory linear
// in the number of objects, like the results themselves.
func Graph(w io.Writer, collection string, results ...*insights.Result) error {
	objs, props, err := graphObjects(collection, results)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"value":[`)
	for i, o := range objs {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n{\"factDate\":\"" + o.date.String() + "\"")
		for j, p := range props.dims {
			if err := writeJSONProp(bw, p, o.groups[j]); err != nil {
				return err
			}
		}
		for _, p := range props.counts {
			if n, ok := o.counts[p]; ok {
				bw.WriteString(`,"` + p + `":` + strconv.FormatInt(n, 10))
			}
		}
		bw.WriteString("}")
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// graphObject is one object of a collection.
type graphObject struct {
	date   insights.Date
	groups []string
	counts map[string]int64
}

// graphProps are the property names objects carry, in writing order.
type graphProps struct {
	dims   []string // one per group-by dimension
	counts []string
}

// graphObjects merges results into the objects of collection.
func graphObjects(collection string, results []*insights.Result) ([]*graphObject, graphProps, error) {
	bad := func(format string, args ...any) ([]*graphObject, graphProps, error) {
		return nil, graphProps{}, fmt.Errorf("%w: export: graph %s: %s", insights.ErrInvalidQuery,
			collection, fmt.Sprintf(format, args...))
	}
	c, ok := graphCollections[collection]
	if !ok {
		return bad("unknown collection, want one of %s", strings.Join(GraphCollections(), ", "))
	}
	if len(results) == 0 {
		return bad("no results")
	}
	gran := insights.Day
	if strings.HasPrefix(collection, "monthly/") {
		gran = insights.Month
	}
	var props graphProps
	groupBy := results[0].Query.GroupBy
	for i, d := range groupBy {
		p, ok := c.dimProp(d)
		if !ok {
			return bad("groupBy[%d]: %s has no Graph property here", i, d)
		}
		if slices.Contains(props.dims, p) {
			return bad("groupBy[%d]: %s gives property %s twice", i, d, p)
		}
		props.dims = append(props.dims, p)
	}
	if c.needs != 0 && !slices.Contains(groupBy, c.needs) {
		return bad("results must be grouped by %s", c.needs)
	}
	covered := map[string]bool{}
	byKey := map[string]*graphObject{}
	var objs []*graphObject
	for i, res := range results {
		switch {
		case res == nil:
			return bad("results[%d] is nil", i)
		case res.Query.Metric != c.metric:
			return bad("results[%d] is %s, want %s", i, res.Query.Metric, c.metric)
		case res.Query.Granularity != gran:
			return bad("results[%d] has granularity %s, want %s", i, res.Query.Granularity, gran)
		case !slices.Equal(res.Query.GroupBy, groupBy):
			return bad("results[%d] is grouped by %v, results[0] by %v", i, res.Query.GroupBy, groupBy)
		}
		resCounts := c.counts
		if c.metric == insights.InactiveUsers {
			days := strconv.Itoa(res.Query.Days)
			j := slices.IndexFunc(c.counts, func(g graphCount) bool { return g.key == days })
			if j < 0 {
				return bad("results[%d] has days %s, want one of %v", i, days, c.counts)
			}
			resCounts = c.counts[j : j+1]
		}
		for _, g := range resCounts {
			if covered[g.prop] {
				return bad("results[%d] gives %s again", i, g.prop)
			}
			covered[g.prop] = true
		}
		for _, r := range res.Rows {
			key := r.Series
			if c.metric == insights.InactiveUsers {
				key = resCounts[0].key
			}
			j := slices.IndexFunc(resCounts, func(g graphCount) bool { return g.key == key })
			if j < 0 {
				continue
			}
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
				return bad("results[%d]: %s %s has value %v", i, r.Start, r.Series, r.Value)
			}
			o := objectFor(byKey, &objs, r, gran, len(groupBy))
			o.counts[resCounts[j].prop] = int64(math.Round(r.Value))
		}
	}
	for _, g := range c.counts {
		if covered[g.prop] {
			props.counts = append(props.counts, g.prop)
		}
	}
	for _, o := range objs {
		for _, p := range props.counts {
			if _, ok := o.counts[p]; !ok {
				o.counts[p] = 0
			}
		}
	}
	slices.SortStableFunc(objs, func(a, b *graphObject) int {
		if a.date != b.date {
			return cmp.Compare(a.date.String(), b.date.String())
		}
		return slices.Compare(a.groups, b.groups)
	})
	return objs, props, nil
}

// dimProp returns the property of dimension d in c.
func (c graphCollection) dimProp(d insights.Dimension) (string, bool) {
	for _, g := range c.dims {
		if slices.Contains(g.dims, d) {
			return g.prop, true
		}
	}
	return "", false
}

// objectFor returns the object of r's date and groups, adding it if new.
func objectFor(byKey map[string]*graphObject, objs *[]*graphObject, r insights.Row, gran insights.Granularity, ngroups int) *graphObject {
	date := r.Start
	if gran == insights.Month {
		date = insights.NewDate(date.Year, date.Month, 1)
	}
	groups := make([]string, ngroups)
	copy(groups, r.Groups)
	var k strings.Builder
	k.WriteString(date.String())
	for _, g := range groups {
		k.WriteString(strconv.Quote(g))
	}
	if o, ok := byKey[k.String()]; ok {
		return o
	}
	o := &graphObject{date: date, groups: groups, counts: map[string]int64{}}
	byKey[k.String()] = o
	*objs = append(*objs, o)
	return o
}

// writeJSONProp writes ,"name":"value" with value escaped as JSON.
func writeJSONProp(w *bufio.Writer, name, value string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		return err
	}
	w.WriteString(`,"` + name + `":`)
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}
