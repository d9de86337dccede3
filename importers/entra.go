package importers

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/insightslab/insights"
)

// Helpers shared by the Entra readers (and the time parsing by all).

// parseTime parses ISO 8601 with a zone (any fraction of a second), or a
// zone-less form read as UTC, among them the portal's US-style
// "9/20/2023, 4:15:06 PM".
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range [...]string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05",
		"1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM", "1/2/2006, 15:04:05", "1/2/2006 15:04"} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil && t.IsZero() {
			return t, fmt.Errorf("%q is before 2000-01-01", s) // not "missing", as the zero time would say
		} else if err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// camel turns a display value into Graph's camelCase form ("Not Applied" →
// "notApplied", "B2B collaboration" → "b2bCollaboration", "None" → "none"),
// so that a CSV download and a JSON download give the same values. Values
// already in that form are unchanged.
func camel(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '_' })
	var b strings.Builder
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		switch {
		case i > 0:
			b.WriteRune(unicode.ToUpper(r))
			b.WriteString(w[n:])
		case strings.ToUpper(w) == w:
			b.WriteString(strings.ToLower(w))
		default:
			b.WriteRune(unicode.ToLower(r))
			b.WriteString(w[n:])
		}
	}
	return b.String()
}

// requirement maps a sign-in's authentication requirement or a step's
// requirement, in any of Entra's spellings ("multiFactorAuthentication",
// "Multifactor authentication", "Primary authentication", "MFA"), to
// insights.RequirementSingleFactor or RequirementMultiFactor; "" if unknown.
func requirement(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "multi") || strings.Contains(l, "mfa"):
		return insights.RequirementMultiFactor
	case strings.Contains(l, "single") || strings.Contains(l, "primary"):
		return insights.RequirementSingleFactor
	}
	return ""
}

// notNone returns s, or "" if it says none.
func notNone(s string) string {
	if strings.EqualFold(s, "none") {
		return ""
	}
	return s
}

// mfaPerformed returns the MFA method of a sign-in when a challenge was
// performed, "" when the method says MFA was satisfied earlier.
func mfaPerformed(method string) string {
	l := strings.ToLower(method)
	if strings.Contains(l, "previously satisfied") || strings.Contains(l, "claim in the token") || strings.Contains(l, "satisfied by token") {
		return ""
	}
	return method
}

// deniedMFA reports whether an MFA result detail says the user or the
// method refused the challenge (SPEC §10: 500121 by result detail).
func deniedMFA(detail string) bool {
	l := strings.ToLower(detail)
	return strings.Contains(l, "denied") || strings.Contains(l, "declined") || strings.Contains(l, "fraud")
}

// flexInt is a JSON integer that may also come as a string ("50074").
type flexInt struct {
	V   int
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	b = bytes.Trim(b, `"`)
	if len(b) == 0 {
		return nil
	}
	v, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("error code %s is not an integer", strconv.Quote(cut(string(b), 20)))
	}
	*f = flexInt{V: v, Set: true}
	return nil
}
