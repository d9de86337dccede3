package web

import (
	"net/http"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// serveMethodActivity answers GET /api/methodactivity, the registration
// and reset details list (Engine.MethodActivity), as /api/signins answers
// the sign-in log: one page as JSON (insights.LogPage), or with
// format=csv every matching entry from the cursor on (export.LogCSV),
// read in pages of limit entries.
func (h *handler) serveMethodActivity(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseLogQuery(v)
	if err != nil {
		return err
	}
	page, err := h.eng.MethodActivity(r.Context(), q) // also validates the query before a download starts
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="methodactivity.csv"`)
	src := &pages{entries: page.Entries, next: page.Next, fetch: func(cursor string) (*insights.LogPage, error) {
		q.Cursor = cursor
		return h.eng.MethodActivity(r.Context(), q)
	}}
	if err := export.LogCSV(w, src, csvOptions(v)); err != nil && h.onError != nil {
		h.onError(r, err) // the status is sent: the download ends short
	}
	return nil
}
