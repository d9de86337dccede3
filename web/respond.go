package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/insightslab/insights"
)

// httpError is an answer other than 200, with the message the client sees.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// errorf returns an httpError with a formatted message.
func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// badRequest returns a 400 error with a formatted message.
func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

// classify returns the status and the client's message for err: the
// engine's invalid-query errors are the client's (400, their text says
// what is wrong); cancellation is 503; anything else is 500 and hidden.
func classify(err error) *httpError {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, insights.ErrInvalidQuery):
		return &httpError{http.StatusBadRequest, err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{http.StatusServiceUnavailable, "request canceled or timed out"}
	case errors.Is(err, insights.ErrClosed):
		return &httpError{http.StatusServiceUnavailable, "engine closed"}
	}
	return &httpError{http.StatusInternalServerError, "internal error"}
}

// fail answers err as JSON, and hands errors the client does not see to
// OnError.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	he := classify(err)
	if he.status == http.StatusInternalServerError && h.onError != nil {
		h.onError(r, err)
	}
	writeError(w, r, he)
}

// writeError answers {"error": message} with the error's status; on the
// Graph routes, OData's {"error": {"code": "BadRequest", "message": ...}},
// the code being the status's text without spaces.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	he := classify(err)
	if !strings.HasPrefix(r.URL.Path, "/reports/") {
		writeJSON(w, he.status, struct {
			Error string `json:"error"`
		}{he.msg})
		return
	}
	type odataError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, he.status, struct {
		Error odataError `json:"error"`
	}{odataError{strings.ReplaceAll(http.StatusText(he.status), " ", ""), he.msg}})
}

// writeJSON answers v as JSON with status. v is encoded before the status
// is written, so an encoding error becomes a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	writeBody(w, status, "application/json; charset=utf-8", buf.Bytes())
}

// writeBody answers body with status and content type.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}
