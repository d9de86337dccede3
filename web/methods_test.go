package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

var (
	tileRE     = regexp.MustCompile(`<div class="tile" data-tile="(\w+)" data-registered="(\d+)" data-enabled="(\d+)" data-capable="(\d+)">`)
	usersRE    = regexp.MustCompile(`<div class="tile" data-tile="users" data-value="(\d+)">`)
	byMethodRE = regexp.MustCompile(`(?s)<section class="panel bymethod" data-summary="([^"]*)">(.*?)</section>`)
	regListRE  = regexp.MustCompile(`<section class="log registrations" data-query="([^"]*)">`)
	regRowRE   = regexp.MustCompile(`<tr data-user="([^"]*)">`)
	actListRE  = regexp.MustCompile(`<section class="log activity" data-query="([^"]*)">`)
	actRowRE   = regexp.MustCompile(`<tr data-activity="([^"]*)"`)
)

// testPolicy enables MFA for even users only and needs two SSPR methods.
func testPolicy() *insights.MethodPolicy {
	p := insights.DefaultMethodPolicy()
	p.SSPRRequired = 2
	p.MFAEnabled = func(key string) bool {
		n, err := strconv.Atoi(strings.TrimPrefix(key, "user"))
		return err == nil && n%2 == 0
	}
	return &p
}

// decode unmarshals the JSON body s into v.
func decode(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

func TestMethodsSummaryMatchesEngine(t *testing.T) {
	eng := testEngine(t)
	ctx := context.Background()
	for _, policy := range []*insights.MethodPolicy{nil, testPolicy()} {
		h := Handler(eng, &Options{Authorize: testAuthorize, MethodPolicy: policy})
		want, err := eng.SummarizeMethods(ctx, policy)
		if err != nil {
			t.Fatal(err)
		}
		if want.Users != 40 || want.ByMethod[hostile] == 0 {
			t.Fatalf("the test data has %d users with a method, %d with the hostile one", want.Users, want.ByMethod[hostile])
		}
		got := wantStatus(t, get(t, h, "aggregates", "/api/methods"), 200)
		if got != jsonOf(t, want)+"\n" {
			t.Errorf("policy %v: got %s\nwant %s", policy != nil, got, jsonOf(t, want))
		}
		page := wantStatus(t, get(t, h, "aggregates", "/methods"), 200)
		if m := usersRE.FindStringSubmatch(page); m == nil || m[1] != strconv.Itoa(want.Users) {
			t.Errorf("users tile %v, want %d", m, want.Users)
		}
		tiles := map[string]insights.CapabilityCounts{"mfa": want.MFA, "sspr": want.SSPR, "passwordless": want.Passwordless}
		found := tileRE.FindAllStringSubmatch(page, -1)
		if len(found) != 3 {
			t.Fatalf("%d tiles", len(found))
		}
		for _, m := range found {
			c := tiles[m[1]]
			if m[2] != strconv.Itoa(c.Registered) || m[3] != strconv.Itoa(c.Enabled) || m[4] != strconv.Itoa(c.Capable) {
				t.Errorf("tile %s: %v, the API says %+v", m[1], m[2:], c)
			}
		}
		bm := byMethodRE.FindStringSubmatch(page)
		if bm == nil || bm[1] != "api/methods" {
			t.Fatal("no users-by-method chart pointing at the API")
		}
		marks := markRE.FindAllStringSubmatch(bm[2], -1)
		if len(marks) != len(want.ByMethod) {
			t.Errorf("%d bars for %d methods", len(marks), len(want.ByMethod))
		}
		for _, m := range marks {
			key := strings.Split(html.UnescapeString(m[1]), "|")
			if n, ok := want.ByMethod[key[len(key)-1]]; !ok || strconv.Itoa(n) != m[2] {
				t.Errorf("bar %q = %s, the API says %d", m[1], m[2], n)
			}
		}
	}
	if p := testPolicy(); p.MFAEnabled("user01") {
		t.Fatal("the test policy enables every user")
	}
}

func TestRegistrationsMatchEngine(t *testing.T) {
	eng := testEngine(t)
	policy := testPolicy()
	h := Handler(eng, &Options{Authorize: testAuthorize, MethodPolicy: policy})
	ctx := context.Background()
	cases := []struct {
		name, params string
		q            insights.RegistrationQuery
	}{
		{"everyone", "", insights.RegistrationQuery{}},
		{"user prefix", "user=user1", insights.RegistrationQuery{UserSearch: "user1"}},
		{"a key in another case", "user=USER2", insights.RegistrationQuery{UserSearch: "USER2"}},
		{"a display name, case ignored", "user=" + url.QueryEscape("user 1"), insights.RegistrationQuery{UserSearch: "user 1"}},
		{"method", "method=Email", insights.RegistrationQuery{Method: "Email"}},
		{"hostile method", "method=" + url.QueryEscape(hostile), insights.RegistrationQuery{Method: hostile}},
		{"flag", "flag=mfaNotCapable", insights.RegistrationQuery{Filter: func(d insights.RegistrationDetail) bool { return !d.MFA.Capable }}},
		{"all three", "user=user2&method=Passkey&flag=passwordlessCapable", insights.RegistrationQuery{UserSearch: "user2", Method: "Passkey",
			Filter: func(d insights.RegistrationDetail) bool { return d.Passwordless.Capable }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Policy = policy
			want, err := eng.RegistrationDetails(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 2 {
				t.Fatalf("the case has %d rows: it pages nothing", len(want))
			}
			keys := make([]string, len(want))
			for i, w := range want {
				keys[i] = w.UserKey
			}
			names, err := eng.DisplayNames(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			var wantRows []registrationRow
			for _, w := range want {
				wantRows = append(wantRows, registrationRow{w, names[w.UserKey]})
			}
			if c.name == "a display name, case ignored" && strings.HasPrefix(strings.ToLower(want[0].UserKey), "user 1") {
				t.Fatal("the display-name case finds users by key")
			}
			var got []registrationRow
			after := ""
			for range len(want) {
				var page registrationPage
				decode(t, wantStatus(t, get(t, h, "signins", "/api/registrations?limit=3&"+c.params+"&after="+url.QueryEscape(after)), 200), &page)
				if page.Total != len(want) || len(page.Users) > 3 {
					t.Fatalf("page of %d rows, total %d; want at most 3 of %d", len(page.Users), page.Total, len(want))
				}
				got = append(got, page.Users...)
				if after = page.Next; after == "" {
					break
				}
			}
			if jsonOf(t, got) != jsonOf(t, wantRows) || len(names) == 0 {
				t.Errorf("pages hold\n%s\nthe engine says\n%s", jsonOf(t, got), jsonOf(t, wantRows))
			}
			var csv bytes.Buffer
			if err := export.RegistrationsCSV(&csv, want, names, &export.CSVOptions{Excel: true}); err != nil {
				t.Fatal(err)
			}
			res := get(t, h, "signins", "/api/registrations?format=csv&excel=true&limit=1&"+c.params)
			if b := wantStatus(t, res, 200); b != csv.String() {
				t.Errorf("CSV\n%s\nwant\n%s", b, csv.String())
			}
			if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(res.Header.Get("Content-Disposition"), "registrations.csv") {
				t.Errorf("headers %v", res.Header)
			}
		})
	}
	b := wantStatus(t, get(t, h, "signins", "/api/registrations?user=nobody"), 200)
	if b != `{"total":0,"users":[]}`+"\n" {
		t.Errorf("no match: %s", b)
	}
	if b := wantStatus(t, get(t, h, "signins", "/api/registrations?method="+url.QueryEscape(hostile)), 200); strings.Contains(b, hostile) {
		t.Error("a hostile method is not escaped in JSON")
	}
}

func TestMethodActivityMatchesEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	ctx := context.Background()
	filter := `method = "Text message" or status = failure`
	q := insights.LogQuery{From: date(1), To: date(21), Limit: 4, Filter: mustFilter(t, filter)}
	base := "/api/methodactivity?from=2025-03-01&to=2025-03-21&limit=4&filter=" + url.QueryEscape(filter)
	var all []insights.LogEntry
	cursor := ""
	for n := 0; ; n++ {
		q.Cursor = cursor
		want, err := eng.MethodActivity(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got := wantStatus(t, get(t, h, "signins", base+"&cursor="+url.QueryEscape(cursor)), 200)
		if got != jsonOf(t, want)+"\n" {
			t.Fatalf("page %d: got %s\nwant %s", n, got, jsonOf(t, want))
		}
		for _, e := range want.Entries {
			if e.Kind != insights.KindRegistration && e.Kind != insights.KindReset || e.Action == insights.ActionSnapshot {
				t.Fatalf("entry %s is a %s %s", e.ID, e.Kind, e.Action)
			}
		}
		all = append(all, want.Entries...)
		if cursor = want.Next; cursor == "" {
			break
		}
	}
	if len(all) < 20 {
		t.Fatalf("%d entries: the case checks little", len(all))
	}
	var csv bytes.Buffer
	if err := export.LogCSV(&csv, &pages{entries: all}, nil); err != nil {
		t.Fatal(err)
	}
	res := get(t, h, "signins", base+"&format=csv")
	if got := wantStatus(t, res, 200); got != csv.String() {
		t.Errorf("CSV: got %d bytes, want %d", len(got), csv.Len())
	}
	if !strings.Contains(res.Header.Get("Content-Disposition"), "methodactivity.csv") {
		t.Errorf("headers %v", res.Header)
	}
}

func TestMethodRoutesAuthorization(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct {
		perms, url string
		status     int
	}{
		{"", "/api/methods", 401},
		{"", "/api/registrations", 401},
		{"none", "/api/methodactivity", 401},
		{"", "/methods", 401},
		{"aggregates", "/methods", 200},
		{"aggregates", "/api/methods", 200},
		{"aggregates", "/registrations", 403},
		{"aggregates", "/api/registrations", 403},
		{"aggregates", "/api/methodactivity", 403},
		{"signins", "/methods", 403},
		{"signins", "/api/methods", 403},
		{"signins", "/registrations", 200},
		{"signins", "/api/registrations", 200},
		{"signins", "/api/methodactivity", 200},
	}
	for _, c := range cases {
		res := get(t, h, c.perms, c.url)
		switch c.status {
		case 200:
			wantStatus(t, res, 200)
		case 401:
			wantError(t, res, 401, "unauthorized")
		case 403:
			wantForbidden(t, res)
		}
	}
	b := wantStatus(t, get(t, h, "aggregates", "/methods"), 200)
	if strings.Contains(b, `href="registrations`) || !strings.Contains(b, `href="methods?`) {
		t.Error("the navigation of a counts-only viewer links to the lists, or not to the methods view")
	}
}

func TestBadMethodRequestsAre400(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct{ url, want string }{
		{"/api/methods?from=2025-03-01", `unknown parameter "from"; known: none`},
		{"/api/registrations?flag=capable", `flag "capable": want one of mfaRegistered, mfaNotRegistered`},
		{"/api/registrations?flag=passwordlessEnabled", `flag "passwordlessEnabled"`},
		{"/api/registrations?limit=0", `limit "0"`},
		{"/api/registrations?limit=1001", `limit "1001"`},
		{"/api/registrations?format=xml", `format "xml"`},
		{"/api/registrations?cursor=x", `unknown parameter "cursor"`},
		{"/api/registrations?user=a&user=b", `"user" given 2 times`},
		{"/api/methodactivity?cursor=nope", "cursor"},
		{"/api/methodactivity?filter=" + url.QueryEscape("method = "), "filter"},
		{"/api/methodactivity?from=2025-03-10&to=2025-03-01", "not before"},
		{"/api/methodactivity?flag=mfaCapable", `unknown parameter "flag"`},
	}
	for _, c := range cases {
		wantError(t, get(t, h, "all", c.url), 400, c.want)
	}
	for _, c := range []struct{ url, want string }{
		{"/methods?country=FR", "unknown parameter &#34;country&#34;"},
		{"/methods?user=x", "unknown parameter &#34;user&#34;"},
		{"/registrations?flag=x", "flag &#34;x&#34;"},
		{"/registrations?cursor=nope", "cursor"},
		{"/registrations?app=Mail", "unknown parameter &#34;app&#34;"},
	} {
		b := wantStatus(t, get(t, h, "all", c.url), 400)
		if !strings.Contains(b, c.want) || !strings.Contains(b, `class="error"`) {
			t.Errorf("%s: the page does not say %q", c.url, c.want)
		}
	}
}

func TestRegistrationsPageListsTheAPIs(t *testing.T) {
	h := Handler(testEngine(t), &Options{Authorize: testAuthorize, MethodPolicy: testPolicy()})
	first := "/registrations?from=2025-03-01&to=2025-03-21&method=Email"
	var firstRows []string
	for _, u := range []string{first, ""} {
		if u == "" { // the second page: after the first row (the pages hold 50)
			u = first + "&after=" + url.QueryEscape(firstRows[0])
		}
		page := wantStatus(t, get(t, h, "signins", u), 200)
		var rp registrationPage
		decode(t, wantStatus(t, get(t, h, "signins", "/"+html.UnescapeString(regListRE.FindStringSubmatch(page)[1])), 200), &rp)
		var rows, want []string
		for _, m := range regRowRE.FindAllStringSubmatch(page, -1) {
			rows = append(rows, html.UnescapeString(m[1]))
		}
		for _, u := range rp.Users {
			want = append(want, u.UserKey)
			if !strings.Contains(jsonOf(t, u.Methods), `"Email"`) {
				t.Errorf("user %s listed without Email", u.UserKey)
			}
		}
		if len(rows) == 0 || strings.Join(rows, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: rows %v, API %v", u, rows, want)
		}
		var lp insights.LogPage
		decode(t, wantStatus(t, get(t, h, "signins", "/"+html.UnescapeString(actListRE.FindStringSubmatch(page)[1])), 200), &lp)
		var acts, wantActs []string
		for _, m := range actRowRE.FindAllStringSubmatch(page, -1) {
			acts = append(acts, m[1])
		}
		for _, e := range lp.Entries {
			wantActs = append(wantActs, e.ID)
			if e.Method != "Email" {
				t.Errorf("event %s: method %q", e.ID, e.Method)
			}
		}
		if len(acts) == 0 || strings.Join(acts, ",") != strings.Join(wantActs, ",") {
			t.Fatalf("%s: events %v, API %v", u, acts, wantActs)
		}
		if firstRows == nil {
			firstRows = rows
			continue
		}
		if strings.Join(rows, ",") != strings.Join(firstRows[1:], ",") || !strings.Contains(page, "of "+strconv.Itoa(len(firstRows))) {
			t.Errorf("after the first user: %v, want %v and the total", rows, firstRows[1:])
		}
		m := regexp.MustCompile(`<a href="([^"]*)">First users</a>`).FindStringSubmatch(page)
		if m == nil || strings.Contains(m[1], "after=") || !strings.Contains(m[1], "method=Email") {
			t.Errorf("the first page's link %v drops the parameters or keeps after", m)
		}
	}
}

func TestHostileMethodsAreEscaped(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	svgText := regexp.MustCompile(`<text [^>]*>(<title>[^<]*</title>)?` + regexp.QuoteMeta(escaped) + `[^<]*</text>`)
	for _, c := range []struct{ url, where string }{
		{"/methods?from=2025-03-01&to=2025-03-21", "svg"},
		{"/registrations?from=2025-03-01&to=2025-03-21&method=" + url.QueryEscape(hostile), "option"},
		{"/registrations?from=2025-03-01&to=2025-03-21&user=user07", "cell"},
		{"/registrations?user=" + url.QueryEscape(hostile), "input"},
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
			if !svgText.MatchString(byMethodRE.FindString(b)) {
				t.Errorf("%s: no SVG text of the users-by-method chart holds the escaped name", c.url)
			}
		case "option":
			if !strings.Contains(b, `<option value="`+escaped+`" selected>`+escaped+`</option>`) {
				t.Errorf("%s: the selected option is not escaped", c.url)
			}
		case "cell":
			if !strings.Contains(b, "<td>"+escaped+", Email</td>") {
				t.Errorf("%s: the methods cell is not escaped", c.url)
			}
			if !strings.Contains(b, "<td>user07</td><td>"+escaped+"</td>") { // the name of user07's sign-ins
				t.Errorf("%s: the display name cell is not escaped", c.url)
			}
		case "input":
			if !strings.Contains(b, `name="user" value="`+escaped+`"`) {
				t.Errorf("%s: the search box does not hold the escaped value", c.url)
			}
		}
	}
}

func TestMethodTilesLeadToTheUsersTheyCount(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	page := wantStatus(t, get(t, h, "all", "/methods?from=2025-03-01&to=2025-03-20"), 200)
	m := regexp.MustCompile(`data-tile="mfa" data-registered="\d+" data-enabled="\d+" data-capable="(\d+)">\s*<h2>[^<]*</h2><p class="big"><a href="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the MFA tile does not link to its users")
	}
	list := wantStatus(t, get(t, h, "all", "/"+html.UnescapeString(m[2])), 200)
	total := regexp.MustCompile(`of (\d+)</p>|(\d+) users</p>`).FindStringSubmatch(list)
	if !strings.Contains(list, `<option value="mfaCapable" selected>Capable of MFA</option>`) || total == nil || total[1]+total[2] != m[1] {
		t.Errorf("the MFA tile's %s users lead to a list of %v, pre-filtered: %t", m[1], total, strings.Contains(list, `value="mfaCapable" selected`))
	}
	for _, want := range []string{`<option value="mfaNotCapable">Not capable of MFA</option>`, `<option value="ssprRegistered">Registered for SSPR</option>`} {
		if !strings.Contains(list, want) {
			t.Errorf("the capability select lacks %s", want)
		}
	}
	if b := wantStatus(t, get(t, h, "all", "/users"), 200); !strings.Contains(b, `<option value="FR">France</option>`) {
		t.Error("the country select shows codes")
	}
}

// TestRegistrationsPageSearchIgnoresCase: the page's search finds users
// and events by the start of a key or display name in any case, as the
// sign-in log's, and shows the users' display names.
func TestRegistrationsPageSearchIgnoresCase(t *testing.T) {
	eng := testEngine(t)
	h := Handler(eng, &Options{Authorize: testAuthorize, MethodPolicy: testPolicy()})
	for _, search := range []string{"USER2", "user 25", "uSeR3"} {
		page := wantStatus(t, get(t, h, "signins", "/registrations?from=2025-03-01&to=2025-03-21&user="+url.QueryEscape(search)), 200)
		want, err := eng.RegistrationDetails(context.Background(), insights.RegistrationQuery{Policy: testPolicy(), UserSearch: search})
		if err != nil {
			t.Fatal(err)
		}
		var rows, wantRows []string
		for _, m := range regRowRE.FindAllStringSubmatch(page, -1) {
			rows = append(rows, html.UnescapeString(m[1]))
		}
		for _, w := range want {
			wantRows = append(wantRows, w.UserKey)
		}
		if len(rows) == 0 || strings.Join(rows, ",") != strings.Join(wantRows, ",") {
			t.Errorf("%q: rows %v, want %v", search, rows, wantRows)
		}
		names, err := eng.DisplayNames(context.Background(), rows[:1])
		if err != nil {
			t.Fatal(err)
		}
		if name := names[rows[0]]; name == "" || !strings.Contains(page, "<td>"+html.EscapeString(name)+"</td>") {
			t.Errorf("%q: no display name %q of %s in the page", search, name, rows[0])
		}
		var lp insights.LogPage
		decode(t, wantStatus(t, get(t, h, "signins", "/"+html.UnescapeString(actListRE.FindStringSubmatch(page)[1])), 200), &lp)
		if len(lp.Entries) == 0 || len(actRowRE.FindAllStringSubmatch(page, -1)) != len(lp.Entries) {
			t.Errorf("%q: %d events in the API, %d in the page", search, len(lp.Entries), len(actRowRE.FindAllStringSubmatch(page, -1)))
		}
		for _, e := range lp.Entries {
			if !strings.HasPrefix(strings.ToLower(e.UserKey), strings.ToLower(search)) &&
				!strings.HasPrefix(strings.ToLower(e.UserDisplayName), strings.ToLower(search)) {
				t.Errorf("%q: event of %s (%s)", search, e.UserKey, e.UserDisplayName)
			}
		}
	}
}
