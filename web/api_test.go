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

// March 2025 in Paris: the test clock is on the 20th, so the default
// range is 2025-02-19 to 2025-03-21.
func TestQueryMatchesEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	dims := func(ds ...insights.Dimension) []insights.Dimension { return ds }
	cases := []struct {
		name   string
		params string
		want   insights.Query
	}{
		{"defaults: the 30 days ending today, by day", "metric=activeUsers",
			insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 2, 19), To: date(21)}},
		{"weekly active users", "metric=activeUsers&from=2025-03-01&to=2025-03-21&granularity=week",
			insights.Query{Metric: insights.ActiveUsers, From: date(1), To: date(21), Granularity: insights.Week}},
		{"an event-level filter in the CLI's language", "metric=activeUsers&from=2025-03-01&to=2025-03-21&filter=" +
			url.QueryEscape(`appName = Portal and osFamily in (iOS, Windows)`),
			insights.Query{Metric: insights.ActiveUsers, From: date(1), To: date(21), Filter: insights.And(
				insights.Eq(insights.DimAppName, "Portal"), insights.In(insights.DimOSFamily, "iOS", "Windows"))}},
		{"group by two, top and other", "metric=activeUsers&from=2025-03-01&to=2025-03-21&granularity=total&by=appName,country&top=2&other=true",
			insights.Query{Metric: insights.ActiveUsers, From: date(1), To: date(21), Granularity: insights.Total,
				GroupBy: dims(insights.DimAppName, insights.DimCountry), Top: 2, Other: true}},
		{"inactive users with days", "metric=inactiveUsers&days=7&from=2025-03-10&to=2025-03-21",
			insights.Query{Metric: insights.InactiveUsers, Days: 7, From: date(10), To: date(21)}},
		{"authentications by reason", "metric=authentications&granularity=month&from=2025-03-01&to=2025-04-01&by=reason",
			insights.Query{Metric: insights.Authentications, Granularity: insights.Month, From: date(1), To: insights.NewDate(2025, 4, 1),
				GroupBy: dims(insights.DimReason)}},
		{"approximate", "metric=activeUsers&approx=true&from=2025-03-01&to=2025-03-21",
			insights.Query{Metric: insights.ActiveUsers, Approximate: true, From: date(1), To: date(21)}},
		{"MFA-protected sign-ins", "metric=mfaProtectedSignIns&from=2025-03-01&to=2025-03-21",
			insights.Query{Metric: insights.MFAProtectedSignIns, From: date(1), To: date(21)}},
		{"conditional-access policies", "metric=conditionalAccessPolicies&granularity=total&from=2025-03-01&to=2025-03-21",
			insights.Query{Metric: insights.ConditionalAccessPolicies, Granularity: insights.Total, From: date(1), To: date(21)}},
		{"only to given: 30 days before it", "metric=signUps&to=2025-03-10",
			insights.Query{Metric: insights.SignUps, From: insights.NewDate(2025, 2, 8), To: date(10)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := wantStatus(t, get(t, h, "aggregates", "/api/query?"+c.params), 200)
			res, err := eng.Query(context.Background(), c.want)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) == 0 {
				t.Fatal("the case has no rows: it checks nothing")
			}
			if want := jsonOf(t, res) + "\n"; got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			var back insights.Result
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestQueryCSV(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	q := insights.Query{Metric: insights.ActiveUsers, From: date(1), To: date(21), Granularity: insights.Total,
		GroupBy: []insights.Dimension{insights.DimAppName}}
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for _, excel := range []bool{false, true} {
		var want bytes.Buffer
		if err := export.ResultCSV(&want, res, &export.CSVOptions{Excel: excel}); err != nil {
			t.Fatal(err)
		}
		u := "/api/query?metric=activeUsers&from=2025-03-01&to=2025-03-21&granularity=total&by=appName&format=csv"
		if excel {
			u += "&excel=true"
		}
		r := get(t, h, "aggregates", u)
		got := wantStatus(t, r, 200)
		if got != want.String() {
			t.Errorf("excel %t: got\n%s\nwant\n%s", excel, got, want.String())
		}
		if r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "activeUsers.csv") {
			t.Errorf("headers %v", r.Header)
		}
	}
}

func TestBadQueriesAre400WithAMessage(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct{ name, params, want string }{
		{"no metric", "", "metric is required"},
		{"unknown metric", "metric=dau", `metric "dau": want one of activeUsers`},
		{"bad date", "metric=activeUsers&from=2025-13-01", `from "2025-13-01": want a date`},
		{"from after to", "metric=activeUsers&from=2025-03-10&to=2025-03-01", "is not before"},
		{"too many days", "metric=activeUsers&from=2024-01-01&to=2025-02-05", "401 day buckets, at most 400: shorten it or use granularity week, month, total"},
		{"too many weeks", "metric=activeUsers&granularity=week&from=2017-01-01&to=2025-01-01", "buckets, at most 400: shorten it or use granularity month, total"},
		{"too many months", "metric=activeUsers&granularity=month&from=1990-01-01&to=2025-01-01", "at most 3660"},
		{"bad granularity", "metric=activeUsers&granularity=hour", `granularity "hour"`},
		{"bad filter", "metric=activeUsers&filter=" + url.QueryEscape(`os = `), "filter: "},
		{"unknown dimension in a filter", "metric=activeUsers&filter=" + url.QueryEscape(`colour = red`), "colour"},
		{"unknown group-by", "metric=activeUsers&by=appName,colour", `by: unknown dimension "colour"`},
		{"group by a log field", "metric=activeUsers&by=ip", "not an indexed dimension"},
		{"top too large", "metric=activeUsers&by=appName&top=101", "top \"101\": want an integer from 0 to 100"},
		{"negative days", "metric=inactiveUsers&days=-1", `days "-1"`},
		{"other without top", "metric=activeUsers&other=true", "other needs top"},
		{"rolling without days", "metric=rollingActiveUsers", "needs days"},
		{"bad bool", "metric=activeUsers&approx=maybe", `approx "maybe": want true or false`},
		{"bad format", "metric=activeUsers&format=xml", `format "xml"`},
		{"unknown parameter", "metric=activeUsers&granularty=week", `unknown parameter "granularty"`},
		{"repeated parameter", "metric=activeUsers&from=2025-03-01&from=2025-03-02", `"from" given 2 times`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, get(t, h, "all", "/api/query?"+c.params), 400, c.want)
		})
	}
}

func TestSignInsMatchEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	ctx := context.Background()
	filter := `country = FR and status = failure`
	want, err := eng.SignIns(ctx, insights.LogQuery{From: date(1), To: date(21), Limit: 3, Filter: mustFilter(t, filter)})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Entries) != 3 || want.Next == "" {
		t.Fatalf("the case needs a full first page, got %d entries", len(want.Entries))
	}
	base := "/api/signins?from=2025-03-01&to=2025-03-21&limit=3&filter=" + url.QueryEscape(filter)
	got := wantStatus(t, get(t, h, "signins", base), 200)
	if jsonOf(t, want)+"\n" != got {
		t.Errorf("page 1: got %s\nwant %s", got, jsonOf(t, want))
	}
	var page insights.LogPage
	if err := json.Unmarshal([]byte(got), &page); err != nil {
		t.Fatal(err)
	}
	want2, err := eng.SignIns(ctx, insights.LogQuery{From: date(1), To: date(21), Limit: 3, Filter: mustFilter(t, filter), Cursor: want.Next})
	if err != nil {
		t.Fatal(err)
	}
	got2 := wantStatus(t, get(t, h, "signins", base+"&cursor="+url.QueryEscape(page.Next)), 200)
	if jsonOf(t, want2)+"\n" != got2 {
		t.Errorf("page 2 (cursor): got %s\nwant %s", got2, jsonOf(t, want2))
	}
	if !strings.Contains(got, `\u003cscript\u003e`) || strings.Contains(got, hostile) {
		t.Error("a hostile display name is not escaped in JSON")
	}
}

func TestSignInsCSV(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	var want bytes.Buffer
	q := insights.LogQuery{From: date(1), To: date(21), Limit: 7,
		Filter: insights.And(insights.Eq(insights.DimKind, "signIn"), insights.Eq(insights.DimCountry, "DE"))}
	if err := export.LogCSV(&want, eng.Entries(context.Background(), q), nil); err != nil {
		t.Fatal(err)
	}
	got := wantStatus(t, get(t, h, "signins", "/api/signins?from=2025-03-01&to=2025-03-21&limit=7&format=csv&filter=country+%3D+DE"), 200)
	if got != want.String() {
		t.Errorf("CSV differs: got %d bytes, want %d", len(got), want.Len())
	}
	if n := strings.Count(got, "\n"); n < 100 {
		t.Errorf("the CSV has %d lines: it should hold every page, not one", n)
	}
}

func TestBadSignInQueriesAre400(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct{ name, params, want string }{
		{"page too large", "limit=1001", `limit "1001": want an integer from 1 to 1000`},
		{"bad cursor", "cursor=nope", "cursor"},
		{"bad CIDR", "filter=" + url.QueryEscape(`ip in 10.0.0.0/99`), "filter"},
		{"unknown parameter", "top=3", `unknown parameter "top"`},
		{"from after to", "from=2025-03-10&to=2025-03-01", "not before"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, get(t, h, "signins", "/api/signins?"+c.params), 400, c.want)
		})
	}
}

func mustFilter(t testing.TB, s string) insights.Filter {
	t.Helper()
	f, err := insights.ParseFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLongParametersAre400(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	long := strings.Repeat("a", 100_000)
	for _, u := range []string{
		"/signins?user=" + long, "/registrations?user=" + long, "/users?app=" + long, "/users?from=" + long,
		"/api/query?metric=activeUsers&filter=" + long, "/api/signins?cursor=" + long,
		"/reports/userInsights/daily/activeUsers?$filter=" + long, "/users?" + long + "=1",
	} {
		res := get(t, h, "all", u)
		b := wantStatus(t, res, 400)
		if len(b) > 8192 || !strings.Contains(b, "at most") && !strings.Contains(b, "unknown parameter") {
			t.Errorf("%.40s...: a %d-byte answer: %.200s", u, len(b), b)
		}
	}
	wantStatus(t, get(t, h, "all", "/signins?user="+strings.Repeat("a", MaxParamBytes)), 200)
}
