package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// everyRoute is one URL of each route.
var everyRoute = []string{
	"/", "/users", "/authentications", "/mfa", "/methods", "/signins", "/registrations",
	"/api/query?metric=activeUsers", "/api/signins", "/api/methods", "/api/registrations", "/api/methodactivity",
	"/reports/userInsights/daily/activeUsers", "/static/app.css", "/no/such/page",
}

func TestNoAuthorizeRefusesEverything(t *testing.T) {
	eng := testEngine(t)
	for _, opts := range []*Options{nil, {}} {
		h := Handler(eng, opts)
		for _, u := range everyRoute {
			for _, m := range []string{http.MethodGet, http.MethodPost} {
				res := do(t, h, m, "all", u)
				wantError(t, res, http.StatusUnauthorized, "unauthorized")
				if res.Header.Get("WWW-Authenticate") != "" {
					t.Errorf("%s: a challenge without Options.Challenge", u)
				}
			}
		}
	}
}

func TestAuthorization(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	cases := []struct {
		name, perms, url string
		status           int
	}{
		{"hook error is 401", "", "/users", 401},
		{"no permission is 401", "none", "/api/query?metric=activeUsers", 401},
		{"no permission is 401 on static files", "none", "/static/app.js", 401},
		{"aggregates see the views", "aggregates", "/users", 200},
		{"aggregates see the API", "aggregates", "/api/query?metric=activeUsers", 200},
		{"aggregates see Graph", "aggregates", "/reports/userInsights/daily/activeUsers", 200},
		{"aggregates do not see the sign-in log page", "aggregates", "/signins", 403},
		{"aggregates do not see the sign-in log API", "aggregates", "/api/signins", 403},
		{"aggregates may not filter on a user", "aggregates", `/api/query?metric=activeUsers&filter=user+%3D+user01`, 403},
		{"aggregates may not filter on an IP deep in a filter", "aggregates",
			`/api/query?metric=activeUsers&filter=country+%3D+FR+and+not+(os+%3D+x+or+ip+in+198.51.100.0/24)`, 403},
		{"sign-in viewers see the log", "signins", "/signins", 200},
		{"sign-in viewers see the log API", "signins", "/api/signins", 200},
		{"sign-in viewers do not see aggregates", "signins", "/users", 403},
		{"sign-in viewers do not see the query API", "signins", "/api/query?metric=activeUsers", 403},
		{"both may filter on a user", "all", `/api/query?metric=activeUsers&filter=user+%3D+user01`, 200},
		{"both see static files", "all", "/static/app.js", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := get(t, h, c.perms, c.url)
			switch c.status {
			case 200:
				wantStatus(t, res, 200)
			case 401:
				wantError(t, res, 401, "unauthorized")
				if got := res.Header.Get("WWW-Authenticate"); got != `Basic realm="test"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			case 403:
				wantForbidden(t, res)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, u := range everyRoute {
			res := do(t, h, m, "all", u)
			wantError(t, res, http.StatusMethodNotAllowed, "read-only")
			if got := res.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", m, u, got)
			}
		}
	}
	res := do(t, h, http.MethodHead, "all", "/users")
	if res.StatusCode != 200 {
		t.Errorf("HEAD /users: status %d", res.StatusCode)
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, perms := range []string{"", "aggregates", "all"} {
		for _, u := range everyRoute {
			res := get(t, h, perms, u)
			hd := res.Header
			csp := hd.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s (%s): CSP %q lacks %q", u, perms, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s: CSP allows unsafe-inline", u)
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" ||
				hd.Get("Cache-Control") != "no-store" {
				t.Errorf("%s (%s): headers %v", u, perms, hd)
			}
			if len(res.Cookies()) > 0 || hd.Get("Set-Cookie") != "" {
				t.Errorf("%s: sets a cookie", u)
			}
		}
	}
}

func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for _, v := range views {
		b := wantStatus(t, get(t, h, "all", "/"+v.slug), 200)
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onchange=", "javascript:", "http://", "https://"} {
			if strings.Contains(b, bad) {
				t.Errorf("/%s holds %q", v.slug, bad)
			}
		}
	}
}

func TestRootRedirectsToFirstAllowedView(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for perms, want := range map[string]string{"aggregates": "users", "signins": "signins", "all": "users"} {
		res := get(t, h, perms, "/")
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Errorf("%s: status %d Location %q, want 302 %q", perms, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

func TestStaticAndNotFound(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	for file, ctype := range staticTypes {
		res := get(t, h, "aggregates", "/static/"+file)
		if wantStatus(t, res, 200) == "" || res.Header.Get("Content-Type") != ctype {
			t.Errorf("%s: Content-Type %q", file, res.Header.Get("Content-Type"))
		}
	}
	wantError(t, get(t, h, "all", "/static/page.html"), 404, "no such file")
	wantError(t, get(t, h, "all", "/nothing"), 404, "no such page")
}

func TestMountUnderPrefix(t *testing.T) {
	h, _ := testHandler(testEngine(t))
	mux := http.NewServeMux()
	mux.Handle("/insights/", http.StripPrefix("/insights", h))
	req := httptest.NewRequest(http.MethodGet, "/insights/users", nil)
	req.Header.Set(permsHeader, "all")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	b := wantStatus(t, res, 200)
	if !strings.Contains(b, `href="static/app.css"`) || !strings.Contains(b, `data-query="api/query?`) {
		t.Error("links are not relative to the mount point")
	}
}

func TestNilEngine(t *testing.T) {
	h := Handler(nil, &Options{Authorize: testAuthorize})
	wantError(t, get(t, h, "all", "/users"), http.StatusServiceUnavailable, "no engine")
}
