package web

import (
	"net/http"
)

// views are the dashboard's pages, in the navigation's order. A view is
// one file (view_*.go) declaring its panels; adding one is adding its
// file and its name here.
var views = []view{usersView, authenticationsView, mfaView, methodsView, signInsView, registrationsView}

// routes returns every route of the handler but the 404 fallback.
func (h *handler) routes() []route {
	rs := []route{
		{"/{$}", 0, serveRoot},
		{"/static/{file}", 0, serveStatic},
		{"/api/query", ViewAggregates, h.serveQuery},
		{"/api/signins", ViewSignIns, h.serveSignIns},
		{"/api/methods", ViewAggregates, h.serveMethods},
		{"/api/registrations", ViewSignIns, h.serveRegistrations},
		{"/api/methodactivity", ViewSignIns, h.serveMethodActivity},
		{"/reports/userInsights/{period}/{name}", ViewAggregates, h.serveGraph},
	}
	for _, v := range views {
		rs = append(rs, route{"/" + v.slug, v.perm, h.servePage(v)})
	}
	return rs
}

// serveRoot redirects to the first view the request may see, relative to
// the handler's root so that a mount under a prefix works.
func serveRoot(w http.ResponseWriter, r *http.Request) error {
	for _, v := range views {
		if permsOf(r).Has(v.perm) {
			// Not http.Redirect: it would make the URL absolute, out of a prefix mount.
			w.Header().Set("Location", v.slug)
			w.WriteHeader(http.StatusFound)
			return nil
		}
	}
	return errorf(http.StatusForbidden, "forbidden: no view allowed")
}
