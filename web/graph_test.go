package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// TestGraphCollectionsMatchEngine checks every collection against
// export.Graph of results computed from the engine directly.
func TestGraphCollectionsMatchEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	byApp := []insights.Dimension{insights.DimAppID}
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
	want := map[string][]insights.Query{
		"daily/activeUsers":                  with(daily, insights.ActiveUsers, byApp),
		"daily/authentications":              with(daily, insights.Authentications, byApp),
		"daily/mfaCompletions":               with(daily, insights.MFAChallenges, byApp),
		"daily/signUps":                      with(daily, insights.SignUps, byApp),
		"daily/summary":                      with(daily, insights.Summary, []insights.Dimension{insights.DimAppID, insights.DimOS}),
		"daily/inactiveUsers":                with(daily, insights.InactiveUsers, nil, 1, 30, 60, 90),
		"daily/inactiveUsersByApplication":   with(daily, insights.InactiveUsers, byApp, 1, 30, 60, 90),
		"daily/userCount":                    with(daily, insights.TotalUsers, nil),
		"monthly/activeUsers":                with(monthly, insights.ActiveUsers, byApp),
		"monthly/authentications":            with(monthly, insights.Authentications, byApp),
		"monthly/mfaCompletions":             with(monthly, insights.MFAChallenges, byApp),
		"monthly/signUps":                    with(monthly, insights.SignUps, byApp),
		"monthly/summary":                    with(monthly, insights.Summary, []insights.Dimension{insights.DimAppID, insights.DimOS}),
		"monthly/inactiveUsers":              with(monthly, insights.InactiveUsers, nil, 0, 30, 60, 90),
		"monthly/inactiveUsersByApplication": with(monthly, insights.InactiveUsers, byApp, 0, 30, 60, 90),
		"monthly/requests":                   with(monthly, insights.Requests, nil),
	}
	for _, c := range export.GraphCollections() {
		t.Run(c, func(t *testing.T) {
			qs, ok := want[c]
			if !ok {
				t.Fatalf("no expectation for collection %s", c)
			}
			got := wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/"+c), 200)
			if exp := graphOf(t, eng, c, qs); got != exp {
				t.Errorf("got\n%s\nwant\n%s", got, exp)
			}
			var v struct {
				Value []map[string]any `json:"value"`
			}
			if err := json.Unmarshal([]byte(got), &v); err != nil || len(v.Value) == 0 {
				t.Errorf("not a non-empty {\"value\":[...]}: %v", err)
			}
		})
	}
}

// graphOf returns export.Graph of the results of qs.
func graphOf(t testing.TB, eng *insights.Engine, collection string, qs []insights.Query) string {
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
	return buf.String()
}

func TestGraphFilter(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	cases := []struct {
		name, collection, filter string
		want                     insights.Query
	}{
		{"a factDate range and an app", "daily/activeUsers", `factDate ge 2025-03-02 and factDate le 2025-03-05 and appId eq 'app-1'`,
			insights.Query{Metric: insights.ActiveUsers, From: date(2), To: date(6), Filter: insights.Eq(insights.DimAppID, "app-1"),
				GroupBy: []insights.Dimension{insights.DimAppID}}},
		{"gt and lt, parentheses, quoted dates", "daily/authentications", `(factDate gt '2025-03-02') and (factDate lt 2025-03-05 and os eq 'iOS 17')`,
			insights.Query{Metric: insights.Authentications, From: date(3), To: date(5), Filter: insights.Eq(insights.DimOS, "iOS 17"),
				GroupBy: []insights.Dimension{insights.DimAppID}}},
		{"one day, a quote in a value", "daily/signUps", `factDate eq 2025-03-04 and country eq 'O''Brien'`,
			insights.Query{Metric: insights.SignUps, From: date(4), To: date(5), Filter: insights.Eq(insights.DimCountry, "O'Brien"),
				GroupBy: []insights.Dimension{insights.DimAppID}}},
		{"monthly: months whose first day is in range", "monthly/activeUsers", `factDate ge 2025-01-15 and factDate lt 2025-03-02 and language eq 'en'`,
			insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Month, From: insights.NewDate(2025, 2, 1), To: insights.NewDate(2025, 4, 1),
				Filter: insights.Eq(insights.DimLanguage, "en"), GroupBy: []insights.Dimension{insights.DimAppID}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/"+c.collection+"?$filter="+url.QueryEscape(c.filter)), 200)
			if want := graphOf(t, eng, c.collection, []insights.Query{c.want}); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
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
		{"or", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq 'a' or appId eq 'b'`), 400, `want "and" or the end, got 'or'`},
		{"unknown property", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`colour eq 'red'`), 400, "want factDate or a property"},
		{"ge on a property", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId ge 'a'`), 400, `want "eq"`},
		{"unquoted string", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq portal`), 400, "a string in single quotes"},
		{"bad date", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2025-02-30`), 400, "a date YYYY-MM-DD"},
		{"unterminated string", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`appId eq 'x`), 400, "unterminated string"},
		{"unclosed parenthesis", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`(appId eq 'x'`), 400, `"and" or ")"`},
		{"a function", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`startswith(appId,'x')`), 400, "want factDate"},
		{"too long a range", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2020-01-01`), 400, "at most 400"},
		{"an empty range", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(`factDate ge 2025-03-05 and factDate lt 2025-03-05`), 400, "not before"},
		{"other OData options", "/reports/userInsights/daily/activeUsers?$top=5", 400, `unknown parameter "$top"`},
		{"too many comparisons", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(strings.Repeat("appId eq 'a' and ", 64)+"appId eq 'a'"), 400, "more than 64"},
		{"too deep", "/reports/userInsights/daily/activeUsers?$filter=" + url.QueryEscape(strings.Repeat("(", 20)+"appId eq 'a'"+strings.Repeat(")", 20)), 400, "nest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, get(t, h, "aggregates", c.url), c.status, c.want)
		})
	}
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
