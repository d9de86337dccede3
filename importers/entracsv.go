package importers

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// csvTable reads a CSV input with a header row: names are matched without
// case, a byte-order mark or surrounding spaces; a name given twice takes
// the first non-empty of its columns.
type csvTable struct {
	r    *csv.Reader
	cols map[string][]int // header name → column indexes
	n    int              // fields in the header
}

// newCSVTable reads the header of r. An empty input gives a nil table.
func newCSVTable(r io.Reader) (*csvTable, error) {
	lr := newLineReader(r)
	lr.skipBOM()
	cr := csv.NewReader(lr.br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
		return nil, err
	}
	t := &csvTable{r: cr, cols: map[string][]int{}, n: len(header)}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		t.cols[k] = append(t.cols[k], i)
	}
	return t, nil
}

// has reports whether the header has one of the names.
func (t *csvTable) has(names ...string) bool {
	for _, n := range names {
		if len(t.cols[n]) > 0 {
			return true
		}
	}
	return false
}

// get returns the row's value in the first of the named columns it has,
// trimmed.
func (t *csvTable) get(row []string, names ...string) string {
	for _, n := range names {
		for _, i := range t.cols[n] {
			if i < len(row) {
				if v := strings.TrimSpace(row[i]); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// each calls fn with every row after the header and the line it starts
// on; a row that does not parse, or whose field count is not the header's,
// is skipped. The row is valid until fn returns.
func (t *csvTable) each(s *sink, fn func(line int, row []string) error) error {
	for {
		row, err := t.r.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.skip(pe.StartLine, pe.Err.Error())
			continue
		}
		if err != nil {
			return err
		}
		line, _ := t.r.FieldPos(0)
		if len(row) != t.n {
			s.skip(line, fmt.Sprintf("%d fields where the header has %d", len(row), t.n))
			continue
		}
		if err := fn(line, row); err != nil {
			return err
		}
	}
}

// rowBytes is the identity of a row for a derived request id.
func rowBytes(row []string) []byte {
	return []byte(strings.Join(row, "\x1f"))
}

// readEntraCSV reads a sign-in log download of the Entra admin center.
func readEntraCSV(r io.Reader, s *sink) error {
	t, err := newCSVTable(r)
	if t == nil || err != nil {
		return err
	}
	if !t.has("date (utc)", "date") {
		return fmt.Errorf("%w: line 1: no \"Date (UTC)\" column", ErrMalformed)
	}
	return t.each(s, func(line int, row []string) error {
		ev, why := entraCSVEvent(t, row, s.csvType)
		if why != "" {
			s.skip(line, why)
			return nil
		}
		return s.add(line, ev, t.get(row, "request id"), rowBytes(row))
	})
}

// entraCSVEvent maps one row, or says why it cannot.
func entraCSVEvent(t *csvTable, row []string, sit insights.SignInType) (insights.Event, string) {
	get := func(names ...string) string { return t.get(row, names...) }
	tm, err := parseTime(get("date (utc)", "date"))
	if err != nil {
		return insights.Event{}, "Date (UTC): " + err.Error()
	}
	ev := insights.Event{
		Time:              tm,
		Kind:              insights.KindSignIn,
		AppID:             get("application id"),
		AppName:           get("application"),
		Resource:          get("resource"),
		OS:                get("operating system"),
		Browser:           get("browser"),
		AuthFlow:          camel(notNone(get("authentication protocol"))),
		ClientApp:         get("client app"),
		AuthRequirement:   requirement(get("authentication requirement")),
		ConditionalAccess: camel(get("conditional access")),
		RiskLevel:         camel(get("risk level (during sign-in)", "risk level during sign-in")),
		RiskState:         camel(get("risk state")),
		CrossTenant:       camel(get("cross tenant access type")),
		CorrelationID:     get("correlation id"),
		SessionID:         get("session id"),
		DeviceID:          get("device id"),
		IP:                get("ip address"),
		UserAgent:         get("user agent"),
		UserDisplayName:   get("user"),
	}
	ev.City, ev.State, ev.Country = splitLocation(get("location"))
	if code := get("sign-in error code"); code != "" {
		n, err := strconv.Atoi(code)
		if err != nil {
			return insights.Event{}, fmt.Sprintf("Sign-in error code: %q is not a number", code)
		}
		ev.ErrorCode = n
	} else {
		st, ok := csvStatus(get("status"))
		if !ok {
			return insights.Event{}, "no Sign-in error code and no Status"
		}
		ev.Status = st
	}
	if m := mfaPerformed(get("multifactor authentication auth method")); m != "" {
		ev.MFAMethod = m
		if ev.ErrorCode != 0 && deniedMFA(get("multifactor authentication result")) {
			ev.MFAResult = insights.MFADenied
		}
	}
	user := get("user id", "username", "user principal name")
	principal := get("service principal id")
	if sit == insights.SignInUnset {
		switch {
		case user == "" && notNone(get("managed identity type")) != "":
			sit = insights.SignInManagedIdentity
		case user == "" && principal != "":
			sit = insights.SignInServicePrincipal
		case strings.EqualFold(get("is interactive"), "false"):
			sit = insights.SignInNonInteractiveUser
		default:
			sit = insights.SignInInteractiveUser
		}
	}
	ev.SignInType = sit
	identify(&ev, user, cmp.Or(principal, ev.AppID))
	return ev, ""
}

// csvStatus maps the Status column of a row without an error code.
func csvStatus(s string) (insights.Status, bool) {
	switch strings.ToLower(s) {
	case "success":
		return insights.StatusSuccess, true
	case "failure":
		return insights.StatusFailure, true
	case "interrupted":
		return insights.StatusInterrupted, true
	}
	return insights.StatusUnset, false
}

// splitLocation splits the portal's "City, State, Country": one part is
// the country, two are city and country, more are city (with its commas),
// state and country.
func splitLocation(loc string) (city, state, country string) {
	if loc == "" {
		return "", "", ""
	}
	parts := strings.Split(loc, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	n := len(parts)
	switch n {
	case 1:
		return "", "", parts[0]
	case 2:
		return parts[0], "", parts[1]
	}
	return strings.Join(parts[:n-2], ", "), parts[n-2], parts[n-1]
}
