package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// Limits of the risk routes.
const (
	// MaxEvidenceIDs is the most log entry ids /api/evidence takes.
	MaxEvidenceIDs = 1000
	// MaxIDsBytes is the longest ids parameter of /api/evidence: about
	// MaxEvidenceIDs ids of a few days' entries.
	MaxIDsBytes = 32 << 10
	// maxStateBody is the largest body of POST /api/riskstate.
	maxStateBody = 4 << 10
)

// detectionParams are the parameters of /api/detections.
var detectionParams = []string{"from", "to", "type", "level", "user", "limit", "cursor", "format", "excel"}

// riskyUserParams are the parameters of /api/riskyusers.
var riskyUserParams = []string{"level", "state", "user", "limit", "cursor", "format", "excel"}

// riskLevels are the levels a detection may have, lowest first.
var riskLevels = []string{insights.RiskLow, insights.RiskMedium, insights.RiskHigh}

// riskStates are the states of a risky user.
var riskStates = []string{insights.RiskStateAtRisk, insights.RiskStateRemediated,
	insights.RiskStateDismissed, insights.RiskStateConfirmedCompromised}

// detectionTypeNames are the detection types' names.
func detectionTypeNames() []string {
	var names []string
	for _, t := range insights.DetectionTypes() {
		names = append(names, string(t))
	}
	return names
}

// list returns the parameter's comma-separated values, each one of
// choices; nil when absent.
func (p *params) list(name string, choices []string) []string {
	s := p.v.Get(name)
	if s == "" {
		return nil
	}
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		v = strings.TrimSpace(v)
		if !slices.Contains(choices, v) {
			p.fail(badRequest("%s %q: want some of %s, comma-separated", name, truncate(v), strings.Join(choices, ", ")))
			return nil
		}
		out = append(out, v)
	}
	return out
}

// parseDetectionQuery reads the parameters of /api/detections: from and
// to (days of the detection time, half-open; unbounded when absent),
// type and level (comma-separated), user (an exact key), limit, cursor.
func parseDetectionQuery(v url.Values) (insights.DetectionQuery, error) {
	p := &params{v: v}
	p.known(detectionParams)
	q := insights.DetectionQuery{From: p.date("from"), To: p.date("to"), Levels: p.list("level", riskLevels),
		UserKey: p.str("user"), Limit: p.int("limit", 1, insights.MaxPageSize), Cursor: p.str("cursor")}
	for _, t := range p.list("type", detectionTypeNames()) {
		q.Types = append(q.Types, insights.DetectionType(t))
	}
	p.format()
	p.bool("excel")
	if p.err == nil && !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		p.fail(badRequest("from %s is not before to %s", q.From, q.To))
	}
	return q, p.err
}

// parseRiskyUserQuery reads the parameters of /api/riskyusers: level and
// state (comma-separated), user (the start of a key or display name, case
// ignored), limit, cursor.
func parseRiskyUserQuery(v url.Values) (insights.RiskyUserQuery, error) {
	p := &params{v: v}
	p.known(riskyUserParams)
	q := insights.RiskyUserQuery{Levels: p.list("level", append([]string{insights.RiskNone}, riskLevels...)),
		States: p.list("state", riskStates), UserSearch: p.str("user"),
		Limit: p.int("limit", 1, insights.MaxPageSize), Cursor: p.str("cursor")}
	p.format()
	p.bool("excel")
	return q, p.err
}

// serveDetections answers GET /api/detections: one page of detections as
// JSON (insights.DetectionPage, newest first), or with format=csv every
// matching detection from the cursor on, streamed (export.DetectionsCSV),
// limit being the size of the pages read.
func (h *handler) serveDetections(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseDetectionQuery(v)
	if err != nil {
		return err
	}
	page, err := h.eng.Detections(r.Context(), q) // also validates the query before a download starts
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	startCSV(w, "detections.csv")
	src := export.DetectionPages(r.Context(), firstPage(page, h.eng.Detections), q)
	if err := export.DetectionsCSV(w, src, csvOptions(v)); err != nil && h.onError != nil {
		h.onError(r, err) // the status is sent: the download ends short
	}
	return nil
}

// serveRiskyUsers answers GET /api/riskyusers: one page of risky users
// as JSON (insights.RiskyUserPage, highest level first), or with
// format=csv every match from the cursor on (export.RiskyUsersCSV).
func (h *handler) serveRiskyUsers(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := parseRiskyUserQuery(v)
	if err != nil {
		return err
	}
	page, err := h.eng.RiskyUsers(r.Context(), q)
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	startCSV(w, "riskyusers.csv")
	src := export.RiskyUserPages(r.Context(), firstPage(page, h.eng.RiskyUsers), q)
	if err := export.RiskyUsersCSV(w, src, csvOptions(v)); err != nil && h.onError != nil {
		h.onError(r, err)
	}
	return nil
}

// firstPage returns list, but that its first call answers page, fetched
// already: a download does not read its first page twice.
func firstPage[Q, P any](page *P, list func(context.Context, Q) (*P, error)) func(context.Context, Q) (*P, error) {
	return func(ctx context.Context, q Q) (*P, error) {
		if p := page; p != nil {
			page = nil
			return p, nil
		}
		return list(ctx, q)
	}
}

// startCSV sets the headers of a CSV download named name.
func startCSV(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
}

// evidenceIDs reads the ids parameter of /api/evidence: log entry ids,
// comma-separated, at most MaxEvidenceIDs.
func evidenceIDs(v url.Values) ([]string, error) {
	for k, vs := range v {
		switch {
		case k != "ids":
			return nil, badRequest("unknown parameter %q; known: ids", truncate(k))
		case len(vs) > 1:
			return nil, badRequest("parameter %q given %d times", k, len(vs))
		case len(vs[0]) > MaxIDsBytes:
			return nil, badRequest("parameter %q is %d bytes long, at most %d", k, len(vs[0]), MaxIDsBytes)
		}
	}
	s := v.Get("ids")
	if s == "" {
		return nil, badRequest("ids is required: log entry ids, comma-separated (a detection's evidence)")
	}
	ids := strings.Split(s, ",")
	if len(ids) > MaxEvidenceIDs {
		return nil, badRequest("ids has %d ids, at most %d", len(ids), MaxEvidenceIDs)
	}
	return ids, nil
}

// evidencePage is the answer of /api/evidence.
type evidencePage struct {
	Entries []insights.LogEntry `json:"entries"`
}

// serveEvidence answers GET /api/evidence?ids=...: the log entries of
// those ids (a detection's evidence), in the order given, those erased or
// retired left out (Engine.EntriesByID).
func (h *handler) serveEvidence(w http.ResponseWriter, r *http.Request) error {
	ids, err := evidenceIDs(r.URL.Query())
	if err != nil {
		return err
	}
	entries, err := h.eng.EntriesByID(r.Context(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, evidencePage{Entries: entries})
	return nil
}

// riskStateRequest is the body of POST /api/riskstate.
type riskStateRequest struct {
	UserKey string `json:"userKey"`
	State   string `json:"state"`
}

// serveRiskState answers POST /api/riskstate: records an administrator's
// decision on a user's risk (Engine.SetUserRiskState). The body is JSON,
// {"userKey": "...", "state": "dismissed" or "confirmedCompromised"}, with
// the content type application/json, which a cross-site form cannot send;
// a request a browser marks cross-site (Sec-Fetch-Site) is refused too.
// It answers the request's object.
func (h *handler) serveRiskState(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errorf(http.StatusForbidden, "forbidden: a cross-site request may not change a user's risk")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "the body must be JSON, Content-Type application/json")
	}
	var req riskStateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxStateBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(http.StatusRequestEntityTooLarge, "the body is over %d bytes", maxStateBody)
		}
		return badRequest("the body: %v; want {\"userKey\": \"...\", \"state\": \"dismissed\" or \"confirmedCompromised\"}", err)
	}
	if dec.Decode(new(json.RawMessage)) != io.EOF {
		return badRequest("the body: one JSON object only")
	}
	switch {
	case req.UserKey == "":
		return badRequest("userKey is required")
	case len(req.UserKey) > MaxParamBytes:
		return badRequest("userKey is %d bytes long, at most %d", len(req.UserKey), MaxParamBytes)
	case req.State != insights.RiskStateDismissed && req.State != insights.RiskStateConfirmedCompromised:
		return badRequest("state %q: want %s or %s", truncate(req.State), insights.RiskStateDismissed,
			insights.RiskStateConfirmedCompromised)
	}
	if err := h.eng.SetUserRiskState(r.Context(), req.UserKey, req.State); err != nil {
		if errors.Is(err, insights.ErrReadOnly) {
			return errorf(http.StatusConflict, "the engine is read-only: risk states cannot be set")
		}
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}
