package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
	"github.com/insightslab/insights/store"
)

// addAttacks adds two attacks to eng: a brute force on user07 (whose
// display name is hostile) on 2025-03-18, 12 wrong passwords in 6
// minutes then a success, and an MFA-fatigue burst on user12 on
// 2025-03-19, 6 denied pushes then an approval.
func addAttacks(t testing.TB, eng *insights.Engine) {
	t.Helper()
	paris := eng.Zone()
	var evs []insights.Event
	brute := time.Date(2025, 3, 18, 23, 0, 0, 0, paris)
	for i := range 13 {
		e := insights.Event{Time: brute.Add(time.Duration(i) * 30 * time.Second), Kind: insights.KindSignIn, UserKey: "user07",
			UserDisplayName: hostile, AppID: "app-1", AppName: "Mail", IP: "203.0.113.7", ErrorCode: 50126,
			RequestID: fmt.Sprintf("brute-%d", i)}
		if i == 12 {
			e.Time, e.ErrorCode = brute.Add(20*time.Minute), 0
		}
		evs = append(evs, e)
	}
	fatigue := time.Date(2025, 3, 19, 22, 0, 0, 0, paris)
	for i := range 7 {
		t := fatigue.Add(time.Duration(i) * 5 * time.Minute)
		mfa := insights.AuthStep{Method: "Mobile app notification", Requirement: insights.RequirementMultiFactor,
			ResultDetail: "MFA denied; user declined the authentication"}
		e := insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: "user12", AppID: "app-2", AppName: "Portal",
			IP: "192.0.2.12", ErrorCode: 500121, RequestID: fmt.Sprintf("fatigue-%d", i)}
		if i == 6 {
			mfa.Succeeded, mfa.ResultDetail, e.ErrorCode = true, "", 0
		}
		e.AuthDetails = []insights.AuthStep{{Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}, mfa}
		evs = append(evs, e)
	}
	if err := eng.Add(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
}

// getJSON answers GET target with perms, requires 200 and decodes into v.
func getJSON(t testing.TB, h http.Handler, perms, target string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(wantStatus(t, get(t, h, perms, target), 200)), v); err != nil {
		t.Fatal(err)
	}
}

// asJSON is v's JSON, to compare what went through the API with the
// engine's values (times decoded from JSON lose their zone's name).
func asJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ofType returns the detections of type typ in ds.
func ofType(ds []insights.Detection, typ insights.DetectionType) []insights.Detection {
	var out []insights.Detection
	for _, d := range ds {
		if d.Type == typ {
			out = append(out, d)
		}
	}
	return out
}

func TestDetectionsMatchEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	ctx := context.Background()
	var all insights.DetectionPage
	getJSON(t, h, "signins", "/api/detections?limit=1000", &all)
	if b := ofType(all.Detections, insights.DetectBruteForce); len(b) != 1 || b[0].UserKey != "user07" || b[0].Level != insights.RiskHigh {
		t.Fatalf("brute-force detections %+v, want one high on user07", b)
	}
	if f := ofType(all.Detections, insights.DetectMFAFatigue); len(f) != 1 || f[0].UserKey != "user12" || f[0].Level != insights.RiskHigh {
		t.Fatalf("MFA-fatigue detections %+v, want one high on user12", f)
	}
	for _, c := range []struct {
		url string
		q   insights.DetectionQuery
	}{
		{"/api/detections", insights.DetectionQuery{}},
		{"/api/detections?type=bruteForce,mfaFatigue&level=high", insights.DetectionQuery{
			Types: []insights.DetectionType{insights.DetectBruteForce, insights.DetectMFAFatigue}, Levels: []string{"high"}}},
		{"/api/detections?user=user12", insights.DetectionQuery{UserKey: "user12"}},
		{"/api/detections?from=2025-03-19&to=2025-03-20", insights.DetectionQuery{
			From: insights.NewDate(2025, 3, 19), To: insights.NewDate(2025, 3, 20)}},
		{"/api/detections?from=2025-03-18&to=2025-03-19&type=mfaFatigue", insights.DetectionQuery{
			From: insights.NewDate(2025, 3, 18), To: insights.NewDate(2025, 3, 19), Types: []insights.DetectionType{insights.DetectMFAFatigue}}},
	} {
		var got insights.DetectionPage
		getJSON(t, h, "signins", c.url, &got)
		want, err := eng.Detections(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := asJSON(t, got.Detections), asJSON(t, want.Detections); g != w || got.Next != want.Next {
			t.Errorf("%s:\n%s\nthe engine's:\n%s", c.url, g, w)
		}
	}
	// Pages of one follow each other to the whole list.
	var paged []insights.Detection
	for next := "/api/detections?limit=1"; ; {
		var p insights.DetectionPage
		getJSON(t, h, "signins", next, &p)
		paged = append(paged, p.Detections...)
		if p.Next == "" {
			break
		}
		next = "/api/detections?limit=1&cursor=" + p.Next
	}
	if asJSON(t, paged) != asJSON(t, all.Detections) || len(paged) < 2 {
		t.Errorf("pages of one: %d detections, the whole list %d", len(paged), len(all.Detections))
	}
	// The CSV, read a page of one at a time, is export's of the whole list.
	var want bytes.Buffer
	if err := export.DetectionsCSV(&want, export.DetectionList(all.Detections), &export.CSVOptions{Excel: true}); err != nil {
		t.Fatal(err)
	}
	res := get(t, h, "signins", "/api/detections?format=csv&excel=true&limit=1")
	if got := wantStatus(t, res, 200); got != want.String() || res.Header.Get("Content-Disposition") != `attachment; filename="detections.csv"` {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want.String())
	}
}

func TestRiskyUsersAndEvidenceMatchEngine(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	ctx := context.Background()
	for _, c := range []struct {
		url string
		q   insights.RiskyUserQuery
	}{
		{"/api/riskyusers", insights.RiskyUserQuery{}},
		{"/api/riskyusers?level=high&state=atRisk,remediated", insights.RiskyUserQuery{Levels: []string{"high"},
			States: []string{"atRisk", "remediated"}}},
		{"/api/riskyusers?user=USER0", insights.RiskyUserQuery{UserSearch: "USER0"}},
	} {
		var got insights.RiskyUserPage
		getJSON(t, h, "signins", c.url, &got)
		want, err := eng.RiskyUsers(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := asJSON(t, got.Users), asJSON(t, want.Users); g != w {
			t.Errorf("%s:\n%s\nthe engine's:\n%s", c.url, g, w)
		}
	}
	var users insights.RiskyUserPage
	getJSON(t, h, "signins", "/api/riskyusers", &users)
	if !slices.ContainsFunc(users.Users, func(u insights.RiskyUser) bool { return u.UserKey == "user07" }) ||
		!slices.ContainsFunc(users.Users, func(u insights.RiskyUser) bool { return u.UserKey == "user12" }) {
		t.Errorf("risky users %+v lack user07 or user12", users.Users)
	}
	var dets insights.DetectionPage
	getJSON(t, h, "signins", "/api/detections?type=bruteForce", &dets)
	ids := dets.Detections[0].Evidence
	var ev struct{ Entries []insights.LogEntry }
	getJSON(t, h, "signins", "/api/evidence?ids="+strings.Join(ids, ","), &ev)
	want, err := eng.EntriesByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if asJSON(t, ev.Entries) != asJSON(t, want) || len(want) != len(ids) {
		t.Errorf("evidence: %d entries, the engine's %d of %d ids", len(ev.Entries), len(want), len(ids))
	}
	for _, e := range ev.Entries {
		if e.UserKey != "user07" {
			t.Errorf("evidence entry %s of %s", e.ID, e.UserKey)
		}
	}
	wantError(t, get(t, h, "signins", "/api/evidence?ids=not-an-id"), 400, "")
}

func TestRiskStateDismissesAUser(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	res := post(t, h, "admin", "/api/riskstate", "application/json; charset=utf-8", `{"userKey":"user07","state":"dismissed"}`)
	if got := wantStatus(t, res, 200); got != `{"userKey":"user07","state":"dismissed"}`+"\n" {
		t.Errorf("answer %s", got)
	}
	var users insights.RiskyUserPage
	getJSON(t, h, "signins", "/api/riskyusers?state=dismissed", &users)
	if len(users.Users) != 1 || users.Users[0].UserKey != "user07" {
		t.Errorf("dismissed users %+v, want user07", users.Users)
	}

	// A read-only engine on the same store cannot record it.
	ctx := context.Background()
	st := store.NewMemory()
	w, err := insights.Open(ctx, st, &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	addAttacks(t, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := insights.Open(ctx, st, &insights.Options{Zone: "Europe/Paris", ReadOnly: true, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	roh, _ := testHandler(ro)
	wantError(t, post(t, roh, "admin", "/api/riskstate", "application/json", `{"userKey":"user07","state":"confirmedCompromised"}`),
		http.StatusConflict, "read-only")
}

var (
	detectionRE = regexp.MustCompile(`<tr data-detection="([^"]*)"`)
	riskyUserRE = regexp.MustCompile(`<tr data-user="([^"]*)" class="level-`)
	evidenceRE  = regexp.MustCompile(`<section class="log evidence" id="evidence" data-query="([^"]*)"`)
)

func TestRiskPageListsTheAPIsDetections(t *testing.T) {
	eng := testEngine(t)
	h, _ := testHandler(eng)
	page := wantStatus(t, get(t, h, "signins", "/risk?from=2025-03-01&to=2025-03-20"), 200)
	var api insights.DetectionPage
	getJSON(t, h, "signins", "/api/detections?from=2025-03-01&to=2025-03-21&limit=50", &api)
	var ids, want []string
	for _, m := range detectionRE.FindAllStringSubmatch(page, -1) {
		ids = append(ids, html.UnescapeString(m[1]))
	}
	for _, d := range api.Detections {
		want = append(want, d.ID)
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") || len(ids) < 2 {
		t.Fatalf("rows %v, API %v", ids, want)
	}
	for _, l := range []string{">Brute force<", ">MFA fatigue<", ">High<", "<h2>Risky users</h2>"} {
		if !strings.Contains(page, l) {
			t.Errorf("the page lacks %q", l)
		}
	}
	var users insights.RiskyUserPage
	getJSON(t, h, "signins", "/api/riskyusers?limit=50", &users)
	var rows, wantUsers []string
	for _, m := range riskyUserRE.FindAllStringSubmatch(page, -1) {
		rows = append(rows, html.UnescapeString(m[1]))
	}
	for _, u := range users.Users {
		wantUsers = append(wantUsers, u.UserKey)
	}
	if strings.Join(rows, ",") != strings.Join(wantUsers, ",") || len(rows) == 0 {
		t.Errorf("risky user rows %v, API %v", rows, wantUsers)
	}
	if strings.Contains(page, hostile) {
		t.Error("a hostile value reached the page unescaped")
	}

	// Filters narrow the list; a detection's link opens its evidence.
	page = wantStatus(t, get(t, h, "signins", "/risk?from=2025-03-01&to=2025-03-20&type=bruteForce"), 200)
	if m := detectionRE.FindAllStringSubmatch(page, -1); len(m) != 1 {
		t.Fatalf("%d rows of type bruteForce, want 1", len(m))
	}
	link := regexp.MustCompile(`<td><a href="([^"]*)">`).FindStringSubmatch(page)
	if link == nil || !strings.Contains(link[1], "detection=") || !strings.Contains(link[1], "type=bruteForce") {
		t.Fatalf("the detection's link %v", link)
	}
	target, _, _ := strings.Cut(html.UnescapeString(link[1]), "#")
	page = wantStatus(t, get(t, h, "signins", "/"+target), 200)
	m := evidenceRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no evidence section")
	}
	var ev struct{ Entries []insights.LogEntry }
	getJSON(t, h, "signins", "/"+html.UnescapeString(m[1]), &ev)
	var shown []string
	for _, m := range entryRE.FindAllStringSubmatch(page, -1) {
		shown = append(shown, m[1])
	}
	var wantEv []string
	for _, e := range ev.Entries {
		wantEv = append(wantEv, e.ID)
	}
	if strings.Join(shown, ",") != strings.Join(wantEv, ",") || len(shown) < 10 {
		t.Errorf("evidence rows %v, API %v", shown, wantEv)
	}
	if strings.Contains(page, hostile) || !strings.Contains(page, html.EscapeString(hostile)) {
		t.Error("the evidence's hostile display name is not shown escaped")
	}
	// A detection not on the page says so.
	page = wantStatus(t, get(t, h, "signins", "/risk?detection=nope"), 200)
	if !strings.Contains(page, "not on this page") {
		t.Error("an unknown detection is not reported")
	}
}

// The sign-in log's computed-risk column shows the level of the
// detections an entry is evidence of.
func TestSignInLogShowsComputedRisk(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	page := wantStatus(t, get(t, h, "signins", "/signins?from=2025-03-18&to=2025-03-18&user=user07&cols=user,computedRisk"), 200)
	if n := strings.Count(page, `<td class="c-computedRisk">High</td>`); n != 13 {
		t.Errorf("%d sign-ins of user07 at high computed risk, want the brute force's 13", n)
	}
}
