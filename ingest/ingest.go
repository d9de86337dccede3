// Package ingest receives pushed identity logs over HTTP and adds them to
// an engine (SPEC §11, live ingestion): Auth0 log streams (custom webhook),
// Okta event hooks (with their one-time verification), the library's JSON
// lines, or any other format package importers reads.
//
//	auth0, err := ingest.New(eng, importers.Auth0, &ingest.Options{Token: secret})
//	mux.Handle("POST /ingest/auth0", auth0)
//
// One Handler serves one source: each source has its own secret. A request
// is authenticated first (see Options.Token and Options.HMACKey), its body
// read up to Options.MaxBodyBytes, its records mapped by importers.Read,
// and the events of the request added in one Engine.AddCount, all or
// nothing. The answer, 200 with a JSON Report, says what was read,
// imported, already present (by the source's event id: a replayed batch
// imports nothing twice) and skipped, and why.
//
// # Answers
//
//	200  the Report; Okta's verification: {"verification": "<challenge>"}
//	400  a body that is not the format (importers.ErrMalformed), or events
//	     the engine refused (insights.ErrInvalidEvent)
//	401  no or wrong token or signature (WWW-Authenticate: Bearer with a token)
//	405  a method other than POST (and GET for Okta's verification)
//	413  a body over Options.MaxBodyBytes or with more than Options.MaxEvents
//	     records; nothing is imported
//	429  Options.MaxConcurrent requests are already adding: the engine is
//	     behind; Retry-After says when to try again, and nothing is imported
//	500  the engine failed (closed, its store failing)
//
// Errors are {"error": "..."}. Auth0 and Okta retry a delivery that failed;
// since every event keeps its source's id, a retried delivery that had in
// fact been stored counts as already present.
//
// # Concurrency
//
// A Handler is safe for concurrent use; it keeps no state between requests
// but the count of requests adding.
//
// # Caveats
//
//   - The body is held whole (to check its signature, and so that a
//     request is imported all or nothing): memory is MaxBodyBytes, plus the
//     events, per concurrent request.
//   - Okta event hooks carry no signature, only the header the hook was
//     configured with: use Token, and TLS.
package ingest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

// Adder adds events and says how many were new; *insights.Engine is one.
// Implementations must be safe for concurrent use.
type Adder interface {
	AddCount(ctx context.Context, events ...insights.Event) (int, error)
}

// ErrOptions: New was given options it cannot serve with. The error names
// the field.
var ErrOptions = errors.New("ingest: bad options")

// Options configures a Handler. A nil *Options, and every zero field, means
// the default; one of Token and HMACKey is required.
type Options struct {
	// Token, if set, is the secret a request's Authorization header must
	// carry: "Bearer <Token>", or the token alone (Auth0's Authorization
	// Token and Okta's authentication field send the value as configured).
	// Compared in constant time.
	Token string
	// HMACKey, if set, is the key of the HMAC-SHA256 of the body that a
	// request's SignatureHeader must carry, as "sha256=<hex>" or the hex
	// alone. With Token as well, a request must pass both.
	HMACKey []byte
	// SignatureHeader is the header of the signature. Default
	// "X-Signature-256".
	SignatureHeader string
	// MaxBodyBytes is the largest body read. Default 8 MiB.
	MaxBodyBytes int64
	// MaxEvents is the most records one request may hold. Default 10,000.
	MaxEvents int
	// MaxConcurrent is how many requests may add at once; one more is
	// answered 429. Default 4.
	MaxConcurrent int
	// RetryAfter is the Retry-After of a 429, rounded up to seconds.
	// Default 5 s.
	RetryAfter time.Duration
	// MaxSkips is how many skipped records a Report lists. Default 20.
	MaxSkips int
	// Now is the engine's clock, for importers.Options.Now. Default
	// time.Now.
	Now func() time.Time
}

// Report is the answer to a delivery: what was done with its records.
type Report struct {
	Read           int              `json:"read"`           // records read
	Imported       int              `json:"imported"`       // events new to the engine
	AlreadyPresent int              `json:"alreadyPresent"` // events the engine had, by their source's id
	Skipped        int              `json:"skipped"`        // records skipped
	Skips          []importers.Skip `json:"skips,omitempty"`
}

// Handler is an http.Handler receiving one source's pushed logs.
type Handler struct {
	eng    Adder
	format importers.Format
	opts   Options
	slots  chan struct{} // one per request adding
}

// New returns a Handler adding the records of format f, pushed to it, to
// eng. It fails with ErrOptions when neither Token nor HMACKey is set, a
// limit is negative, or f is not a format of importers.Read.
func New(eng Adder, f importers.Format, opts *Options) (*Handler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var bad []string
	if o.Token == "" && len(o.HMACKey) == 0 {
		bad = append(bad, "Token, HMACKey: neither is set, and an endpoint open to anyone would take anyone's events")
	}
	for _, l := range []struct {
		name string
		v    int64
	}{{"MaxBodyBytes", o.MaxBodyBytes}, {"MaxEvents", int64(o.MaxEvents)}, {"MaxConcurrent", int64(o.MaxConcurrent)},
		{"RetryAfter", int64(o.RetryAfter)}, {"MaxSkips", int64(o.MaxSkips)}} {
		if l.v < 0 {
			bad = append(bad, fmt.Sprintf("%s: %d is negative", l.name, l.v))
		}
	}
	// Reading nothing hands no batch to fn: only the format is checked.
	if _, err := importers.Read(context.Background(), strings.NewReader(""), f, nil, nil); err != nil {
		bad = append(bad, fmt.Sprintf("format: %v", err))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrOptions, strings.Join(bad, "; "))
	}
	if o.SignatureHeader == "" {
		o.SignatureHeader = "X-Signature-256"
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxEvents == 0 {
		o.MaxEvents = 10_000
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = 4
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = 5 * time.Second
	}
	if o.MaxSkips == 0 {
		o.MaxSkips = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{eng: eng, format: f, opts: o, slots: make(chan struct{}, o.MaxConcurrent)}, nil
}

// ServeHTTP authenticates the request, answers Okta's verification, or
// imports the body. Cost: one pass over the body, held whole.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && h.format == importers.Okta) {
		w.Header().Set("Allow", h.allow())
		fail(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed; use "+h.allow())
		return
	}
	if !h.tokenOK(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ingest"`)
		fail(w, http.StatusUnauthorized, "no or wrong token in Authorization")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes; nothing was imported", h.opts.MaxBodyBytes))
		return
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	if !h.signatureOK(r, body) {
		fail(w, http.StatusUnauthorized, "no or wrong HMAC-SHA256 signature in "+h.opts.SignatureHeader)
		return
	}
	if r.Method == http.MethodGet {
		h.verify(w, r)
		return
	}
	h.ingest(w, r, body)
}

// allow is the methods the handler serves.
func (h *Handler) allow() string {
	if h.format == importers.Okta {
		return "GET, POST"
	}
	return "POST"
}

// tokenOK reports whether r carries the token, or none is required. It
// is checked before the body is read.
func (h *Handler) tokenOK(r *http.Request) bool {
	if h.opts.Token == "" {
		return true
	}
	got := r.Header.Get("Authorization")
	bearer, _ := strings.CutPrefix(got, "Bearer ")
	return subtle.ConstantTimeCompare([]byte(bearer), []byte(h.opts.Token)) == 1 ||
		subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.Token)) == 1
}

// signatureOK reports whether r carries the HMAC-SHA256 of body, or none
// is required.
func (h *Handler) signatureOK(r *http.Request, body []byte) bool {
	if len(h.opts.HMACKey) == 0 {
		return true
	}
	sig, _ := strings.CutPrefix(r.Header.Get(h.opts.SignatureHeader), "sha256=")
	got, err := hex.DecodeString(sig)
	mac := hmac.New(sha256.New, h.opts.HMACKey)
	mac.Write(body)
	return err == nil && hmac.Equal(got, mac.Sum(nil))
}

// verify answers Okta's one-time verification of an event hook: a GET
// whose X-Okta-Verification-Challenge is echoed as {"verification": ...}.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	challenge := r.Header.Get("X-Okta-Verification-Challenge")
	if challenge == "" {
		fail(w, http.StatusBadRequest, "a GET is Okta's verification and carries X-Okta-Verification-Challenge")
		return
	}
	reply(w, http.StatusOK, map[string]string{"verification": challenge})
}

// errTooMany stops importers.Read once a request holds more than
// MaxEvents records.
var errTooMany = errors.New("too many records")

// ingest imports body, one request's records, all or nothing.
func (h *Handler) ingest(w http.ResponseWriter, r *http.Request, body []byte) {
	in := body
	if h.format == importers.Okta {
		in = oktaEvents(body)
	}
	var evs []insights.Event
	rep, err := importers.Read(r.Context(), bytes.NewReader(in), h.format,
		&importers.Options{Now: h.opts.Now, MaxSkips: h.opts.MaxSkips, BatchSize: h.opts.MaxEvents},
		func(batch []insights.Event) error {
			if len(evs)+len(batch) > h.opts.MaxEvents {
				return errTooMany
			}
			evs = append(evs, batch...)
			return nil
		})
	switch {
	case err == nil && rep.Read > h.opts.MaxEvents, errors.Is(err, errTooMany):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d records; nothing was imported", h.opts.MaxEvents))
		return
	case errors.Is(err, importers.ErrMalformed):
		fail(w, http.StatusBadRequest, err.Error()+"; nothing was imported")
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	select {
	case h.slots <- struct{}{}:
	default:
		w.Header().Set("Retry-After", strconv.Itoa(int((h.opts.RetryAfter+time.Second-1)/time.Second)))
		fail(w, http.StatusTooManyRequests, "the engine is behind; nothing was imported, try again later")
		return
	}
	added, err := h.add(r.Context(), evs)
	<-h.slots
	switch {
	case errors.Is(err, insights.ErrInvalidEvent):
		fail(w, http.StatusBadRequest, err.Error()+"; nothing was imported")
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	reply(w, http.StatusOK, Report{Read: rep.Read, Imported: added, AlreadyPresent: len(evs) - added,
		Skipped: rep.SkippedCount, Skips: rep.Skipped})
}

// add adds evs, if any.
func (h *Handler) add(ctx context.Context, evs []insights.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	return h.eng.AddCount(ctx, evs...)
}

// oktaEvents returns the events of an Okta event hook delivery,
// {"data":{"events":[...]}}, as a JSON array; a body of another shape is
// returned as is, for the okta reader to read or refuse.
func oktaEvents(body []byte) []byte {
	var hook struct {
		Data struct {
			Events json.RawMessage `json:"events"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &hook) != nil || len(hook.Data.Events) == 0 || hook.Data.Events[0] != '[' {
		return body
	}
	return hook.Data.Events
}

// reply writes v as JSON with status code.
func reply(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // unreachable: the values are plain
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// fail writes {"error": msg} with status code.
func fail(w http.ResponseWriter, code int, msg string) {
	reply(w, code, map[string]string{"error": msg})
}
