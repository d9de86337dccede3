package web

import (
	"net/http"
)

// views are the dashboard's pages, in the navigation's order. A view is
// one file (view_*.go) declaring its panels; adding one is adding its
// file and its name here.
var views = []view{usersView, authenticationsView, mfaView, methodsView, signInsView, registrationsView, riskView}

// routes returns every route of the handler but the 404 fallback.
func (h *handler) routes() []route {
	rs := []route{
		{pattern: "/{$}", perm: 0, serve: serveRoot},
		{pattern: "/static/{file}", perm: 0, serve: serveStatic},
		{pattern: "/api/query", perm: ViewAggregates, serve: h.serveQuery},
		{pattern: "/api/signins", perm: ViewSignIns, serve: h.serveSignIns},
		{pattern: "/api/methods", perm: ViewAggregates, serve: h.serveMethods},
		{pattern: "/api/registrations", perm: ViewSignIns, serve: h.serveRegistrations},
		{pattern: "/api/methodactivity", perm: ViewSignIns, serve: h.serveMethodActivity},
		{pattern: "/api/detections", perm: ViewSignIns, serve: h.serveDetections},
		{pattern: "/api/riskyusers", perm: ViewSignIns, serve: h.serveRiskyUsers},
		{pattern: "/api/evidence", perm: ViewSignIns, serve: h.serveEvidence},
		{pattern: "/api/riskstate", method: http.MethodPost, perm: ViewSignIns | ManageRisk, serve: h.serveRiskState},
		{pattern: "/reports/userInsights/{period}/{name}", perm: ViewAggregates, serve: h.serveGraph},
	}
	for _, v := range views {
		rs = append(rs, route{pattern: "/" + v.slug, perm: v.perm, serve: h.servePage(v), page: &v})
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
