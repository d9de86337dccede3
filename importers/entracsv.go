package importers

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// readEntraCSV reads a sign-in log download of the Entra admin center.
func readEntraCSV(r io.Reader, s *sink) error {
	t, err := newCSVTable(r)
	if t == nil || err != nil {
		return err
	}
	if !t.has("date (utc)", "date") {
		if t.has("timegenerated [utc]", "resulttype", "timegenerated", "createddatetime [utc]") {
			return fmt.Errorf("%w: line 1: no \"Date (UTC)\" column: a Log Analytics or Sentinel export, read as %s", ErrMalformed, EntraLogAnalytics)
		}
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
