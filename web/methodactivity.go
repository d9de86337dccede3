package web

import "net/http"

// serveMethodActivity answers GET /api/methodactivity, the registration
// and reset details list (Engine.MethodActivity), as /api/signins answers
// the sign-in log: one page as JSON (insights.LogPage), or with
// format=csv every matching entry from the cursor on (export.LogCSV),
// read in pages of limit entries.
func (h *handler) serveMethodActivity(w http.ResponseWriter, r *http.Request) error {
	return h.serveLog(w, r, h.eng.MethodActivity, "methodactivity.csv")
}
