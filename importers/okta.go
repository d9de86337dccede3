package importers

import (
	"cmp"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// oktaEvent is the part of an Okta System Log LogEvent that maps to events.
type oktaEvent struct {
	UUID      string       `json:"uuid"`
	Published string       `json:"published"`
	EventType string       `json:"eventType"`
	Actor     oktaEntity   `json:"actor"`
	Target    []oktaEntity `json:"target"`
	Client    struct {
		IPAddress string `json:"ipAddress"`
		UserAgent struct {
			RawUserAgent string `json:"rawUserAgent"`
			OS           string `json:"os"`
			Browser      string `json:"browser"`
		} `json:"userAgent"`
		GeographicalContext struct {
			City        string `json:"city"`
			State       string `json:"state"`
			Country     string `json:"country"`
			Geolocation struct {
				Lat float64 `json:"lat"`
				Lon float64 `json:"lon"`
			} `json:"geolocation"`
		} `json:"geographicalContext"`
	} `json:"client"`
	Outcome struct {
		Result string `json:"result"`
		Reason string `json:"reason"`
	} `json:"outcome"`
	AuthenticationContext struct {
		ExternalSessionID string `json:"externalSessionId"`
	} `json:"authenticationContext"`
	Transaction struct {
		ID string `json:"id"`
	} `json:"transaction"`
	DebugContext struct {
		DebugData map[string]any `json:"debugData"`
	} `json:"debugContext"`
}

// oktaEntity is an actor or a target.
type oktaEntity struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// readOkta reads Okta System Log events: an array (the /api/v1/logs
// response), or one per line.
func readOkta(r io.Reader, s *sink) error {
	return jsonEvents(r, s, nil, func(raw []byte) (insights.Event, string, string) {
		var oe oktaEvent
		if why := decodeRecord(raw, &oe); why != "" {
			return insights.Event{}, "", why
		}
		ev, why := oe.event()
		return ev, oe.UUID, why
	})
}

// event maps the LogEvent, or says why it cannot.
func (oe *oktaEvent) event() (insights.Event, string) {
	ev := insights.Event{
		IP:            oe.Client.IPAddress,
		UserAgent:     oe.Client.UserAgent.RawUserAgent,
		OS:            known(oe.Client.UserAgent.OS),
		Browser:       known(oe.Client.UserAgent.Browser),
		Country:       oe.Client.GeographicalContext.Country,
		City:          oe.Client.GeographicalContext.City,
		State:         oe.Client.GeographicalContext.State,
		Latitude:      oe.Client.GeographicalContext.Geolocation.Lat,
		Longitude:     oe.Client.GeographicalContext.Geolocation.Lon,
		CorrelationID: oe.Transaction.ID,
		SessionID:     known(oe.AuthenticationContext.ExternalSessionID),
	}
	subject := oe.Actor
	switch t := oe.EventType; {
	case t == "user.session.start" || t == "user.authentication.sso":
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInInteractiveUser
	case t == "user.authentication.auth_via_mfa" || t == "user.mfa.okta_verify.deny_push":
		ev.Kind, ev.MFAMethod = insights.KindMFA, oe.factor()
	case t == "user.authentication.verify":
		f := oe.factor()
		if !isPassword(f) {
			ev.Kind, ev.MFAMethod = insights.KindMFA, f
			break
		}
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInInteractiveUser
		ev.AuthDetails = []insights.AuthStep{{Method: "Password", Succeeded: oe.Outcome.Result == "SUCCESS" || oe.Outcome.Result == "ALLOW",
			ResultDetail: oe.Outcome.Reason, Requirement: insights.RequirementSingleFactor}}
	case t == "app.generic.unauth_app_access_attempt" || t == "app.oauth2.as.evaluate.claim":
		if oe.Outcome.Result != "FAILURE" && oe.Outcome.Result != "DENY" {
			return ev, "event type " + strconv.Quote(t) + " is imported only as a failure; a success is part of a sign-in logged on its own"
		}
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInInteractiveUser
		if t == "app.oauth2.as.evaluate.claim" {
			ev.SignInType = insights.SignInNonInteractiveUser
			if oe.Actor.Type != "User" {
				ev.SignInType = insights.SignInServicePrincipal
			}
		}
	case t == "user.mfa.factor.activate" || t == "user.mfa.factor.deactivate":
		ev.Kind, ev.Method, ev.Action = insights.KindRegistration, oe.factor(), insights.ActionRegistered
		if t == "user.mfa.factor.deactivate" {
			ev.Action = insights.ActionRemoved
		}
	case t == "user.lifecycle.create":
		ev.Kind, subject = insights.KindUserCreated, oe.targetUser()
	case t == "user.lifecycle.delete.completed" || t == "user.lifecycle.delete":
		ev.Kind, subject = insights.KindUserDeleted, oe.targetUser()
	case t == "user.account.reset_password" || t == "user.account.unlock":
		ev.Kind, ev.Action, subject = insights.KindReset, insights.ActionPasswordReset, oe.targetUser()
		if t == "user.account.unlock" {
			ev.Action = insights.ActionAccountUnlock
		}
	case strings.HasPrefix(t, "app.oauth2.") && strings.Contains(t, "token.grant"):
		switch oe.grantType() {
		case "refresh_token":
			ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInNonInteractiveUser
		case "client_credentials":
			ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInServicePrincipal
		default:
			return ev, "grant " + strconv.Quote(oe.grantType()) + " is part of a sign-in logged on its own"
		}
	default:
		return ev, "event type " + strconv.Quote(t) + " is not imported"
	}
	if why := oe.outcome(&ev); why != "" {
		return ev, why
	}
	t, err := parseTime(oe.Published)
	if err != nil {
		return ev, "published: " + err.Error()
	}
	ev.Time = t
	ev.UserDisplayName = subject.DisplayName
	identify(&ev, cmp.Or(subject.ID, subject.AlternateID), subject.ID)
	for _, tg := range oe.Target {
		if tg.Type == "AppInstance" {
			ev.AppID, ev.AppName = tg.ID, tg.DisplayName
			break
		}
	}
	return ev, ""
}

// outcome sets the status, and the reason of a failure, from
// outcome.result and outcome.reason.
func (oe *oktaEvent) outcome(ev *insights.Event) string {
	switch oe.Outcome.Result {
	case "SUCCESS", "ALLOW":
		ev.Status = insights.StatusSuccess
		return ""
	case "CHALLENGE":
		ev.Status = insights.StatusInterrupted
		return ""
	case "FAILURE", "DENY":
		ev.Status = insights.StatusFailure
	default:
		return "outcome.result " + strconv.Quote(oe.Outcome.Result) + " is not the outcome of an attempt"
	}
	reason := strings.ToUpper(oe.Outcome.Reason)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(reason, w) {
				return true
			}
		}
		return false
	}
	switch {
	case oe.EventType == "user.mfa.okta_verify.deny_push" || ev.Kind == insights.KindMFA && has("REJECT", "DENIED"):
		ev.Reason = insights.MFADenied
	case ev.Kind == insights.KindMFA && has("TIMEOUT", "TIMED OUT", "EXPIRED"):
		ev.Reason = insights.MFAIncomplete
	case ev.Kind == insights.KindMFA:
		ev.Reason = insights.ReasonOther
	case ev.Kind != insights.KindSignIn:
		ev.Reason = oe.Outcome.Reason
	case oe.EventType == "app.generic.unauth_app_access_attempt" || oe.EventType == "app.oauth2.as.evaluate.claim":
		ev.Reason = insights.ReasonConfigError // the app's assignment or its claims, not the user's credentials
	case oe.Outcome.Result == "DENY" || has("INVALID", "VERIFICATION_ERROR", "LOCKED_OUT", "DENIED"):
		ev.Reason = insights.ReasonDenied
	case has("PASSWORD_EXPIRED", "PASSWORD EXPIRED"):
		ev.Reason = insights.ReasonUserError
	case has("NOT_ASSIGNED", "NOT ASSIGNED"):
		ev.Reason = insights.ReasonConfigError
	default:
		ev.Reason = insights.ReasonOther
	}
	return ""
}

// targetUser returns the user an event acts on: its first User target,
// else its actor.
func (oe *oktaEvent) targetUser() oktaEntity {
	for _, t := range oe.Target {
		if t.Type == "User" {
			return t
		}
	}
	return oe.Actor
}

// factor returns the MFA factor of an event: the name of its authenticator
// target, else debugData.factor.
func (oe *oktaEvent) factor() string {
	for _, t := range oe.Target {
		switch t.Type {
		case "AuthenticatorEnrollment", "AuthenticatorMethod", "Factor":
			if t.DisplayName != "" {
				return t.DisplayName
			}
		}
	}
	return oe.debug("factor")
}

// grantType returns an OAuth token grant's type: debugData.grantType, else
// the event type's last part.
func (oe *oktaEvent) grantType() string {
	if g := oe.debug("grantType"); g != "" {
		return g
	}
	return oe.EventType[strings.LastIndexByte(oe.EventType, '.')+1:]
}

// debug returns a string of debugData, "" if absent or not a string.
func (oe *oktaEvent) debug(key string) string {
	v, _ := oe.DebugContext.DebugData[key].(string)
	return v
}

// isPassword reports whether an authenticator's name is a password's:
// its verification is a first factor.
func isPassword(factor string) bool {
	return strings.Contains(strings.ToLower(factor), "password")
}

// known returns s, or "" if Okta says it is unknown.
func known(s string) string {
	if strings.EqualFold(s, "unknown") {
		return ""
	}
	return s
}
