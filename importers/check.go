package importers

import (
	"fmt"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/insightslab/insights"
)

// admit prepares ev for Engine.Add and returns why Add would reject it, ""
// if it would not. It cuts strings over their limits (on a UTF-8 boundary),
// keeps the first insights.MaxAuthSteps steps and insights.MaxPolicies
// policies, and drops an IP that does not parse; a user key or principal
// id over its limit is a rejection, since cutting would merge identities.
// These are the checks of Add that need no engine state except its clock;
// stricter in one place: a sign-in reason outside the sign-in set is
// rejected even on a sign-in that did not fail.
func admit(ev *insights.Event, now time.Time) string {
	switch {
	case ev.Time.IsZero():
		return "no time"
	case ev.Time.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)):
		return fmt.Sprintf("time %s is before 2000-01-01", ev.Time.Format(time.RFC3339))
	case ev.Time.After(now.Add(24 * time.Hour)):
		return fmt.Sprintf("time %s is more than a day after the clock", ev.Time.Format(time.RFC3339))
	case ev.Kind < insights.KindSignIn || ev.Kind > insights.KindReset:
		return fmt.Sprintf("kind %d is outside its set", ev.Kind)
	case ev.Status > insights.StatusInterrupted:
		return fmt.Sprintf("status %d is outside its set", ev.Status)
	case ev.SignInType > insights.SignInManagedIdentity:
		return fmt.Sprintf("signInType %d is outside its set", ev.SignInType)
	case ev.SignInType != insights.SignInUnset && ev.Kind != insights.KindSignIn:
		return fmt.Sprintf("signInType set on a %s event", ev.Kind)
	}
	principal := isPrincipal(ev.SignInType)
	switch {
	case principal && ev.PrincipalID == "":
		return "no principal id on a " + ev.SignInType.String() + " sign-in"
	case principal && ev.UserKey != "":
		return "user key on a " + ev.SignInType.String() + " sign-in"
	case !principal && ev.UserKey == "":
		return "no user"
	case len(ev.UserKey) > insights.MaxKeyLength:
		return fmt.Sprintf("user key: %d bytes, over the limit of %d", len(ev.UserKey), insights.MaxKeyLength)
	case len(ev.PrincipalID) > insights.MaxKeyLength:
		return fmt.Sprintf("principal id: %d bytes, over the limit of %d", len(ev.PrincipalID), insights.MaxKeyLength)
	}
	fit(ev)
	return checkValues(ev)
}

// checkValues checks the fields whose values come from a fixed set.
func checkValues(ev *insights.Event) string {
	if r := ev.AuthRequirement; r != "" && r != insights.RequirementSingleFactor && r != insights.RequirementMultiFactor {
		return fmt.Sprintf("authRequirement %q is not a requirement", r)
	}
	if ev.MFAResult != "" && !mfaResult(ev.MFAResult) {
		return fmt.Sprintf("mfaResult %q is not an MFA result", ev.MFAResult)
	}
	switch ev.Kind {
	case insights.KindSignIn, insights.KindSignUp:
		if ev.Reason != "" && !signInReason(ev.Reason) {
			return fmt.Sprintf("reason %q is not a sign-in failure reason", ev.Reason)
		}
	case insights.KindMFA:
		if ev.Reason != "" && (ev.Reason == insights.MFASuccess || !mfaResult(ev.Reason)) {
			return fmt.Sprintf("reason %q is not an MFA failure reason", ev.Reason)
		}
	}
	switch ev.Kind {
	case insights.KindSignIn:
		if ev.MFAResult != "" && ev.MFAMethod == "" && !hasMFAStep(ev.AuthDetails) {
			return "mfaResult set without an MFA method or step"
		}
	case insights.KindMFA:
	default:
		if ev.MFAMethod != "" || ev.MFAResult != "" {
			return fmt.Sprintf("mfaMethod or mfaResult set on a %s event", ev.Kind)
		}
	}
	switch a := ev.Action; {
	case a == "":
	case ev.Kind == insights.KindRegistration:
		if a != insights.ActionRegistered && a != insights.ActionRemoved {
			return fmt.Sprintf("action %q is not a registration action", a)
		}
	case ev.Kind == insights.KindReset:
		if a != insights.ActionPasswordReset && a != insights.ActionAccountUnlock {
			return fmt.Sprintf("action %q is not a reset action", a)
		}
	default:
		return fmt.Sprintf("action set on a %s event", ev.Kind)
	}
	return ""
}

func signInReason(r string) bool {
	switch r {
	case insights.ReasonIncomplete, insights.ReasonDenied, insights.ReasonBadRequest, insights.ReasonSystemFailure,
		insights.ReasonUserError, insights.ReasonConfigError, insights.ReasonOther:
		return true
	}
	return false
}

func mfaResult(r string) bool {
	switch r {
	case insights.MFASuccess, insights.MFAIncomplete, insights.MFADenied, insights.ReasonBadRequest,
		insights.ReasonSystemFailure, insights.ReasonOther:
		return true
	}
	return false
}

// hasMFAStep reports whether a step performed an MFA challenge, as the
// engine derives the MFA method from AuthDetails.
func hasMFAStep(steps []insights.AuthStep) bool {
	for _, s := range steps {
		if s.Requirement == insights.RequirementMultiFactor && s.Method != "" && s.Method != insights.MethodPreviouslySatisfied {
			return true
		}
	}
	return false
}

// fit cuts ev's strings and lists to the limits of Add and drops an IP
// that is not an address. The request id is already within its limit.
func fit(ev *insights.Event) {
	for _, p := range []*string{&ev.Reason, &ev.AppID, &ev.AppName, &ev.Resource, &ev.OS, &ev.Browser,
		&ev.Country, &ev.Language, &ev.IdentityProvider, &ev.AuthFlow, &ev.ClientApp, &ev.MFAMethod,
		&ev.PrimaryMethod, &ev.ConditionalAccess, &ev.RiskLevel, &ev.RiskState, &ev.CrossTenant,
		&ev.Method, &ev.CorrelationID, &ev.SessionID, &ev.DeviceID} {
		*p = cut(*p, insights.MaxValueLength)
	}
	for _, p := range []*string{&ev.City, &ev.State, &ev.UserAgent, &ev.UserDisplayName} {
		*p = cut(*p, insights.MaxLogFieldLength)
	}
	if ev.IP != "" {
		if _, err := netip.ParseAddr(ev.IP); err != nil || len(ev.IP) > insights.MaxValueLength {
			ev.IP = ""
		}
	}
	if len(ev.AuthDetails) > insights.MaxAuthSteps {
		ev.AuthDetails = ev.AuthDetails[:insights.MaxAuthSteps]
	}
	for i := range ev.AuthDetails {
		s := &ev.AuthDetails[i]
		s.Method = cut(s.Method, insights.MaxValueLength)
		s.Requirement = cut(s.Requirement, insights.MaxValueLength)
		s.ResultDetail = cut(s.ResultDetail, insights.MaxLogFieldLength)
	}
	if len(ev.MFAPolicies) > insights.MaxPolicies {
		ev.MFAPolicies = ev.MFAPolicies[:insights.MaxPolicies]
	}
	for i := range ev.MFAPolicies {
		ev.MFAPolicies[i] = cut(ev.MFAPolicies[i], insights.MaxLogFieldLength)
	}
	if len(ev.CAPolicies) > insights.MaxPolicies {
		ev.CAPolicies = ev.CAPolicies[:insights.MaxPolicies]
	}
	for i := range ev.CAPolicies {
		p := &ev.CAPolicies[i]
		p.Name = cut(p.Name, insights.MaxLogFieldLength)
		p.Result = cut(p.Result, insights.MaxValueLength)
	}
}

// cut returns s cut to at most n bytes, on a UTF-8 boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
