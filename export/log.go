package export

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/insightslab/insights"
)

// EntrySource streams sign-in log entries, like sql.Rows: Next advances
// and reports whether there is an entry, Entry returns it, Err reports
// what stopped Next. The engine's log iterator implements it. The writers
// read a source from one goroutine and do not keep the entries.
type EntrySource interface {
	Next() bool
	Entry() insights.LogEntry
	Err() error
}

// EventSource streams events, like EntrySource.
type EventSource interface {
	Next() bool
	Event() insights.Event
	Err() error
}

// LogColumns returns the header of LogCSV: the json names of LogEntry's
// fields, in a fixed order. Columns are only ever added at the end. The
// caller owns the slice.
func LogColumns() []string {
	names := make([]string, len(logColumns))
	for i, c := range logColumns {
		names[i] = c.name
	}
	return names
}

// logColumn is one column of LogCSV: its name and its cell, and whether
// the package formats the cell itself (numbers, times) rather than
// copying a string from the event.
type logColumn struct {
	name string
	own  bool
	cell func(e *insights.LogEntry) (string, error)
}

func str(f func(e *insights.LogEntry) string) func(*insights.LogEntry) (string, error) {
	return func(e *insights.LogEntry) (string, error) { return f(e), nil }
}

// jsonCell renders v as compact JSON, or "" for an empty slice.
func jsonCell[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

var logColumns = []logColumn{
	{"id", false, str(func(e *insights.LogEntry) string { return e.ID })},
	{"time", true, str(func(e *insights.LogEntry) string {
		if e.Time.IsZero() {
			return ""
		}
		return e.Time.Format(time.RFC3339Nano)
	})},
	{"kind", false, str(func(e *insights.LogEntry) string { return enumText(e.Kind != 0, e.Kind) })},
	{"userKey", false, str(func(e *insights.LogEntry) string { return e.UserKey })},
	{"principalId", false, str(func(e *insights.LogEntry) string { return e.PrincipalID })},
	{"signInType", false, str(func(e *insights.LogEntry) string { return enumText(e.SignInType != 0, e.SignInType) })},
	{"status", false, str(func(e *insights.LogEntry) string { return enumText(e.Status != 0, e.Status) })},
	{"errorCode", true, str(func(e *insights.LogEntry) string { return strconv.Itoa(e.ErrorCode) })},
	{"reason", false, str(func(e *insights.LogEntry) string { return e.Reason })},
	{"appId", false, str(func(e *insights.LogEntry) string { return e.AppID })},
	{"appName", false, str(func(e *insights.LogEntry) string { return e.AppName })},
	{"resource", false, str(func(e *insights.LogEntry) string { return e.Resource })},
	{"os", false, str(func(e *insights.LogEntry) string { return e.OS })},
	{"osFamily", false, str(func(e *insights.LogEntry) string { return e.OSFamily })},
	{"browser", false, str(func(e *insights.LogEntry) string { return e.Browser })},
	{"browserFamily", false, str(func(e *insights.LogEntry) string { return e.BrowserFamily })},
	{"country", false, str(func(e *insights.LogEntry) string { return e.Country })},
	{"language", false, str(func(e *insights.LogEntry) string { return e.Language })},
	{"identityProvider", false, str(func(e *insights.LogEntry) string { return e.IdentityProvider })},
	{"authFlow", false, str(func(e *insights.LogEntry) string { return e.AuthFlow })},
	{"clientApp", false, str(func(e *insights.LogEntry) string { return e.ClientApp })},
	{"mfaMethod", false, str(func(e *insights.LogEntry) string { return e.MFAMethod })},
	{"mfaResult", false, str(func(e *insights.LogEntry) string { return e.MFAResult })},
	{"authRequirement", false, str(func(e *insights.LogEntry) string { return e.AuthRequirement })},
	{"primaryMethod", false, str(func(e *insights.LogEntry) string { return e.PrimaryMethod })},
	{"conditionalAccess", false, str(func(e *insights.LogEntry) string { return e.ConditionalAccess })},
	{"riskLevel", false, str(func(e *insights.LogEntry) string { return e.RiskLevel })},
	{"riskState", false, str(func(e *insights.LogEntry) string { return e.RiskState })},
	{"crossTenant", false, str(func(e *insights.LogEntry) string { return e.CrossTenant })},
	{"method", false, str(func(e *insights.LogEntry) string { return e.Method })},
	{"action", false, str(func(e *insights.LogEntry) string { return e.Action })},
	{"requestId", false, str(func(e *insights.LogEntry) string { return e.RequestID })},
	{"correlationId", false, str(func(e *insights.LogEntry) string { return e.CorrelationID })},
	{"sessionId", false, str(func(e *insights.LogEntry) string { return e.SessionID })},
	{"deviceId", false, str(func(e *insights.LogEntry) string { return e.DeviceID })},
	{"ip", false, str(func(e *insights.LogEntry) string { return e.IP })},
	{"city", false, str(func(e *insights.LogEntry) string { return e.City })},
	{"state", false, str(func(e *insights.LogEntry) string { return e.State })},
	{"userAgent", false, str(func(e *insights.LogEntry) string { return e.UserAgent })},
	{"userDisplayName", false, str(func(e *insights.LogEntry) string { return e.UserDisplayName })},
	{"authDetails", false, func(e *insights.LogEntry) (string, error) { return jsonCell(e.AuthDetails) }},
	{"mfaPolicies", false, func(e *insights.LogEntry) (string, error) { return jsonCell(e.MFAPolicies) }},
	{"caPolicies", false, func(e *insights.LogEntry) (string, error) { return jsonCell(e.CAPolicies) }},
	{"latitude", true, str(func(e *insights.LogEntry) string { return coordinate(e, e.Latitude) })},
	{"longitude", true, str(func(e *insights.LogEntry) string { return coordinate(e, e.Longitude) })},
	{"computedRisk", false, str(func(e *insights.LogEntry) string { return e.ComputedRisk })},
}

// coordinate is v in the shortest decimal that reads back exactly, empty
// when the entry has no coordinates (both 0).
func coordinate(e *insights.LogEntry, v float64) string {
	if e.Latitude == 0 && e.Longitude == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// enumText is v's name, or "" when v is unset.
func enumText(set bool, v interface{ String() string }) string {
	if !set {
		return ""
	}
	return v.String()
}

// LogCSV writes the entries of src as CSV: the header LogColumns(), then one
// line per entry in the source's order. Times are RFC 3339 with
// nanoseconds in the entry's zone; kinds, statuses and sign-in types are
// their names; authDetails, mfaPolicies and caPolicies are each one cell
// of compact JSON (the event format's arrays), empty when there are none.
// Text cells are neutralized (see the package doc). Cost: one pass,
// memory independent of the number of entries.
func LogCSV(w io.Writer, src EntrySource, opts *CSVOptions) error {
	c, err := newCSV(w, opts, LogColumns())
	if err != nil {
		return err
	}
	for src.Next() {
		e := src.Entry()
		for _, col := range logColumns {
			v, err := col.cell(&e)
			if err != nil {
				return err
			}
			if col.own {
				c.raw(v)
			} else {
				c.text(v)
			}
		}
		if err := c.flushRecord(); err != nil {
			return err
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	return c.close()
}

// LogJSON writes the entries of src as JSON lines, or a JSON array with
// opts.Array: each entry is insights.LogEntry's JSON, the event format's
// object plus id, osFamily and browserFamily. Cost: one pass, memory
// independent of the number of entries.
func LogJSON(w io.Writer, src EntrySource, opts *JSONOptions) error {
	return writeJSONList(w, src, src.Entry, opts)
}

// EventsJSON writes the events of src in the event format (see the package
// doc): JSON lines, one insights.Event a line. Cost: one pass, memory
// independent of the number of events.
func EventsJSON(w io.Writer, src EventSource) error {
	return writeJSONList(w, src, src.Event, nil)
}

// LogEvents returns the events of the entries of src, to write a log in
// the event format: EventsJSON(w, LogEvents(src)). The fields the engine
// derived (status, reason, MFA method and result, requirement, ...) are
// written as it filled them, so importing the file derives nothing anew;
// id and the OS and browser families are dropped (they are derived again).
func LogEvents(src EntrySource) EventSource { return entryEvents{src} }

type entryEvents struct{ EntrySource }

func (s entryEvents) Event() insights.Event { return s.Entry().Event }
