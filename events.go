package insights

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Length limits checked by validation. A longer string rejects the batch.
const (
	MaxKeyLength      = 1024 // UserKey, PrincipalID
	MaxValueLength    = 256  // every indexed dimension value, RequestID, CorrelationID, SessionID, DeviceID
	MaxLogFieldLength = 4096 // UserAgent, UserDisplayName, City, State, step details, policy names
	MaxAuthSteps      = 64   // AuthDetails entries
	MaxPolicies       = 256  // MFAPolicies and CAPolicies entries
)

// Values of Event.AuthRequirement and AuthStep.Requirement.
const (
	RequirementSingleFactor = "singleFactorAuthentication"
	RequirementMultiFactor  = "multiFactorAuthentication"
)

var requirements = []string{RequirementSingleFactor, RequirementMultiFactor}

// MethodPreviouslySatisfied is the AuthStep.Method of an MFA requirement
// satisfied by an earlier claim: no challenge was performed.
const MethodPreviouslySatisfied = "Previously satisfied"

// Values of Event.Action.
const (
	ActionRegistered    = "registered"    // registration: a method was added
	ActionRemoved       = "removed"       // registration: a method was removed
	ActionSnapshot      = "snapshot"      // registration: the method was registered as of the event's time, per an imported snapshot (Engine.ImportRegistrations); not counted as a registration
	ActionPasswordReset = "passwordReset" // reset: a self-service password reset
	ActionAccountUnlock = "accountUnlock" // reset: an account unlock
)

// Event is one thing that happened, as the host reports it. Only Time,
// Kind and the identity (UserKey, or PrincipalID for service-principal and
// managed-identity sign-ins) are required; every other field may be empty.
// A failed user sign-in may have no UserKey (an unknown account, as a
// password spray produces): it counts in authentications and is kept in
// the log, and never counts as a user.
// Add copies what it keeps: the caller may reuse the Event afterwards.
type Event struct {
	Time        time.Time  `json:"time"`                  // when it happened, any zone; required, from 2000-01-01 to a day past the clock
	Kind        Kind       `json:"kind"`                  // required
	UserKey     string     `json:"userKey,omitempty"`     // opaque user identity (object id, subject, e-mail); required on user events but failed sign-ins
	PrincipalID string     `json:"principalId,omitempty"` // service principal or managed identity; required on those sign-ins
	SignInType  SignInType `json:"signInType,omitzero"`   // sign-ins only; unset means interactive user
	Status      Status     `json:"status,omitzero"`       // unset: derived from ErrorCode (SPEC §10)
	ErrorCode   int        `json:"errorCode,omitempty"`   // raw code, always kept; 0 is success
	Reason      string     `json:"reason,omitempty"`      // failure reason; derived from ErrorCode when empty (see Reason* and MFA* constants)

	// Indexed dimensions.
	AppID             string `json:"appId,omitempty"`
	AppName           string `json:"appName,omitempty"`
	Resource          string `json:"resource,omitempty"`
	OS                string `json:"os,omitempty"`      // raw; OSFamily is derived from it
	Browser           string `json:"browser,omitempty"` // raw; BrowserFamily is derived from it
	Country           string `json:"country,omitempty"` // upper-cased at ingest
	Language          string `json:"language,omitempty"`
	IdentityProvider  string `json:"identityProvider,omitempty"`
	AuthFlow          string `json:"authFlow,omitempty"`
	ClientApp         string `json:"clientApp,omitempty"`
	MFAMethod         string `json:"mfaMethod,omitempty"`         // method of the challenge performed; derived from AuthDetails when empty
	MFAResult         string `json:"mfaResult,omitempty"`         // "success" or an MFA failure reason; derived when empty
	AuthRequirement   string `json:"authRequirement,omitempty"`   // RequirementSingleFactor or RequirementMultiFactor; derived when empty
	PrimaryMethod     string `json:"primaryMethod,omitempty"`     // first-factor method; derived from AuthDetails when empty
	ConditionalAccess string `json:"conditionalAccess,omitempty"` // success, failure or notApplied
	RiskLevel         string `json:"riskLevel,omitempty"`         // none, low, medium, high, hidden
	RiskState         string `json:"riskState,omitempty"`         // none, atRisk, confirmedCompromised, remediated, dismissed, ...
	CrossTenant       string `json:"crossTenant,omitempty"`
	Method            string `json:"method,omitempty"` // registration and reset method
	Action            string `json:"action,omitempty"` // registration: registered/removed; reset: passwordReset/accountUnlock

	// Log fields: kept in the event log, searchable there (SPEC §7).
	RequestID       string         `json:"requestId,omitempty"` // the idempotency key
	CorrelationID   string         `json:"correlationId,omitempty"`
	SessionID       string         `json:"sessionId,omitempty"`
	DeviceID        string         `json:"deviceId,omitempty"`
	IP              string         `json:"ip,omitempty"` // client address, IPv4 or IPv6
	City            string         `json:"city,omitempty"`
	State           string         `json:"state,omitempty"`
	Latitude        float64        `json:"latitude,omitempty"`  // degrees north, -90 to 90; with Longitude 0 too, unknown
	Longitude       float64        `json:"longitude,omitempty"` // degrees east, -180 to 180; with Latitude 0 too, unknown
	UserAgent       string         `json:"userAgent,omitempty"`
	UserDisplayName string         `json:"userDisplayName,omitempty"`
	AuthDetails     []AuthStep     `json:"authDetails,omitempty"` // ordered authentication steps
	MFAPolicies     []string       `json:"mfaPolicies,omitempty"` // policies that required MFA
	CAPolicies      []PolicyResult `json:"caPolicies,omitempty"`  // applied conditional-access policies
}

// AuthStep is one step of a sign-in's authentication details.
type AuthStep struct {
	Time         time.Time `json:"time,omitzero"`
	Method       string    `json:"method,omitempty"` // "Password", "Text message", MethodPreviouslySatisfied, ...
	Succeeded    bool      `json:"succeeded"`
	ResultDetail string    `json:"resultDetail,omitempty"`
	Requirement  string    `json:"requirement,omitempty"` // RequirementSingleFactor (primary) or RequirementMultiFactor
}

// PolicyResult is one conditional-access policy applied to a sign-in.
type PolicyResult struct {
	Name   string `json:"name"`
	Result string `json:"result,omitempty"` // success, failure, notApplied, ...
}

// Validate reports whether Add would accept ev with its clock at now: the
// checks of SPEC §2 that need no engine state. The error wraps
// ErrInvalidEvent and names the field. Importers use it to skip rows.
func (ev *Event) Validate(now time.Time) error {
	_, err := validator{loc: time.UTC, now: now}.normalize(ev)
	return err
}

// normEvent is a validated event reduced to what the index keeps.
type normEvent struct {
	day       int32
	time      int64  // Unix ns
	key       string // user key; empty for principal sign-ins and failures of no known user
	vals      [numIndexed]string
	activity  bool // counts as activity for user metrics (SPEC §4)
	requestID string
	rec       string    // the log record (logrecord.go), set by encodeRecords
	place     place     // its address and coordinates, for the risk rules; unknown on replay (read from rec)
	pinned    *dayState // the day preload pinned in memory for apply (memory.go)
	absent    bool      // preload did not find the day: counted in Engine.absent until apply
	added     *int      // counts the event if apply finds it new (AddCount); nil on replay
}

// validator checks events against the engine's clock and zone.
type validator struct {
	loc *time.Location
	now time.Time
}

var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// normalize validates ev and derives its indexed values. The error wraps
// ErrInvalidEvent and names the field.
func (v validator) normalize(ev *Event) (normEvent, error) {
	var n normEvent
	bad := func(field, format string, args ...any) (normEvent, error) {
		return normEvent{}, fmt.Errorf("%w: %s: %s", ErrInvalidEvent, field, fmt.Sprintf(format, args...))
	}
	switch {
	case ev.Time.IsZero():
		return bad("Time", "missing")
	case ev.Time.Before(minEventTime):
		return bad("Time", "%s is before 2000-01-01", ev.Time.Format(time.RFC3339))
	case ev.Time.After(v.now.Add(24 * time.Hour)):
		return bad("Time", "%s is more than a day after the clock", ev.Time.Format(time.RFC3339))
	case ev.Kind < KindSignIn || ev.Kind > KindRiskDecision:
		return bad("Kind", "%d is outside its set", ev.Kind)
	case ev.Status > StatusInterrupted:
		return bad("Status", "%d is outside its set", ev.Status)
	case ev.SignInType > SignInManagedIdentity:
		return bad("SignInType", "%d is outside its set", ev.SignInType)
	case ev.SignInType != SignInUnset && ev.Kind != KindSignIn:
		return bad("SignInType", "set on a %s event", ev.Kind)
	}
	if err := v.checkLengths(ev); err != nil {
		return normEvent{}, err
	}
	principal := ev.SignInType.isPrincipal()
	switch {
	case principal && ev.PrincipalID == "":
		return bad("PrincipalID", "missing on a %s sign-in", ev.SignInType)
	case principal && ev.UserKey != "":
		return bad("UserKey", "set on a %s sign-in, which never counts as a user", ev.SignInType)
	case ev.IP != "":
		ip, err := netip.ParseAddr(ev.IP)
		if err != nil {
			return bad("IP", "%q is not an IP address", ev.IP)
		}
		n.place = place{ip: ip}
	}
	if ev.Kind == KindRiskDecision && !oneOf(ev.RiskState, riskDecisions) {
		return bad("RiskState", "%q on a %s event: not one of %v", ev.RiskState, ev.Kind, riskDecisions)
	}
	if ev.AuthRequirement != "" && !oneOf(ev.AuthRequirement, requirements) {
		return bad("AuthRequirement", "%q is not one of %v", ev.AuthRequirement, requirements)
	}

	status, reason, err := deriveStatus(ev)
	if err != nil {
		return normEvent{}, err
	}
	if !principal && ev.UserKey == "" && (ev.Kind != KindSignIn || status != StatusFailure) {
		// A failed sign-in may name no user: the account did not exist
		// (a password spray's guesses) and the source kept no name.
		return bad("UserKey", "missing on a %s event", ev.Kind)
	}
	if err := checkCoordinates(ev); err != nil {
		return normEvent{}, err
	}
	mfaMethod, mfaResult, err := deriveMFA(ev, status)
	if err != nil {
		return normEvent{}, err
	}
	if err := checkAction(ev); err != nil {
		return normEvent{}, err
	}

	sit := ev.SignInType
	if ev.Kind == KindSignIn && sit == SignInUnset {
		sit = SignInInteractiveUser
	}
	n.day = dayOf(ev.Time, v.loc)
	n.time = ev.Time.UnixNano()
	n.place.lat, n.place.lon, n.place.known = ev.Latitude, ev.Longitude, true
	n.key = ev.UserKey
	n.requestID = ev.RequestID
	n.vals = [numIndexed]string{
		DimKind - 1:              ev.Kind.String(),
		DimAppID - 1:             ev.AppID,
		DimAppName - 1:           ev.AppName,
		DimResource - 1:          ev.Resource,
		DimOS - 1:                ev.OS,
		DimOSFamily - 1:          OSFamily(ev.OS),
		DimBrowser - 1:           ev.Browser,
		DimBrowserFamily - 1:     BrowserFamily(ev.Browser),
		DimCountry - 1:           strings.ToUpper(ev.Country),
		DimLanguage - 1:          ev.Language,
		DimIdentityProvider - 1:  ev.IdentityProvider,
		DimAuthFlow - 1:          ev.AuthFlow,
		DimClientApp - 1:         ev.ClientApp,
		DimSignInType - 1:        "",
		DimStatus - 1:            status.String(),
		DimErrorCode - 1:         strconv.Itoa(ev.ErrorCode),
		DimReason - 1:            reason,
		DimMFAMethod - 1:         mfaMethod,
		DimMFAResult - 1:         mfaResult,
		DimAuthRequirement - 1:   deriveRequirement(ev),
		DimPrimaryMethod - 1:     derivePrimaryMethod(ev),
		DimConditionalAccess - 1: ev.ConditionalAccess,
		DimRiskLevel - 1:         ev.RiskLevel,
		DimRiskState - 1:         ev.RiskState,
		DimCrossTenant - 1:       ev.CrossTenant,
		DimMethod - 1:            ev.Method,
		DimAction - 1:            action(ev),
	}
	if ev.Kind == KindSignIn {
		n.vals[DimSignInType-1] = sit.String()
	}
	n.activity = status == StatusSuccess &&
		(ev.Kind == KindSignUp || ev.Kind == KindSignIn && !sit.isPrincipal())
	return n, nil
}

// deriveStatus fills status and failure reason from the error code where
// the host left them empty (SPEC §10). Non-failures carry no reason.
func deriveStatus(ev *Event) (Status, string, error) {
	ec, _ := LookupErrorCode(ev.ErrorCode)
	status := ev.Status
	if status == StatusUnset {
		status = ec.Status
		if ev.Kind != KindSignIn && status == StatusInterrupted {
			status = StatusFailure
		}
	}
	if status != StatusFailure {
		return status, "", nil
	}
	reason := ev.Reason
	switch ev.Kind {
	case KindSignIn, KindSignUp:
		if reason == "" {
			reason = cmp.Or(ec.Reason, ReasonOther)
		}
		if !oneOf(reason, signInReasons) {
			return 0, "", fmt.Errorf("%w: Reason: %q is not one of %v", ErrInvalidEvent, reason, signInReasons)
		}
	case KindMFA:
		if reason == "" {
			reason = mfaFailure(ev.ErrorCode, "")
		}
		if reason == MFASuccess || !oneOf(reason, mfaResults) {
			return 0, "", fmt.Errorf("%w: Reason: %q is not one of %v", ErrInvalidEvent, reason, mfaResults[1:])
		}
	default: // registrations, resets, user events: the host's own reasons
		reason = cmp.Or(reason, ec.Reason, ReasonOther)
	}
	return status, reason, nil
}

// deriveMFA returns the method and result of the MFA challenge the event
// performed itself: for MFA events always; for sign-ins the explicit
// MFAMethod, else the last multi-factor step of AuthDetails that was not
// satisfied by an earlier claim. Events without a challenge give "", "".
func deriveMFA(ev *Event, status Status) (method, result string, err error) {
	if ev.MFAResult != "" && !oneOf(ev.MFAResult, mfaResults) {
		return "", "", fmt.Errorf("%w: MFAResult: %q is not one of %v", ErrInvalidEvent, ev.MFAResult, mfaResults)
	}
	switch ev.Kind {
	case KindMFA:
		method, result = ev.MFAMethod, ev.MFAResult
		if result == "" {
			result = statusMFAResult(ev, status)
		}
		return method, result, nil
	case KindSignIn:
	default:
		if ev.MFAMethod != "" || ev.MFAResult != "" {
			return "", "", fmt.Errorf("%w: MFAMethod or MFAResult: set on a %s event", ErrInvalidEvent, ev.Kind)
		}
		return "", "", nil
	}
	if ev.MFAMethod != "" {
		result = ev.MFAResult
		if result == "" {
			result = statusMFAResult(ev, status)
		}
		return ev.MFAMethod, result, nil
	}
	for i := len(ev.AuthDetails) - 1; i >= 0; i-- {
		s := ev.AuthDetails[i]
		if s.Requirement != RequirementMultiFactor || s.Method == "" || s.Method == MethodPreviouslySatisfied {
			continue
		}
		result = ev.MFAResult
		if result == "" {
			result = MFASuccess
			if !s.Succeeded {
				result = mfaFailure(ev.ErrorCode, s.ResultDetail)
			}
		}
		return s.Method, result, nil
	}
	if ev.MFAResult != "" {
		return "", "", fmt.Errorf("%w: MFAResult: set without an MFA method or step", ErrInvalidEvent)
	}
	return "", "", nil
}

// statusMFAResult maps an event's status to an MFA result: success,
// mfaIncomplete for an interrupt, the MFA reason for a failure.
func statusMFAResult(ev *Event, status Status) string {
	switch status {
	case StatusSuccess:
		return MFASuccess
	case StatusInterrupted:
		return MFAIncomplete
	}
	if ev.Kind == KindMFA && ev.Reason != "" {
		return ev.Reason
	}
	return mfaFailure(ev.ErrorCode, "")
}

// deriveRequirement returns the authentication requirement of a sign-in:
// as given, else multi-factor when any step was a multi-factor one
// (claim-satisfied included) or an MFA method was given, else single-factor.
func deriveRequirement(ev *Event) string {
	if ev.Kind != KindSignIn || ev.AuthRequirement != "" {
		return ev.AuthRequirement
	}
	if ev.MFAMethod != "" {
		return RequirementMultiFactor
	}
	for _, s := range ev.AuthDetails {
		if s.Requirement == RequirementMultiFactor {
			return RequirementMultiFactor
		}
	}
	return RequirementSingleFactor
}

// derivePrimaryMethod returns a sign-in's first-factor method: as given,
// else the method of the first step that is not a multi-factor one.
func derivePrimaryMethod(ev *Event) string {
	if ev.Kind != KindSignIn || ev.PrimaryMethod != "" {
		return ev.PrimaryMethod
	}
	for _, s := range ev.AuthDetails {
		if s.Requirement != RequirementMultiFactor && s.Method != "" {
			return s.Method
		}
	}
	return ""
}

// checkAction checks Action against the kind; empty means the kind's first action.
func checkAction(ev *Event) error {
	var allowed []string
	switch ev.Kind {
	case KindRegistration:
		allowed = actions[:3]
	case KindReset:
		allowed = actions[3:]
	default:
		if ev.Action != "" {
			return fmt.Errorf("%w: Action: set on a %s event", ErrInvalidEvent, ev.Kind)
		}
		return nil
	}
	if ev.Action != "" && !oneOf(ev.Action, allowed) {
		return fmt.Errorf("%w: Action: %q is not one of %v", ErrInvalidEvent, ev.Action, allowed)
	}
	return nil
}

// actions are the values of Event.Action: registration ones, then reset ones.
var actions = []string{ActionRegistered, ActionRemoved, ActionSnapshot, ActionPasswordReset, ActionAccountUnlock}

// action returns ev's action, the kind's first when empty; "" for kinds
// without actions.
func action(ev *Event) string {
	switch {
	case ev.Action != "":
		return ev.Action
	case ev.Kind == KindRegistration:
		return ActionRegistered
	case ev.Kind == KindReset:
		return ActionPasswordReset
	}
	return ""
}

// checkCoordinates rejects a latitude or longitude outside its range, or
// not a number.
func checkCoordinates(ev *Event) error {
	for _, c := range []struct {
		name  string
		v     float64
		limit float64
	}{{"Latitude", ev.Latitude, 90}, {"Longitude", ev.Longitude, 180}} {
		if !(c.v >= -c.limit && c.v <= c.limit) { // NaN fails both
			return fmt.Errorf("%w: %s: %v is outside [-%v, %v]", ErrInvalidEvent, c.name, c.v, c.limit, c.limit)
		}
	}
	return nil
}

// checkLengths rejects strings over their documented limits.
func (v validator) checkLengths(ev *Event) error {
	type field struct {
		name string
		val  string
		max  int
	}
	fields := []field{
		{"UserKey", ev.UserKey, MaxKeyLength}, {"PrincipalID", ev.PrincipalID, MaxKeyLength},
		{"Reason", ev.Reason, MaxValueLength},
		{"AppID", ev.AppID, MaxValueLength}, {"AppName", ev.AppName, MaxValueLength},
		{"Resource", ev.Resource, MaxValueLength}, {"OS", ev.OS, MaxValueLength},
		{"Browser", ev.Browser, MaxValueLength}, {"Country", ev.Country, MaxValueLength},
		{"Language", ev.Language, MaxValueLength}, {"IdentityProvider", ev.IdentityProvider, MaxValueLength},
		{"AuthFlow", ev.AuthFlow, MaxValueLength}, {"ClientApp", ev.ClientApp, MaxValueLength},
		{"MFAMethod", ev.MFAMethod, MaxValueLength}, {"MFAResult", ev.MFAResult, MaxValueLength},
		{"AuthRequirement", ev.AuthRequirement, MaxValueLength},
		{"ConditionalAccess", ev.ConditionalAccess, MaxValueLength},
		{"RiskLevel", ev.RiskLevel, MaxValueLength}, {"RiskState", ev.RiskState, MaxValueLength},
		{"CrossTenant", ev.CrossTenant, MaxValueLength}, {"PrimaryMethod", ev.PrimaryMethod, MaxValueLength},
		{"Method", ev.Method, MaxValueLength}, {"Action", ev.Action, MaxValueLength},
		{"RequestID", ev.RequestID, MaxValueLength}, {"CorrelationID", ev.CorrelationID, MaxValueLength},
		{"SessionID", ev.SessionID, MaxValueLength}, {"DeviceID", ev.DeviceID, MaxValueLength},
		{"IP", ev.IP, MaxValueLength},
		{"City", ev.City, MaxLogFieldLength}, {"State", ev.State, MaxLogFieldLength},
		{"UserAgent", ev.UserAgent, MaxLogFieldLength}, {"UserDisplayName", ev.UserDisplayName, MaxLogFieldLength},
	}
	for _, f := range fields {
		if len(f.val) > f.max {
			return fmt.Errorf("%w: %s: %d bytes, over the limit of %d", ErrInvalidEvent, f.name, len(f.val), f.max)
		}
	}
	if len(ev.AuthDetails) > MaxAuthSteps {
		return fmt.Errorf("%w: AuthDetails: %d steps, over the limit of %d", ErrInvalidEvent, len(ev.AuthDetails), MaxAuthSteps)
	}
	for i, s := range ev.AuthDetails {
		if len(s.Method) > MaxValueLength || len(s.ResultDetail) > MaxLogFieldLength || len(s.Requirement) > MaxValueLength {
			return fmt.Errorf("%w: AuthDetails[%d]: a string is over its limit", ErrInvalidEvent, i)
		}
	}
	if len(ev.MFAPolicies) > MaxPolicies || len(ev.CAPolicies) > MaxPolicies {
		return fmt.Errorf("%w: MFAPolicies or CAPolicies: over the limit of %d entries", ErrInvalidEvent, MaxPolicies)
	}
	for i, p := range ev.MFAPolicies {
		if len(p) > MaxLogFieldLength {
			return fmt.Errorf("%w: MFAPolicies[%d]: over the limit of %d bytes", ErrInvalidEvent, i, MaxLogFieldLength)
		}
	}
	for i, p := range ev.CAPolicies {
		if len(p.Name) > MaxLogFieldLength || len(p.Result) > MaxValueLength {
			return fmt.Errorf("%w: CAPolicies[%d]: a string is over its limit", ErrInvalidEvent, i)
		}
	}
	return nil
}
