package importers

import (
	"cmp"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// auth0Fields is the part of an Auth0 log event that maps to events, as
// the Management API returns it.
type auth0Fields struct {
	LogID        string `json:"log_id"`
	ID           string `json:"_id"`
	Date         string `json:"date"`
	Type         string `json:"type"`
	Description  string `json:"description"`
	ClientID     string `json:"client_id"`
	ClientName   string `json:"client_name"`
	IP           string `json:"ip"`
	UserAgent    string `json:"user_agent"`
	UserID       string `json:"user_id"`
	UserName     string `json:"user_name"`
	Connection   string `json:"connection"`
	LocationInfo struct {
		CountryCode string  `json:"country_code"`
		CityName    string  `json:"city_name"`
		Latitude    float64 `json:"latitude"`
		Longitude   float64 `json:"longitude"`
	} `json:"location_info"`
	// Details varies with the type; only details.qs.client_id is read, and
	// a details of another shape is ignored.
	Details json.RawMessage `json:"details"`
	// Data holds the event when a log stream delivers it wrapped:
	// {"log_id": ..., "data": {...}}.
	Data *auth0Fields `json:"data"`
}

// auth0Type is what an Auth0 log type code maps to.
type auth0Type struct {
	kind   insights.Kind
	sit    insights.SignInType
	status insights.Status
	reason string
	action string
}

// auth0Types maps the imported type codes; the package doc lists them.
func auth0Types(code string) (auth0Type, bool) {
	const (
		in, non, sp    = insights.SignInInteractiveUser, insights.SignInNonInteractiveUser, insights.SignInServicePrincipal
		ok, fail, intr = insights.StatusSuccess, insights.StatusFailure, insights.StatusInterrupted
	)
	signIn := insights.KindSignIn
	switch code {
	case "s", "scoa", "sepft":
		return auth0Type{kind: signIn, sit: in, status: ok}, true
	case "f", "fc", "fepft":
		return auth0Type{kind: signIn, sit: in, status: fail, reason: insights.ReasonOther}, true
	case "fp", "fu", "fcoa":
		return auth0Type{kind: signIn, sit: in, status: fail, reason: insights.ReasonDenied}, true
	case "fco":
		return auth0Type{kind: signIn, sit: in, status: fail, reason: insights.ReasonConfigError}, true
	case "mfar":
		return auth0Type{kind: signIn, sit: in, status: intr}, true
	case "ssa", "sertft":
		return auth0Type{kind: signIn, sit: non, status: ok}, true
	case "fsa", "fertft":
		return auth0Type{kind: signIn, sit: non, status: fail, reason: insights.ReasonOther}, true
	case "seccft":
		return auth0Type{kind: signIn, sit: sp, status: ok}, true
	case "feccft":
		return auth0Type{kind: signIn, sit: sp, status: fail, reason: insights.ReasonOther}, true
	case "ss":
		return auth0Type{kind: insights.KindSignUp, status: ok}, true
	case "fs":
		return auth0Type{kind: insights.KindSignUp, status: fail, reason: insights.ReasonOther}, true
	case "gd_auth_succeed":
		return auth0Type{kind: insights.KindMFA, status: ok}, true
	case "gd_auth_failed":
		return auth0Type{kind: insights.KindMFA, status: fail, reason: insights.ReasonOther}, true
	case "gd_auth_rejected":
		return auth0Type{kind: insights.KindMFA, status: fail, reason: insights.MFADenied}, true
	case "gd_enrollment_complete":
		return auth0Type{kind: insights.KindRegistration, status: ok, action: insights.ActionRegistered}, true
	case "gd_unenroll":
		return auth0Type{kind: insights.KindRegistration, status: ok, action: insights.ActionRemoved}, true
	case "scp":
		return auth0Type{kind: insights.KindReset, status: ok, action: insights.ActionPasswordReset}, true
	case "fcp":
		return auth0Type{kind: insights.KindReset, status: fail, reason: insights.ReasonOther, action: insights.ActionPasswordReset}, true
	case "du", "sdu":
		return auth0Type{kind: insights.KindUserDeleted, status: ok}, true
	}
	return auth0Type{}, false
}

// readAuth0 reads Auth0 log events: an array (the Management API's
// /api/v2/logs, or {"logs":[...]}), or one per line (log streams).
func readAuth0(r io.Reader, s *sink) error {
	return jsonEvents(r, s, []string{"logs"}, func(raw []byte) (insights.Event, string, string) {
		f := &auth0Fields{}
		if why := decodeRecord(raw, f); why != "" {
			return insights.Event{}, "", why
		}
		if f.Data != nil {
			f.Data.LogID = cmp.Or(f.Data.LogID, f.LogID)
			f = f.Data
		}
		ev, why := f.event()
		return ev, cmp.Or(f.LogID, f.ID), why
	})
}

// event maps the log event, or says why it cannot.
func (f *auth0Fields) event() (insights.Event, string) {
	typ, ok := auth0Types(f.Type)
	switch {
	case ok:
	case f.Type == "slo" || f.Type == "flo":
		return insights.Event{}, "type " + strconv.Quote(f.Type) + " is a logout"
	case strings.HasPrefix(f.Type, "sapi") || strings.HasPrefix(f.Type, "fapi") || strings.HasPrefix(f.Type, "mgmt_api"):
		return insights.Event{}, "type " + strconv.Quote(f.Type) + " is a Management API call"
	default:
		return insights.Event{}, "type " + strconv.Quote(f.Type) + " is not imported"
	}
	t, err := parseTime(f.Date)
	if err != nil {
		return insights.Event{}, "date: " + err.Error()
	}
	ev := insights.Event{
		Time: t, Kind: typ.kind, SignInType: typ.sit, Status: typ.status, Reason: typ.reason, Action: typ.action,
		AppID: f.ClientID, AppName: f.ClientName, IdentityProvider: f.Connection,
		Country: f.LocationInfo.CountryCode, City: f.LocationInfo.CityName,
		Latitude: f.LocationInfo.Latitude, Longitude: f.LocationInfo.Longitude,
		IP: f.IP, UserAgent: f.UserAgent,
	}
	if ev.AppID == "" { // not cmp.Or: decode details only when needed
		ev.AppID = f.queryClientID()
	}
	if typ.reason == insights.ReasonOther && typ.kind == insights.KindSignIn && deniedText(f.Description) {
		ev.Reason = insights.ReasonDenied
	}
	if f.Type == "mfar" {
		ev.AuthRequirement = insights.RequirementMultiFactor
	}
	// Auth0 writes user_agent as "Chrome 118.0.0 / Mac OS X 10.15.7".
	if b, o, ok := strings.Cut(f.UserAgent, " / "); ok && !strings.Contains(o, " / ") && !strings.Contains(f.UserAgent, "Mozilla/") {
		ev.Browser, ev.OS = b, o
	}
	// A failed login of an unknown user (a password spray's guess) may
	// carry neither user_id nor user_name: it stays a failure of no user.
	identify(&ev, cmp.Or(f.UserID, f.UserName), ev.AppID)
	return ev, ""
}

// queryClientID returns details.qs.client_id, the client a login named in
// its query string, "" if there is none.
func (f *auth0Fields) queryClientID() string {
	var d struct {
		QS struct {
			ClientID string `json:"client_id"`
		} `json:"qs"`
	}
	if json.Unmarshal(f.Details, &d) != nil {
		return ""
	}
	return d.QS.ClientID
}

// deniedText reports whether a failure's description says the
// credentials or the account were refused.
func deniedText(s string) bool {
	l := strings.ToLower(s)
	for _, w := range []string{"wrong", "invalid", "incorrect", "blocked", "locked"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}
