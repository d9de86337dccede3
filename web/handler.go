package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// Permissions are what an authorized request may see, as a set of bits.
type Permissions uint8

const (
	// ViewAggregates allows the counts: the dashboard's charts, /api/query,
	// the Graph routes and their CSV.
	ViewAggregates Permissions = 1 << iota
	// ViewSignIns allows what names people: the sign-in log (user names,
	// IP addresses, locations, authentication details), the registration
	// details and the registration and reset events, their CSV, and
	// metric filters on log fields (user, ip, city, ...), which would
	// otherwise let a counts-only viewer probe one person's sign-ins;
	// and the risk detections, risky users and their evidence.
	ViewSignIns
	// ManageRisk allows the one write: POST /api/riskstate, an
	// administrator's decision on a user's risk (dismissed, confirmed
	// compromised). The route needs ViewSignIns too.
	ManageRisk
)

// Has reports whether p holds every permission of q.
func (p Permissions) Has(q Permissions) bool { return p&q == q }

// Options configures Handler. A nil *Options refuses every request.
type Options struct {
	// Authorize decides what a request may see. It is called once per
	// request, before anything else, from the server's goroutines at
	// once: it must be safe for concurrent use. An error, or no
	// permission at all, answers 401; a permission the route needs and
	// the result lacks answers 403. The error's text is not sent to the
	// client. Nil refuses every request with 401: the sign-in log names
	// people, so the handler is closed until the host opens it.
	Authorize func(*http.Request) (Permissions, error)
	// Challenge is the WWW-Authenticate header of 401 answers, for
	// example `Basic realm="insights"` to make browsers ask for a
	// password. Default: none.
	Challenge string
	// MethodPolicy is the authentication-methods policy under which the
	// methods view counts users registered, enabled and capable for MFA,
	// SSPR and passwordless, and /api/registrations sets their flags.
	// Nil means insights.DefaultMethodPolicy. Its MFAEnabled and
	// SSPREnabled hooks are called from request goroutines at once, under
	// the engine's read lock: they must be safe for concurrent use and must
	// not call the engine. The handler keeps the pointer: change nothing
	// through it while the handler serves.
	MethodPolicy *insights.MethodPolicy
	// OnError receives the errors answered with status 500 (the client
	// sees only "internal error") and the write errors of streamed
	// downloads. Default: dropped. Called from request goroutines.
	OnError func(*http.Request, error)
}

// handler serves one engine. Immutable after Handler returns.
type handler struct {
	eng       *insights.Engine
	authorize func(*http.Request) (Permissions, error)
	challenge string
	policy    *insights.MethodPolicy
	onError   func(*http.Request, error)
	mux       *http.ServeMux
}

// Handler returns the HTTP API and dashboard over engine (see the package
// doc for the routes). It is safe for concurrent use; every request reads
// the engine through its public, concurrency-safe methods. Mount it at the
// root or under a prefix with http.StripPrefix and a trailing slash
// (mux.Handle("/insights/", http.StripPrefix("/insights", h))): its pages
// link to each other with relative URLs.
func Handler(engine *insights.Engine, opts *Options) http.Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	h := &handler{eng: engine, authorize: o.Authorize, challenge: o.Challenge, policy: o.MethodPolicy, onError: o.OnError,
		mux: http.NewServeMux()}
	for _, rt := range h.routes() {
		h.mux.Handle(cmp.Or(rt.method, http.MethodGet)+" "+rt.pattern, h.guard(rt))
	}
	h.mux.Handle("/", h.guard(route{serve: func(http.ResponseWriter, *http.Request) error {
		return errorf(http.StatusNotFound, "no such page")
	}}))
	return h
}

// route is one page or API endpoint: what it needs and how it answers.
type route struct {
	pattern string // a ServeMux pattern without its method
	method  string // "" for GET (and HEAD); http.MethodPost for the writes
	perm    Permissions
	serve   func(w http.ResponseWriter, r *http.Request) error
	page    *view // the dashboard's view it serves, nil for the API: a page answers its 403 with a page
}

// ServeHTTP sets the security headers, authorizes the request, refuses
// anything but GET and HEAD (POST alone on the write routes), and
// dispatches.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	perms, err := Permissions(0), errNoAuthorize
	if h.authorize != nil {
		perms, err = h.authorize(r)
	}
	if err != nil || perms == 0 {
		if h.challenge != "" {
			w.Header().Set("WWW-Authenticate", h.challenge)
		}
		writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized"))
		return
	}
	if allow, why := allowed(r.URL.Path); !slices.Contains(strings.Split(allow, ", "), r.Method) {
		w.Header().Set("Allow", allow)
		writeError(w, r, errorf(http.StatusMethodNotAllowed, "method %s not allowed: %s", r.Method, why))
		return
	}
	if h.eng == nil {
		writeError(w, r, errorf(http.StatusServiceUnavailable, "no engine"))
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), permsKey{}, perms)))
}

var errNoAuthorize = errors.New("web: no Authorize hook")

// writePaths are the routes that take POST, and only POST.
var writePaths = []string{"/api/riskstate"}

// allowed returns the methods path answers, as the Allow header lists
// them, and why, for the 405's message.
func allowed(path string) (allow, why string) {
	if slices.Contains(writePaths, path) {
		return http.MethodPost, "this route takes POST only"
	}
	return "GET, HEAD", "the route is read-only"
}

// permsKey keys the request's Permissions in its context.
type permsKey struct{}

// permsOf returns the permissions ServeHTTP granted r.
func permsOf(r *http.Request) Permissions {
	p, _ := r.Context().Value(permsKey{}).(Permissions)
	return p
}

// guard checks rt's permission, then serves it and answers its error.
func (h *handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve := rt.serve
		if !permsOf(r).Has(rt.perm) {
			serve = func(w http.ResponseWriter, r *http.Request) error {
				return errorf(http.StatusForbidden, "forbidden: this page needs the %s permission", rt.perm)
			}
			if rt.page != nil {
				serve = h.forbiddenPage(*rt.page)
			}
		}
		if err := serve(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// String names the permissions of p joined by |: ViewAggregates|ViewSignIns.
func (p Permissions) String() string {
	if p == 0 {
		return "none"
	}
	var names []string
	for _, n := range []struct {
		p    Permissions
		name string
	}{{ViewAggregates, "ViewAggregates"}, {ViewSignIns, "ViewSignIns"}, {ManageRisk, "ManageRisk"}} {
		if p.Has(n.p) {
			names = append(names, n.name)
			p &^= n.p
		}
	}
	if p != 0 {
		names = append(names, "unknown")
	}
	return strings.Join(names, "|")
}

// setSecurityHeaders sets the headers every answer carries: no script or
// style but the handler's own files, no framing, no referrer (URLs hold
// filters and cursors), no caching of what may name people, no MIME
// sniffing.
func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}
