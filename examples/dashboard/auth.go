package main

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/insightslab/insights/web"
)

// demoAuthorize is the demo's authorization hook: a request that presents
// token, as "Authorization: Bearer <token>" (scripts, Power BI) or as the
// password of HTTP Basic authentication with any user name (browsers ask
// for it once and resend it), may see everything. The token never
// travels in a URL, where proxies and browser history would keep it, and
// no cookie is set. A real host calls its own session or SSO check here
// and grants web.ViewSignIns only to those allowed to see people's
// sign-ins.
func demoAuthorize(token string) func(*http.Request) (web.Permissions, error) {
	return func(r *http.Request) (web.Permissions, error) {
		got, ok := "", false
		if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
			got, ok = strings.TrimPrefix(auth, "Bearer "), true
		} else {
			_, got, ok = r.BasicAuth()
		}
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return 0, errors.New("demo: no or wrong token")
		}
		return web.ViewAggregates | web.ViewSignIns, nil
	}
}

// demoChallenge makes browsers ask for the token as a password.
const demoChallenge = `Basic realm="insights dashboard demo: any user name, the token as password", charset="UTF-8"`
