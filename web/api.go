package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// today returns the engine's clock's date in the store's zone.
func (h *handler) today() insights.Date { return insights.DateOf(h.eng.Now(), h.eng.Zone()) }

// query runs q and enforces MaxRows. A filter on log fields needs
// ViewSignIns, which perms must hold.
func (h *handler) query(ctx context.Context, q insights.Query, perms Permissions) (*insights.Result, error) {
	if q.Filter.NamesLogField() && !perms.Has(ViewSignIns) {
		return nil, errorf(http.StatusForbidden, "forbidden: a filter on log fields (%s) needs the %s permission",
			logFields(), ViewSignIns)
	}
	res, err := h.eng.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(res.Rows) > MaxRows {
		return nil, badRequest("the result has %d rows, at most %d: set top, group by fewer dimensions or shorten the range",
			len(res.Rows), MaxRows)
	}
	return res, nil
}

// serveQuery answers GET /api/query: a Result as JSON, or as CSV with
// format=csv (export.ResultCSV; excel=true for Excel's CSV).
func (h *handler) serveQuery(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseQuery(v, h.today())
	if err != nil {
		return err
	}
	res, err := h.query(r.Context(), q, permsOf(r))
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, res)
		return nil
	}
	var buf bytes.Buffer
	if err := export.ResultCSV(&buf, res, csvOptions(v)); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+q.Metric.String()+`.csv"`)
	writeBody(w, http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

// serveSignIns answers GET /api/signins: one page of the sign-in log as
// JSON (insights.LogPage: entries newest first, next is the cursor of the
// following page), or with format=csv every matching sign-in from the
// cursor on, streamed (export.LogCSV), limit being the size of the pages
// read.
func (h *handler) serveSignIns(w http.ResponseWriter, r *http.Request) error {
	return h.serveLog(w, r, h.eng.SignIns, "signins.csv")
}

// serveLog answers a listing of the event log through list (SignIns,
// MethodActivity): one page as JSON, or with format=csv every matching
// entry from the cursor on, read a page at a time into the file name.
func (h *handler) serveLog(w http.ResponseWriter, r *http.Request,
	list func(context.Context, insights.LogQuery) (*insights.LogPage, error), name string) error {
	v := r.URL.Query()
	q, err := parseLogQuery(v)
	if err != nil {
		return err
	}
	page, err := list(r.Context(), q) // also validates the query before a download starts
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	startCSV(w, name)
	src := &pages{entries: page.Entries, next: page.Next, fetch: func(cursor string) (*insights.LogPage, error) {
		q.Cursor = cursor
		return list(r.Context(), q)
	}}
	if err := export.LogCSV(w, src, csvOptions(v)); err != nil && h.onError != nil {
		h.onError(r, err) // the status is sent: the download ends short
	}
	return nil
}

// csvOptions returns the CSV options of the excel parameter (already checked).
func csvOptions(v url.Values) *export.CSVOptions {
	p := &params{v: v}
	return &export.CSVOptions{Excel: p.bool("excel")}
}

// logFields lists the log fields' names, for messages.
func logFields() string {
	var names []string
	for _, d := range insights.Dimensions() {
		if !d.Indexed() {
			names = append(names, d.String())
		}
	}
	return strings.Join(names, ", ")
}
