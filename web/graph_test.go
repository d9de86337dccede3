package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// TestGraphCollectionsMatchEngine checks every collection against
// export.Graph of results computed from the engine directly, grouped as
// Graph's resource types document.
func TestGraphCollectionsMatchEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	app, os := insights.DimAppID, insights.DimOSFamily
	daily := insights.Query{From: insights.NewDate(2025, 2, 19), To: date(21), Granularity: insights.Day}
	monthly := insights.Query{From: insights.NewDate(2024, 4, 1), To: insights.NewDate(2025, 4, 1), Granularity: insights.Month}
	with := func(q insights.Query, m insights.Metric, groupBy []insights.Dimension, days ...int) []insights.Query {
		q.Metric, q.GroupBy = m, groupBy
		if len(days) == 0 {
			return []insights.Query{q}
		}
		var qs []insights.Query
		for _, d := range days {
			q.Days = d
			qs = append(qs, q)
		}
		return qs
	}
	by := func(ds ...insights.Dimension) []insights.Dimension { return ds }
	want := map[string][]insights.Query{}
	for period, q := range map[string]insights.Query{"daily": daily, "monthly": monthly} {
		want[period+"/activeUsers"] = with(q, insights.ActiveUsers, nil)
		want[period+"/authentications"] = with(q, insights.Authentications, by(app, insights.DimCountry, os))
		want[period+"/mfaCompletions"] = with(q, insights.MFAChallenges, by(app, insights.DimMFAMethod, os))
		want[period+"/signUps"] = with(q, insights.SignUps, by(os))
		want[period+"/summary"] = with(q, insights.Summary, by(app, os))
	}
	want["daily/inactiveUsers"] = with(daily, insights.InactiveUsers, nil, 1, 30, 60, 90)
	want["daily/inactiveUsersByApplication"] = with(daily, insights.InactiveUsers, by(app), 1, 30, 60, 90)
	want["daily/userCount"] = with(daily, insights.TotalUsers, nil)
	want["monthly/inactiveUsers"] = with(monthly, insights.InactiveUsers, nil, 0, 30, 60, 90)
	want["monthly/inactiveUsersByApplication"] = with(monthly, insights.InactiveUsers, by(app), 0, 30, 60, 90)
	want["monthly/requests"] = with(monthly, insights.Requests, nil)
	for _, c := range export.GraphCollections() {
		t.Run(c, func(t *testing.T) {
			qs, ok := want[c]
			if !ok {
				t.Fatalf("no expectation for collection %s", c)
			}
			got := graphValues(t, wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/"+c), 200))
			if exp := graphOf(t, eng, c, qs); jsonOf(t, got) != jsonOf(t, exp) || len(got) == 0 {
				t.Errorf("got\n%v\nwant\n%v", got, exp)
			}
		})
	}
}

// graphPageOf is a page of a Graph collection as the client reads it.
type graphPageOf struct {
	Context  string           `json:"@odata.context"`
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// graphValues returns the objects of a page without their id and
// annotations, after checking the page's context and the ids: present,
// unique.
func graphValues(t testing.TB, body string) []map[string]any {
	t.Helper()
	var p graphPageOf
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if !strings.Contains(p.Context, "$metadata#reports/userInsights/") {
		t.Errorf("@odata.context %q", p.Context)
	}
	ids := map[any]bool{}
	for _, o := range p.Value {
		if id, ok := o["id"].(string); !ok || ids[id] {
			t.Errorf("object %v: id missing or repeated", o)
		}
		ids[o["id"]] = true
		delete(o, "id")
		delete(o, incompleteAnnotation)
	}
	return p.Value
}

// graphOf returns the objects export.Graph writes of the results of qs.
func graphOf(t testing.TB, eng *insights.Engine, collection string, qs []insights.Query) []map[string]any {
	t.Helper()
	var results []*insights.Result
	for _, q := range qs {
		res, err := eng.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	var buf bytes.Buffer
	if err := export.Graph(&buf, collection, results...); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Value
}

// TestGraphMatchesDocumentedTypes checks every collection's objects
// against the JSON representation of its resource type in Microsoft's
// documentation: the same properties, each of the documented JSON type.
func TestGraphMatchesDocumentedTypes(t *testing.T) {
	b, err := os.ReadFile("testdata/graph_documented.json")
	if err != nil {
		t.Fatal(err)
	}
	var documented map[string]map[string]string
	var file map[string]json.RawMessage // and "_about", what the file is
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	delete(file, "_about")
	b, _ = json.Marshal(file)
	if err := json.Unmarshal(b, &documented); err != nil {
		t.Fatal(err)
	}
	h, _ := testHandler(testEngine(t))
	for _, c := range graphCollectionNames() {
		doc, ok := documented[c]
		if !ok {
			t.Errorf("%s: not in the fixture", c)
			continue
		}
		var p graphPageOf
		if err := json.Unmarshal([]byte(wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/"+c), 200)), &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Value) == 0 {
			t.Errorf("%s: no objects", c)
		}
		for _, o := range p.Value {
			delete(o, incompleteAnnotation)
			var got, want []string
			for k, v := range o {
				kind := "Int64"
				if s, ok := v.(string); ok {
					kind = "String"
					if members, enum := strings.CutPrefix(doc[k], "microsoft.graph."); enum &&
						!slices.Contains(strings.FieldsFunc(members, func(r rune) bool { return strings.ContainsRune(" (),", r) }), s) {
						t.Errorf("%s: %s is %q, not a member of %s", c, k, s, doc[k])
					}
				}
				got = append(got, k+" "+kind)
			}
			for k, typ := range doc {
				if k != "@odata.type" {
					want = append(want, k+" "+map[bool]string{true: "Int64", false: "String"}[typ == "Int64"])
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: object has %v, %s documents %v", c, got, doc["@odata.type"], want)
				break
			}
		}
	}
}

func TestGraphFilter(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	app, os := insights.DimAppID, insights.DimOSFamily
	cases := []struct {
		name, collection, filter string
		want                     insights.Query
	}{
		{"a factDate range and an app", "daily/activeUsers", `factDate ge 2025-03-02 and factDate le 2025-03-05 and appId eq 'app-1'`,
			insights.Query{Metric: insights.ActiveUsers, From: date(2), To: date(6), Filter: insights.Eq(app, "app-1")}},
		{"gt and lt, parentheses, quoted dates, a raw OS counted as its family", "daily/authentications",
			`(factDate gt '2025-03-02') and (factDate lt 2025-03-05 and os eq 'iOS 17')`,
			insights.Query{Metric: insights.Authentications, From: date(3), To: date(5), Filter: insights.Eq(os, "iOS"),
				GroupBy: []insights.Dimension{app, insights.DimCountry, os}}},
		{"Microsoft's example: os eq 'Windows', any case of the property", "daily/authentications", `OS eq 'Windows' and AppId eq 'app-1'`,
			insights.Query{Metric: insights.Authentications, From: insights.NewDate(2025, 2, 19), To: date(21),
				Filter: insights.And(insights.Eq(os, "Windows"), insights.Eq(app, "app-1")), GroupBy: []insights.Dimension{app, insights.DimCountry, os}}},
		{"MFA method", "daily/mfaCompletions", `mfaMethod eq 'Text message'`,
			insights.Query{Metric: insights.MFAChallenges, From: insights.NewDate(2025, 2, 19), To: date(21),
				Filter: insights.Eq(insights.DimMFAMethod, "Text message"), GroupBy: []insights.Dimension{app, insights.DimMFAMethod, os}}},
		{"one day, a quote in a value", "daily/signUps", `factDate eq 2025-03-04 and country eq 'O''Brien'`,
			insights.Query{Metric: insights.SignUps, From: date(4), To: date(5), Filter: insights.Eq(insights.DimCountry, "O'Brien"),
				GroupBy: []insights.Dimension{os}}},
		{"monthly: months whose first day is in range", "monthly/activeUsers", `factDate ge 2025-01-15 and factDate lt 2025-03-02 and language eq 'en'`,
			insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Month, From: insights.NewDate(2025, 2, 1), To: insights.NewDate(2025, 4, 1),
				Filter: insights.Eq(insights.DimLanguage, "en")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := graphValues(t, wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/"+c.collection+"?$filter="+url.QueryEscape(c.filter)), 200))
			if want := graphOf(t, eng, c.collection, []insights.Query{c.want}); jsonOf(t, got) != jsonOf(t, want) {
				t.Errorf("got\n%v\nwant\n%v", got, want)
			}
			if c.filter == `OS eq 'Windows' and AppId eq 'app-1'` && len(got) == 0 {
				t.Error("os eq 'Windows' found nothing")
			}
		})
	}
}

func TestGraphPagesSelectsAndMarksToday(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	all := graphValues(t, wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/daily/authentications"), 200))
	var paged []map[string]any
	next := "/insights/reports/userInsights/daily/authentications?$top=7"
	for pages := 0; next != ""; pages++ {
		if pages > len(all) {
			t.Fatal("the pages do not end")
		}
		req := httptest.NewRequest("GET", next, nil)
		req.Header.Set(permsHeader, "aggregates")
		rec := httptest.NewRecorder()
		http.StripPrefix("/insights", h).ServeHTTP(rec, req)
		var p graphPageOf
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 200 || len(p.Value) > 7 {
			t.Fatalf("%s: %d %s", next, rec.Code, rec.Body)
		}
		if !strings.HasPrefix(p.Context, "http://example.com/insights/$metadata#") {
			t.Errorf("@odata.context %q is not the mount's", p.Context)
		}
		paged = append(paged, graphValues(t, rec.Body.String())...)
		next = strings.TrimPrefix(p.NextLink, "http://example.com")
	}
	if jsonOf(t, paged) != jsonOf(t, all) || len(all) <= 7 {
		t.Errorf("%d objects through the pages, %d at once", len(paged), len(all))
	}

	var sel graphPageOf
	json.Unmarshal([]byte(wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/daily/activeUsers?$select=COUNT"), 200)), &sel)
	for _, o := range sel.Value {
		delete(o, incompleteAnnotation)
		if _, ok := o["count"]; !ok || len(o) != 2 {
			t.Fatalf("$select=COUNT gave %v, want id and count", o)
		}
	}

	var page graphPageOf
	json.Unmarshal([]byte(wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/daily/activeUsers"), 200)), &page)
	for _, o := range page.Value {
		if _, marked := o[incompleteAnnotation]; marked != (o["factDate"] == "2025-03-20") {
			t.Errorf("%v: marked incomplete %t", o, marked)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct {
		name, url string
		status    int
		want      string
	}{
		{"unknown collection", "/reports/userInsights/daily/nope", 404, "unknown collection daily/nope; known: daily/activeUsers"},
		{"monthly user count is not a Graph collection", "/reports/userInsights/monthly/userCount", 404, "unknown collection"},
		{"unknown period", "/reports/userInsights/weekly/activeUsers", 404, "unknown collection"},
		{"telecom fraud is daily only", "/reports/userInsights/monthly/mfaTelecomFraud", 404, "unknown collection"},
		{"MFA-registered users are monthly only", "/reports/userInsights/daily/mfaRegisteredUsers", 404, "unknown collection"},
		{"MFA-registered users by app", "/reports/userInsights/monthly/mfaRegisteredUsers?$filter=" + url.QueryEscape(`appId eq 'a'`), 400,
			"monthly/mfaRegisteredUsers takes only factDate"},
		{"$select of a telecom count", "/reports/userInsights/daily/mfaTelecomFraud?$select=count", 400, `unknown property "count"`},
		{"or", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq 'a' or appId eq 'b'`), 400, `want "and" or the end, got 'or'`},
		{"unknown property", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`colour eq 'red'`), 400, "want factDate or a property"},
		{"ge on a property", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId ge 'a'`), 400, `want "eq"`},
		{"unquoted string", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq portal`), 400, "a string in single quotes"},
		{"bad date", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2025-02-30`), 400, "a date YYYY-MM-DD"},
		{"unterminated string", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq 'x`), 400, "unterminated string"},
		{"unclosed parenthesis", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`(appId eq 'x'`), 400, `"and" or ")"`},
		{"a function", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`startswith(appId,'x')`), 400, "want factDate"},
		{"too long a range", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2020-01-01`), 400, "at most 400: shorten the factDate range of $filter"},
		{"an empty range", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2025-03-05 and factDate lt 2025-03-05`), 400, "not before"},
		{"other OData options", "/reports/userInsights/daily/activeUsers?$orderby=count", 400, `unknown parameter "$orderby"`},
		{"$top out of range", "/reports/userInsights/daily/activeUsers?$top=0", 400, "$top"},
		{"$select of an unknown property", "/reports/userInsights/daily/activeUsers?$select=appId", 400, `$select: unknown property "appId"`},
		{"too many comparisons", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(strings.Repeat("appId eq 'a' and ", 64)+"appId eq 'a'"), 400, "more than 64"},
		{"too deep", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(strings.Repeat("(", 20)+"appId eq 'a'"+strings.Repeat(")", 20)), 400, "nest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, get(t, h, "aggregates", c.url), c.status, c.want)
		})
	}
	wantError(t, get(t, h, "", "/reports/userInsights/daily/activeUsers"), 401, "unauthorized")
	wantError(t, get(t, h, "signins", "/reports/userInsights/daily/activeUsers"), 403, "forbidden")
}

// FuzzGraphFilter: the $filter parser never panics, and what it accepts
// is a range and equalities.
func FuzzGraphFilter(f *testing.F) {
	for _, s := range []string{`factDate ge 2025-03-02 and appId eq 'a'`, `(os eq 'x''y')`, `factDate eq '2025-01-01'`, `((`, `'`, "appId eq '\xff'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gf, err := parseGraphFilter(s)
		if err != nil {
			if classify(err).status != 400 {
				t.Fatalf("%q: error %v is not a 400", s, err)
			}
			return
		}
		for _, e := range gf.eqs {
			if e.Op() != insights.OpEq {
				t.Fatalf("%q: %v", s, e)
			}
		}
	})
}
