package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// hostile is an app name, a display name and a policy name an attacker chose.
const hostile = `<script>alert(1)</script>`

// clock is the tests' present: 2025-03-20 12:00 in Paris.
var clock = time.Date(2025, 3, 20, 11, 0, 0, 0, time.UTC)

// testEngine returns an engine holding three weeks of sign-ins by 40
// users with failures, MFA steps, conditional-access policies, a sign-up
// a day, an app, a display name and a policy named hostile, and two
// attacks that risk detection finds (addAttacks).
func testEngine(t testing.TB) *insights.Engine {
	t.Helper()
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	paris := eng.Zone()
	apps := []string{"Portal", "Mail", hostile}
	oses := []string{"Windows 10", "iOS 17", "Android 14", "MacOs"}
	countries := []string{"FR", "US", "DE"}
	mfa := []string{"Text message", "Mobile app notification"}
	var evs []insights.Event
	for d := 1; d <= 20; d++ {
		for u := range 40 {
			if (u+d)%3 == 0 && u%5 != 0 {
				continue
			}
			e := insights.Event{
				Time: time.Date(2025, 3, d, 8+u%10, u, 0, 0, paris), Kind: insights.KindSignIn,
				UserKey: fmt.Sprintf("user%02d", u), UserDisplayName: fmt.Sprintf("User %d", u),
				AppID: fmt.Sprintf("app-%d", (u+d)%3), AppName: apps[(u+d)%3], OS: oses[u%4], Country: countries[u%3],
				Language: "en", IdentityProvider: []string{"Local", "Google"}[u%2],
				IP: fmt.Sprintf("198.51.100.%d", u), City: "Paris", RequestID: fmt.Sprintf("r-%d-%d", d, u),
				AuthDetails: []insights.AuthStep{{Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}},
				CAPolicies:  []insights.PolicyResult{{Name: "Require MFA", Result: "success"}},
			}
			if u%4 == 0 {
				e.AuthDetails = append(e.AuthDetails, insights.AuthStep{Method: mfa[d%2], Succeeded: d%5 != 0,
					ResultDetail: "MFA denied; user declined", Requirement: insights.RequirementMultiFactor})
				e.MFAPolicies = []string{"Require MFA"}
				if d%5 == 0 {
					e.ErrorCode = 500121
				}
			}
			if u == 7 {
				e.UserDisplayName = hostile
				e.CAPolicies = append(e.CAPolicies, insights.PolicyResult{Name: hostile, Result: "failure"})
			}
			if (u*d)%11 == 0 {
				e.ErrorCode = 50126
			}
			evs = append(evs, e)
		}
		evs = append(evs, insights.Event{Time: time.Date(2025, 3, d, 7, 0, 0, 0, paris), Kind: insights.KindSignUp,
			UserKey: fmt.Sprintf("new%02d", d), AppName: "Portal", OS: "iOS 17", Country: "FR"})
	}
	if err := eng.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	addRegistrations(t, eng)
	addAttacks(t, eng)
	return eng
}

// addRegistrations gives eng a registration snapshot of users 0 to 19
// (user07 with a method named hostile), registration events of users 20
// to 39 (added, removed, failed) and daily resets and unlocks, some failed.
func addRegistrations(t testing.TB, eng *insights.Engine) {
	t.Helper()
	ctx := context.Background()
	paris := eng.Zone()
	sets := [][]string{{"Microsoft Authenticator", "Email"}, {"Text message"}, {"FIDO2 security key", "Email", "Text message"}, {"Email"}}
	var snapshot []insights.RegisteredMethods
	for u := range 20 {
		ms := sets[u%4]
		if u == 7 {
			ms = []string{"Email", hostile}
		}
		snapshot = append(snapshot, insights.RegisteredMethods{UserKey: fmt.Sprintf("user%02d", u), Methods: ms})
	}
	if err := eng.ImportRegistrations(ctx, time.Date(2025, 2, 1, 0, 0, 0, 0, paris), snapshot); err != nil {
		t.Fatal(err)
	}
	methods := []string{"Microsoft Authenticator", "Text message", "Passkey", hostile}
	var evs []insights.Event
	for d := 1; d <= 20; d++ {
		for u := 20; u < 40; u++ {
			if (u+d)%7 != 0 {
				continue
			}
			e := insights.Event{Time: time.Date(2025, 3, d, 10, u, 0, 0, paris), Kind: insights.KindRegistration,
				UserKey: fmt.Sprintf("user%02d", u), UserDisplayName: fmt.Sprintf("User %d", u), Method: methods[(u+d)%4],
				Action: insights.ActionRegistered, RequestID: fmt.Sprintf("reg-%d-%d", d, u)}
			switch {
			case d%5 == 0:
				e.Status, e.Reason = insights.StatusFailure, "Verification code expired"
			case d > 14 && u%3 == 0:
				e.Action = insights.ActionRemoved
			}
			evs = append(evs, e)
		}
		for n := range 3 {
			u := (d*3 + n) % 40
			e := insights.Event{Time: time.Date(2025, 3, d, 14, n, 0, 0, paris), Kind: insights.KindReset,
				UserKey: fmt.Sprintf("user%02d", u), Method: []string{"Email", "Text message"}[n%2],
				Action: insights.ActionPasswordReset, RequestID: fmt.Sprintf("reset-%d-%d", d, n)}
			if n == 2 {
				e.Action = insights.ActionAccountUnlock
			}
			if (d+n)%4 == 0 {
				e.Status, e.Reason = insights.StatusFailure, []string{"User did not verify", hostile}[d%2]
			}
			evs = append(evs, e)
		}
	}
	if err := eng.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
}

// permsHeader carries the test's permissions to the test's hook.
const permsHeader = "X-Test-Perms"

// testAuthorize grants what the request's X-Test-Perms says: "all",
// "aggregates", "signins", "none"; no header is an error.
func testAuthorize(r *http.Request) (Permissions, error) {
	switch r.Header.Get(permsHeader) {
	case "all":
		return ViewAggregates | ViewSignIns, nil
	case "admin":
		return ViewAggregates | ViewSignIns | ManageRisk, nil
	case "manage":
		return ViewAggregates | ManageRisk, nil
	case "aggregates":
		return ViewAggregates, nil
	case "signins":
		return ViewSignIns, nil
	case "none":
		return 0, nil
	}
	return 0, errors.New("no credentials")
}

// testHandler returns the handler on eng with the test hook (its clock is the engine's),
// and a slice that collects OnError's errors.
func testHandler(eng *insights.Engine) (http.Handler, *[]error) {
	var errs []error
	return Handler(eng, &Options{Authorize: testAuthorize,
		Challenge: `Basic realm="test"`, OnError: func(_ *http.Request, err error) { errs = append(errs, err) }}), &errs
}

// get answers GET target with permissions perms.
func get(t testing.TB, h http.Handler, perms, target string) *http.Response {
	t.Helper()
	return do(t, h, http.MethodGet, perms, target)
}

func do(t testing.TB, h http.Handler, method, perms, target string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if perms != "" {
		req.Header.Set(permsHeader, perms)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res
}

// body reads the response's body.
func body(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantStatus fails unless res has status and returns its body.
func wantStatus(t testing.TB, res *http.Response, status int) string {
	t.Helper()
	b := body(t, res)
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", res.Request.Method, res.Request.URL, res.StatusCode, status, b)
	}
	return b
}

// wantError fails unless res is a JSON error with status whose message
// contains want, and returns the message. The Graph routes' errors are
// OData's, {"error": {"code": "BadRequest", "message": ...}}.
func wantError(t testing.TB, res *http.Response, status int, want string) string {
	t.Helper()
	b := wantStatus(t, res, status)
	var msg string
	if strings.HasPrefix(res.Request.URL.Path, "/reports/") {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(b), &e); err != nil || e.Error.Message == "" ||
			e.Error.Code != strings.ReplaceAll(http.StatusText(status), " ", "") {
			t.Fatalf("%s: body %q is not {\"error\": {\"code\": %q, \"message\": ...}}", res.Request.URL, b, http.StatusText(status))
		}
		msg = e.Error.Message
	} else {
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(b), &e); err != nil || e.Error == "" {
			t.Fatalf("%s: body %q is not {\"error\": ...}", res.Request.URL, b)
		}
		msg = e.Error
	}
	if !strings.Contains(msg, want) {
		t.Fatalf("%s: error %q, want it to contain %q", res.Request.URL, msg, want)
	}
	return msg
}

// wantForbidden fails unless res is a 403: a page that says what is
// missing for the dashboard's views, a JSON error for the API.
func wantForbidden(t testing.TB, res *http.Response) {
	t.Helper()
	if strings.HasPrefix(res.Request.URL.Path, "/api/") || strings.HasPrefix(res.Request.URL.Path, "/reports/") {
		wantError(t, res, 403, "forbidden")
		return
	}
	b := wantStatus(t, res, 403)
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" ||
		!strings.Contains(b, `<p class="error" role="alert">You may not open`) || !strings.Contains(b, "permission") {
		t.Errorf("%s: a 403 answered %s %q, want a page that says which permission is missing", res.Request.URL, ct, b)
	}
}

// jsonOf returns v marshaled, for comparisons.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// date is insights.NewDate for March 2025.
func date(day int) insights.Date { return insights.NewDate(2025, 3, day) }
