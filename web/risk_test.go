package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// post answers POST target with perms, body and content type ctype.
func post(t testing.TB, h http.Handler, perms, target, ctype, body string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set(permsHeader, perms)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res
}

func TestRiskRoutesNeedSignInDetails(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, u := range []string{"/api/detections", "/api/riskyusers", "/api/evidence?ids=2025-03-01/1"} {
		for _, perms := range []string{"aggregates", "manage"} {
			wantForbidden(t, get(t, h, perms, u))
		}
	}
	const dismiss = `{"userKey":"user01","state":"dismissed"}`
	for _, perms := range []string{"all", "signins", "manage", "aggregates"} {
		res := post(t, h, perms, "/api/riskstate", "application/json", dismiss)
		wantForbidden(t, res)
	}
	res := post(t, h, "", "/api/riskstate", "application/json", dismiss)
	wantError(t, res, http.StatusUnauthorized, "unauthorized")
}

func TestRiskStateTakesPOSTOnly(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete} {
		res := do(t, h, m, "admin", "/api/riskstate")
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
			t.Errorf("%s /api/riskstate: status %d, Allow %q", m, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	for _, u := range []string{"/api/detections", "/api/riskyusers", "/api/evidence", "/risk"} {
		res := post(t, h, "admin", u, "application/json", "{}")
		wantError(t, res, http.StatusMethodNotAllowed, "read-only")
	}
}

func TestBadRiskStateRequests(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	const json = "application/json"
	for _, c := range []struct {
		name, ctype, body string
		header            []string
		status            int
		want              string
	}{
		{"a form", "application/x-www-form-urlencoded", "userKey=a&state=dismissed", nil, 415, "application/json"},
		{"no content type", "", `{"userKey":"a","state":"dismissed"}`, nil, 415, "application/json"},
		{"cross-site", json, `{"userKey":"a","state":"dismissed"}`, []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-site"},
		{"not JSON", json, `userKey=a`, nil, 400, "the body"},
		{"unknown field", json, `{"userKey":"a","state":"dismissed","level":"none"}`, nil, 400, `"level"`},
		{"two objects", json, `{"userKey":"a","state":"dismissed"}{}`, nil, 400, "one JSON object"},
		{"no user", json, `{"state":"dismissed"}`, nil, 400, "userKey is required"},
		{"long user", json, `{"userKey":"` + strings.Repeat("u", MaxParamBytes+1) + `","state":"dismissed"}`, nil, 400, "userKey is 513 bytes"},
		{"atRisk", json, `{"userKey":"a","state":"atRisk"}`, nil, 400, `state "atRisk"`},
		{"remediated", json, `{"userKey":"a","state":"remediated"}`, nil, 400, "dismissed or confirmedCompromised"},
		{"too large", json, `{"userKey":"` + strings.Repeat("u", maxStateBody) + `"}`, nil, 413, "over 4096 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, post(t, h, "admin", "/api/riskstate", c.ctype, c.body, c.header...), c.status, c.want)
		})
	}
}

func TestBadRiskQueriesAre400(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, c := range []struct{ url, want string }{
		{"/api/detections?type=phishing", `type "phishing"`},
		{"/api/detections?type=bruteForce,,mfaFatigue", `type ""`},
		{"/api/detections?level=none", `level "none"`},
		{"/api/detections?state=atRisk", `unknown parameter "state"`},
		{"/api/detections?from=2025-03-10&to=2025-03-01", "from 2025-03-10 is not before to 2025-03-01"},
		{"/api/detections?from=yesterday", `from "yesterday"`},
		{"/api/detections?limit=0", `limit "0"`},
		{"/api/detections?user=a&user=b", `"user" given 2 times`},
		{"/api/detections?format=xml", `format "xml"`},
		{"/api/riskyusers?state=atrisk", `state "atrisk"`},
		{"/api/riskyusers?type=bruteForce", `unknown parameter "type"`},
		{"/api/riskyusers?limit=5000", `limit "5000"`},
		{"/api/riskyusers?user=" + strings.Repeat("x", MaxParamBytes+1), "513 bytes long"},
		{"/api/evidence", "ids is required"},
		{"/api/evidence?id=1", `unknown parameter "id"`},
		{"/api/evidence?ids=a&ids=b", `"ids" given 2 times`},
		{"/api/evidence?ids=" + strings.Repeat("a,", MaxEvidenceIDs), "at most 1000"},
		{"/api/evidence?ids=" + strings.Repeat("a", MaxIDsBytes+1), "bytes long"},
	} {
		t.Run(c.url[:min(len(c.url), 60)], func(t *testing.T) {
			wantError(t, get(t, h, "all", c.url), http.StatusBadRequest, c.want)
		})
	}
}
