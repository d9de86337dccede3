package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/insightslab/insights"
)

var (
	panelRE = regexp.MustCompile(`(?s)<section class="panel" data-query="([^"]*)">(.*?)</section>`)
	markRE  = regexp.MustCompile(`data-point="([^"]*)" data-value="([^"]*)"`)
	entryRE = regexp.MustCompile(`<tr data-entry="([^"]*)"`)
	logRE   = regexp.MustCompile(`<section class="log" data-query="([^"]*)">`)
)

// TestViewsDrawTheAPIsNumbers checks each chart of each view: every
// mark's value is the value of its row in /api/query's answer for the
// panel's data-query, and every row of the series drawn has its mark.
func TestViewsDrawTheAPIsNumbers(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, v := range views {
		if len(v.panels) == 0 {
			continue
		}
		t.Run(v.slug, func(t *testing.T) {
			page := wantStatus(t, get(t, h, "all", "/"+v.slug+"?from=2025-03-01&to=2025-03-21"), 200)
			panels := panelRE.FindAllStringSubmatch(page, -1)
			if len(panels) != len(v.panels) {
				t.Fatalf("%d panels drawn, want %d", len(panels), len(v.panels))
			}
			for i, p := range panels {
				api := html.UnescapeString(p[1])
				var res insights.Result
				if err := json.Unmarshal([]byte(wantStatus(t, get(t, h, "all", "/"+api), 200)), &res); err != nil {
					t.Fatal(err)
				}
				rows := map[string]string{}
				for _, r := range res.Rows {
					key := strings.Join(append([]string{r.Start.String(), r.Series}, r.Groups...), "|")
					rows[key] = strings.TrimSuffix(jsonOf(t, r.Value), ".0")
				}
				marks := markRE.FindAllStringSubmatch(p[2], -1)
				if len(marks) == 0 {
					t.Errorf("%s: no marks", v.panels[i].title)
				}
				series := map[string]bool{}
				for _, m := range marks {
					key, val := html.UnescapeString(m[1]), m[2]
					if want, ok := rows[key]; !ok || want != val {
						t.Errorf("%s: mark %q = %s, the API says %q (present %t)", v.panels[i].title, key, val, want, ok)
					}
					series[strings.Split(key, "|")[1]] = true
				}
				n := 0
				for _, r := range res.Rows {
					if series[r.Series] {
						n++
					}
				}
				if n != len(marks) {
					t.Errorf("%s: %d marks for %d rows of the series drawn", v.panels[i].title, len(marks), n)
				}
				if !strings.Contains(p[2], "dates in Europe/Paris") {
					t.Errorf("%s: no time-zone label", v.panels[i].title)
				}
			}
		})
	}
}

func TestIncompletePeriodsAreMarked(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	page := wantStatus(t, get(t, h, "all", "/users?from=2025-03-10&to=2025-03-21"), 200)
	dau := panelRE.FindStringSubmatch(page)[2]
	if !strings.Contains(dau, `class="point incomplete"`) || !strings.Contains(dau, `class="band"`) ||
		!strings.Contains(dau, `data-point="2025-03-20|"`) {
		t.Error("today's point is not marked incomplete")
	}
	if strings.Count(dau, "incomplete\"") != 1 {
		t.Error("a past day is marked incomplete")
	}
	past := wantStatus(t, get(t, h, "all", "/users?from=2025-03-01&to=2025-03-10"), 200)
	if strings.Contains(panelRE.FindStringSubmatch(past)[2], "incomplete") {
		t.Error("a past range is marked incomplete")
	}
}

var escaped = html.EscapeString(hostile)

func TestHostileValuesAreEscaped(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	// in the text, or in its tooltip when the text is shortened
	svgText := regexp.MustCompile(`<text [^>]*>((<title>[^<]*</title>)?` + regexp.QuoteMeta(escaped) + `|<title>[^<]*` +
		regexp.QuoteMeta(escaped) + `[^<]*</title>)[^<]*</text>`)
	for _, c := range []struct{ url, where string }{
		{"/users?from=2025-03-01&to=2025-03-21", "html"}, // in the legend and the columns' tooltips
		{"/mfa?from=2025-03-01&to=2025-03-21", "svg"},
		{"/authentications?from=2025-03-01&to=2025-03-21&app=" + url.QueryEscape(hostile), "option"},
		{"/signins?from=2025-03-01&to=2025-03-21&user=user07", "html"},
		{"/users?from=" + url.QueryEscape(hostile), "error"},
		{"/signins?ip=" + url.QueryEscape(hostile), "error"},
		{"/signins?cols=" + url.QueryEscape(hostile), "error"},
	} {
		b := body(t, get(t, h, "all", c.url))
		if strings.Contains(b, "<script>") {
			t.Errorf("%s: a <script> tag got through", c.url)
		}
		if !strings.Contains(b, escaped) {
			t.Errorf("%s: the hostile value is not shown escaped", c.url)
		}
		switch c.where {
		case "svg":
			if !svgText.MatchString(b) {
				t.Errorf("%s: no SVG text holds the escaped name", c.url)
			}
		case "option":
			if !strings.Contains(b, `<option value="`+escaped+`" selected>`+escaped+`</option>`) {
				t.Errorf("%s: the selected option is not escaped", c.url)
			}
		case "error":
			if !strings.Contains(b, `<p class="error" role="alert">`) {
				t.Errorf("%s: no error shown", c.url)
			}
		}
	}
}

func TestPageErrors(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct{ url, want string }{
		{"/users?from=2025-03-10&to=2025-03-01", "is after"},
		{"/users?from=2023-01-01&to=2025-03-01", "the dashboard shows at most 400"},
		{"/users?colour=red", `unknown parameter &#34;colour&#34;`},
		{"/signins?cursor=bad", "cursor"},
		{"/mfa?status=failure", "unknown parameter"},
	}
	for _, c := range cases {
		res := get(t, h, "all", c.url)
		b := wantStatus(t, res, 400)
		if !strings.Contains(b, c.want) || !strings.Contains(b, `class="error"`) {
			t.Errorf("%s: the page does not say %q", c.url, c.want)
		}
		if res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.url, res.Header.Get("Content-Type"))
		}
	}
}

func TestSignInsPageListsTheAPIsEntries(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	next := "/signins?from=2025-03-01&to=2025-03-21&status=failure&country=FR"
	for pageNo := 1; pageNo <= 2; pageNo++ {
		page := wantStatus(t, get(t, h, "signins", next), 200)
		api := html.UnescapeString(logRE.FindStringSubmatch(page)[1])
		var lp insights.LogPage
		if err := json.Unmarshal([]byte(wantStatus(t, get(t, h, "signins", "/"+api), 200)), &lp); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range entryRE.FindAllStringSubmatch(page, -1) {
			ids = append(ids, m[1])
		}
		var want []string
		for _, e := range lp.Entries {
			want = append(want, e.ID)
			if e.Status != insights.StatusFailure || e.Country != "FR" {
				t.Fatalf("entry %s does not match the filters", e.ID)
			}
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") || len(ids) == 0 {
			t.Fatalf("page %d: rows %v, API %v", pageNo, ids, want)
		}
		if strings.Count(page, `<aside class="detail" id="d`) != len(ids) || !strings.Contains(page, "<h4>Authentication details</h4>") {
			t.Errorf("page %d: a details panel per entry is missing", pageNo)
		}
		m := regexp.MustCompile(`<a href="([^"]*)">Older sign-ins</a>`).FindStringSubmatch(page)
		if m == nil {
			if pageNo == 1 {
				t.Fatal("no link to the next page")
			}
			break
		}
		next = "/" + html.UnescapeString(m[1])
		if !strings.Contains(next, "cursor=") || !strings.Contains(next, "status=failure") || !strings.Contains(next, "country=FR") {
			t.Errorf("the next page's link %q loses the filters", next)
		}
	}
}

func TestNavigationShowsOnlyAllowedViews(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	b := wantStatus(t, get(t, h, "aggregates", "/users"), 200)
	if strings.Contains(b, `href="signins`) {
		t.Error("the navigation links to the sign-in log without the permission")
	}
	b = wantStatus(t, get(t, h, "all", "/users?country=FR"), 200)
	if !strings.Contains(b, `href="signins?country=FR&amp;from=`) {
		t.Error("the navigation does not keep the filter bar's values")
	}
}

func TestAWrongRangeKeepsTheFilterBar(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	b := wantStatus(t, get(t, h, "all", "/authentications?from=2023-01-01&to=2025-03-01"), 400)
	for _, want := range []string{`name="from" value="2023-01-01"`, `name="to" value="2025-03-01"`,
		`href="authentications?from=2025-02-19&amp;to=2025-03-20">Last 30 days`} {
		if !strings.Contains(b, want) {
			t.Errorf("the page does not hold %s", want)
		}
	}
	if strings.Contains(b, "granularity") {
		t.Error("the page suggests a granularity it has no control for")
	}
}

func TestPagesTakeTheLastDayIncludedAndISODates(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	b := wantStatus(t, get(t, h, "all", "/users?from=2025-03-01&to=2025-03-19"), 200)
	for _, want := range []string{`name="to" value="2025-03-19" placeholder="YYYY-MM-DD"`,
		`data-query="api/query?from=2025-03-01&amp;metric=activeUsers&amp;to=2025-03-20"`,
		`href="signins?from=2025-03-01&amp;to=2025-03-19"`, `2025-03-01 to 2025-03-19`} {
		if !strings.Contains(b, want) {
			t.Errorf("the page does not hold %s", want)
		}
	}
	if strings.Contains(b, `type="date"`) || strings.Contains(b, "exclusive") {
		t.Error("the page uses the browser's date format or an exclusive end")
	}
	d := wantStatus(t, get(t, h, "all", "/users"), 200)
	if !strings.Contains(d, `name="to" value="2025-03-20"`) || !strings.Contains(d, `to=2025-03-20" aria-current="true">Last 30 days`) {
		t.Error("the default range does not end today, or Last 30 days is not current")
	}
}

func TestForbiddenPageIsAPage(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	res := get(t, h, "aggregates", "/signins?from=2025-03-01")
	wantForbidden(t, res)
	if b := body(t, get(t, h, "aggregates", "/signins")); !strings.Contains(b, `<a href="users">Users</a>`) || strings.Contains(b, `href="signins`) {
		t.Error("the 403 page does not lead to the allowed views only")
	}
}

func TestMonthlyPanelsCoverTwelveMonths(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, c := range []struct{ page, query string }{
		{"/users", `api/query?by=appName&amp;from=2024-04-01&amp;granularity=month&amp;metric=activeUsers&amp;other=true&amp;to=2025-04-01&amp;top=8`},
		{"/mfa", `api/query?from=2024-04-01&amp;granularity=month&amp;metric=mfaChallenges&amp;to=2025-04-01`},
	} {
		if b := wantStatus(t, get(t, h, "all", c.page), 200); !strings.Contains(b, `data-query="`+c.query+`"`) {
			t.Errorf("%s: no panel of %s", c.page, c.query)
		}
	}
}

// signInsOf returns the entries the sign-in log page at target lists,
// after checking they are those of the page's /api/signins query.
func signInsOf(t *testing.T, h http.Handler, target string) (string, []insights.LogEntry) {
	t.Helper()
	page := wantStatus(t, get(t, h, "signins", target), 200)
	var lp insights.LogPage
	api := html.UnescapeString(logRE.FindStringSubmatch(page)[1])
	if err := json.Unmarshal([]byte(wantStatus(t, get(t, h, "signins", "/"+api), 200)), &lp); err != nil {
		t.Fatal(err)
	}
	if n := len(entryRE.FindAllStringSubmatch(page, -1)); n != len(lp.Entries) {
		t.Fatalf("%s: %d rows, the API lists %d", target, n, len(lp.Entries))
	}
	return page, lp.Entries
}

func TestSignInLogFiltersAndTabs(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct {
		query string
		match func(insights.LogEntry) bool
	}{
		{"user=USER0", func(e insights.LogEntry) bool { return strings.HasPrefix(e.UserKey, "user0") }},
		{"user=user+1", func(e insights.LogEntry) bool { // a display name, not a key
			return strings.HasPrefix(e.UserDisplayName, "User 1") && !strings.HasPrefix(e.UserKey, "user 1")
		}},
		{"requestId=r-3-4", func(e insights.LogEntry) bool { return e.RequestID == "r-3-4" }},
		{"type=interactiveUser", func(e insights.LogEntry) bool { return e.SignInType == insights.SignInInteractiveUser }},
		{"status=failure", func(e insights.LogEntry) bool { return e.Status == insights.StatusFailure }},
	}
	for _, c := range cases {
		page, entries := signInsOf(t, h, "/signins?from=2025-03-01&"+c.query)
		if len(entries) == 0 {
			t.Errorf("%s: no sign-in", c.query)
		}
		for _, e := range entries {
			if !c.match(e) {
				t.Errorf("%s: entry %s does not match", c.query, e.ID)
			}
		}
		if strings.HasPrefix(c.query, "type=") && (!strings.Contains(page, `name="type" value="interactiveUser"`) ||
			!strings.Contains(page, `aria-current="page">Interactive user</a>`)) {
			t.Errorf("%s: the tab is not current, or the filter bar does not keep it", c.query)
		}
	}
	for _, q := range []string{"type=servicePrincipal", "ca=success"} { // the test's sign-ins have neither
		if _, none := signInsOf(t, h, "/signins?"+q); len(none) != 0 {
			t.Errorf("%s lists %d sign-ins", q, len(none))
		}
	}
	page, _ := signInsOf(t, h, "/signins")
	for _, tab := range []string{">All</a>", ">Interactive user</a>", ">Non-interactive user</a>", ">Service principal</a>", ">Managed identity</a>"} {
		if !strings.Contains(page, tab) {
			t.Errorf("no tab %s", tab)
		}
	}
	for _, f := range []string{`name="requestId"`, `name="correlationId"`, `name="clientApp"`, `name="ca"`} {
		if !strings.Contains(page, f) {
			t.Errorf("no filter %s", f)
		}
	}
}

func TestSignInColumnPicker(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	head := regexp.MustCompile(`<thead><tr>(.*?)</tr></thead>`)
	row := regexp.MustCompile(`<tr data-entry="[^"]*"[^>]*>(.*?)</tr>`)
	cases := []struct {
		name, query string
		heads       string
		link        string // what the tabs' and the pager's links keep
	}{
		{"the default", "", "<th>Date</th><th>User</th><th>Application</th><th>Status</th><th>IP address</th><th>Location</th>" +
			"<th>OS</th><th>Client app</th><th>Authentication</th><th>Conditional access</th>", ""},
		{"chosen, in the table's order", "cols=browser,ip", "<th>Date</th><th>IP address</th><th>Browser</th>", "cols=ip%2Cbrowser"},
		{"as the picker's checkboxes send them", "cols=browser&cols=userAgent&cols=ip", "<th>Date</th><th>IP address</th><th>Browser</th><th>User agent</th>",
			"cols=ip%2Cbrowser%2CuserAgent"},
		{"the default ones chosen: links need none", "cols=user,app,status,ip,location,os,clientApp,requirement,ca",
			"<th>Date</th><th>User</th><th>Application</th><th>Status</th><th>IP address</th><th>Location</th>" +
				"<th>OS</th><th>Client app</th><th>Authentication</th><th>Conditional access</th>", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, entries := signInsOf(t, h, "/signins?from=2025-03-01&"+c.query)
			heads := head.FindStringSubmatch(page)
			if heads == nil || heads[1] != c.heads {
				t.Fatalf("headings %q, want %q", heads, c.heads)
			}
			rows := row.FindAllStringSubmatch(page, -1)
			if len(rows) != len(entries) || len(entries) == 0 {
				t.Fatalf("%d rows, %d entries", len(rows), len(entries))
			}
			for i, r := range rows {
				if n, want := strings.Count(r[1], "<td"), strings.Count(c.heads, "<th>"); n != want {
					t.Fatalf("row %d has %d cells, want %d", i, n, want)
				}
				if !strings.Contains(r[1], ">"+entries[i].Time.Format("2006-01-02 15:04:05")+"</a></td>") {
					t.Fatalf("row %d does not open with its date: %s", i, r[1])
				}
			}
			for _, want := range []string{`href="signins?`, `form="filters" name="cols" value="ip"`} {
				if !strings.Contains(page, want) {
					t.Fatalf("no %s", want)
				}
			}
			links := regexp.MustCompile(`<a href="(signins\?[^"]*)"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(page, -1)
			if len(links) < 10 {
				t.Fatalf("%d links to the page", len(links))
			}
			for _, tab := range links {
				if tab[2] == "Default columns" {
					continue
				}
				if got := strings.Contains(tab[1], "cols="); got != (c.link != "") || c.link != "" && !strings.Contains(tab[1], c.link) {
					t.Errorf("link %s, want it to keep %q", tab[1], c.link)
				}
			}
			if ip := strings.Contains(page, `value="ip" checked`); ip != strings.Contains(c.heads, "IP address") {
				t.Errorf("the picker's IP address box is checked: %v", ip)
			}
			if def := strings.Contains(page, `">Default columns</a>`); def != (c.link != "") {
				t.Errorf("a link to the default columns: %v", def)
			}
		})
	}
	b := wantStatus(t, get(t, h, "signins", "/signins?cols=ip,nope"), 400)
	if !strings.Contains(b, `column &#34;nope&#34;: want some of requestId,`) {
		t.Errorf("an unknown column: %s", b)
	}
}
