package importers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/insightslab/insights"
)

// Format names the shape of an input.
type Format string

// The formats Read understands; the package doc maps each to events.
const (
	JSONL     Format = "jsonl"      // the library's own events, one JSON object per line
	EntraCSV  Format = "entra-csv"  // an Entra sign-in log CSV download
	EntraJSON Format = "entra-json" // Entra sign-ins as Graph signIn objects or diagnostic-settings records
	Okta      Format = "okta"       // the Okta System Log
	Auth0     Format = "auth0"      // Auth0 tenant logs

	// EntraLogAnalytics is Entra sign-ins exported from Log Analytics or
	// Microsoft Sentinel (the SigninLogs, AADNonInteractiveUserSignInLogs,
	// AADServicePrincipalSignInLogs and AADManagedIdentitySignInLogs
	// tables), as CSV or JSON.
	EntraLogAnalytics Format = "entra-loganalytics"
	Keycloak          Format = "keycloak" // Keycloak events and admin events
)

// Sentinel errors. Every error Read and ReadSnapshot return wraps one of
// them, a context error, an error of the reader, or the error fn returned.
var (
	// ErrUnknownFormat: Read was given a Format it does not know.
	ErrUnknownFormat = errors.New("importers: unknown format")
	// ErrMalformed: the input's structure is broken past the point where a
	// single row can be skipped (a JSON array or document that does not
	// parse, a CSV without the columns it needs). The error names the line.
	ErrMalformed = errors.New("importers: malformed input")
)

// Options configures Read and ReadSnapshot. A nil *Options, and every zero
// field, means the default.
type Options struct {
	// Now is the clock of the Engine the events go to: events more than a
	// day after it are skipped, as Add would reject them. It is read once,
	// when Read starts. Default time.Now.
	Now func() time.Time
	// BatchSize is the most events handed to fn at once. Default 1000.
	BatchSize int
	// MaxSkips is how many skipped rows Report.Skipped lists; SkippedCount
	// counts them all. Default 100.
	MaxSkips int
	// SignInType is, for EntraCSV only, the sign-in type of every row: the
	// portal downloads each tab as its own file (InteractiveSignIns_*.csv,
	// NonInteractiveSignIns_*.csv, ApplicationSignIns_*.csv, MSISignIns_*.csv)
	// and the rows do not say which. Default: detected per row (see the
	// package doc), interactive unless the row names only a principal.
	SignInType insights.SignInType
	// Envelope is, for the JSON formats other than JSONL, the field under
	// which a log shipper wrapped each record, one object per line:
	// "message" (Fluent Bit, Logstash, Vector) or "json" (Filebeat's JSON
	// decoding). The field may hold the record as an object or as a
	// string of JSON; a record without it is skipped. Default: records
	// are not wrapped.
	Envelope string
}

// Report says what Read or ReadSnapshot did with its input.
type Report struct {
	Read         int    // records read: rows, lines holding a value, array elements
	Imported     int    // events handed to fn (in batches fn accepted)
	Skipped      []Skip // the first Options.MaxSkips records skipped, in input order
	SkippedCount int    // every record skipped
}

// Skip is one record that was not imported, and why.
type Skip struct {
	Line   int    `json:"line"`   // 1-based line where the record starts
	Reason string `json:"reason"` // names the field at fault where there is one
}

// String returns "line N: reason".
func (s Skip) String() string { return fmt.Sprintf("line %d: %s", s.Line, s.Reason) }

// Read maps the records of r, in format f, to events and hands them to fn
// in batches of up to Options.BatchSize, in input order. Records it cannot
// use are skipped and reported; every event it hands over passes the
// checks of Engine.Add that do not depend on the engine (see the package
// doc), so a batch can go to Add whole. It stops at the first error of r,
// of the input's structure (wrapping ErrMalformed), of ctx (checked before
// each batch) or of fn (wrapped with the line its batch ends on), and
// returns what it did until then.
//
// The batch slice is reused once fn returns: fn must not keep it (Add
// copies what it keeps). Cost: one pass over r, memory for one batch plus
// one record (a JSON object wrapping records, {"records":[...]}, is read
// whole). Read is safe to call from several goroutines on distinct inputs.
func Read(ctx context.Context, r io.Reader, f Format, opts *Options, fn func(batch []insights.Event) error) (Report, error) {
	s := newSink(ctx, opts, f, fn)
	var err error
	switch f {
	case JSONL:
		err = readJSONL(r, s)
	case EntraCSV:
		err = readEntraCSV(r, s)
	case EntraJSON:
		err = readEntraJSON(r, s)
	case Okta:
		err = readOkta(r, s)
	case Auth0:
		err = readAuth0(r, s)
	case EntraLogAnalytics:
		err = readEntraLogAnalytics(r, s)
	case Keycloak:
		err = readKeycloak(r, s)
	default:
		return Report{}, fmt.Errorf("%w: %q", ErrUnknownFormat, f)
	}
	if err == nil {
		err = s.flush()
	}
	return s.rep, err
}

// sink collects a reader's events into batches and its skips into the report.
type sink struct {
	ctx      context.Context
	format   Format
	now      time.Time
	batchMax int
	maxSkips int
	csvType  insights.SignInType
	envelope string
	fn       func([]insights.Event) error
	batch    []insights.Event
	line     int // line of the last record, for fn's errors
	rep      Report
}

func newSink(ctx context.Context, opts *Options, f Format, fn func([]insights.Event) error) *sink {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.MaxSkips <= 0 {
		o.MaxSkips = 100
	}
	return &sink{ctx: ctx, format: f, now: o.Now(), batchMax: o.BatchSize, maxSkips: o.MaxSkips,
		csvType: o.SignInType, envelope: o.Envelope, fn: fn}
}

// add checks ev, read at line from the record bytes row (for its request
// id when the source gives none), and queues it, or skips it saying why.
func (s *sink) add(line int, ev insights.Event, sourceID string, row []byte) error {
	ev.RequestID = eventID(s.format, sourceID, row)
	if why := admit(&ev, s.now); why != "" {
		s.skip(line, why)
		return nil
	}
	s.rep.Read++
	s.line = line
	s.batch = append(s.batch, ev)
	if len(s.batch) >= s.batchMax {
		return s.flush()
	}
	return nil
}

// skip records a record that was not imported. Reasons quote input, so
// they are cut to maxReason bytes.
func (s *sink) skip(line int, reason string) {
	s.rep.Read++
	s.rep.SkippedCount++
	if len(s.rep.Skipped) < s.maxSkips {
		s.rep.Skipped = append(s.rep.Skipped, Skip{Line: line, Reason: cut(reason, maxReason)})
	}
}

// maxReason is the longest Skip.Reason.
const maxReason = 256

// flush hands the queued events to fn.
func (s *sink) flush() error {
	if len(s.batch) == 0 {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if err := s.fn(s.batch); err != nil {
		return fmt.Errorf("batch ending on line %d: %w", s.line, err)
	}
	s.rep.Imported += len(s.batch)
	clear(s.batch)
	s.batch = s.batch[:0]
	return nil
}

// isPrincipal reports whether t is a service-principal or managed-identity
// sign-in, which carries a principal id and never a user key.
func isPrincipal(t insights.SignInType) bool {
	return t == insights.SignInServicePrincipal || t == insights.SignInManagedIdentity
}

// identify sets who ev is about: the principal on principal sign-ins
// (without a user display name), else the user.
func identify(ev *insights.Event, user, principal string) {
	if isPrincipal(ev.SignInType) {
		ev.PrincipalID, ev.UserDisplayName = principal, ""
		return
	}
	ev.UserKey = user
}

// eventID returns the request id of an event: the source's own id,
// prefixed by the format ("okta:…", "auth0:…") unless it is an Entra
// request id or the library's own; without one, or when the result would
// be over insights.MaxValueLength, the format, "h:" and a hash of the
// record (or of the over-long id).
func eventID(f Format, id string, row []byte) string {
	prefix, hashPrefix := string(f)+":", string(f)+":h:"
	switch f {
	case JSONL:
		prefix = ""
	case EntraCSV, EntraJSON, EntraLogAnalytics:
		prefix, hashPrefix = "", "entra:h:"
	}
	if id == "" {
		return hashPrefix + digest(row)
	}
	if len(prefix)+len(id) > insights.MaxValueLength {
		return hashPrefix + digest([]byte(id))
	}
	return prefix + id
}

// digest is the hex of the first 16 bytes of b's SHA-256.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
