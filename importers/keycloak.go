package importers

import (
	"cmp"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// keycloakEvent is the part of a Keycloak EventRepresentation or
// AdminEventRepresentation that maps to events.
type keycloakEvent struct {
	ID        string            `json:"id"`
	Time      *int64            `json:"time"` // Unix milliseconds
	Type      string            `json:"type"`
	ClientID  string            `json:"clientId"`
	UserID    string            `json:"userId"`
	SessionID string            `json:"sessionId"`
	IPAddress string            `json:"ipAddress"`
	Error     string            `json:"error"`
	Details   map[string]string `json:"details"`
	// Admin events.
	OperationType string `json:"operationType"`
	ResourceType  string `json:"resourceType"`
	ResourcePath  string `json:"resourcePath"`
	AuthDetails   struct {
		ClientID  string `json:"clientId"`
		IPAddress string `json:"ipAddress"`
	} `json:"authDetails"`
}

// readKeycloak reads Keycloak events and admin events: an array (the
// admin REST API's events and admin-events), or one per line (event
// listeners).
func readKeycloak(r io.Reader, s *sink) error {
	return jsonEvents(r, s, nil, func(raw []byte) (insights.Event, string, string) {
		var ke keycloakEvent
		if why := decodeRecord(raw, &ke); why != "" {
			return insights.Event{}, "", why
		}
		ev, why := ke.event()
		return ev, ke.ID, why
	})
}

// event maps the Keycloak event, or says why it cannot.
func (ke *keycloakEvent) event() (insights.Event, string) {
	if ke.Time == nil {
		return insights.Event{}, "no time"
	}
	ev := insights.Event{Time: time.UnixMilli(*ke.Time).UTC(), AppID: ke.ClientID, IP: ke.IPAddress,
		SessionID: ke.SessionID, IdentityProvider: ke.Details["identity_provider"], AuthFlow: ke.Details["auth_method"]}
	if ke.OperationType != "" {
		return ke.adminEvent(ev)
	}
	failed := ke.Error != "" || strings.HasSuffix(ke.Type, "_ERROR")
	ev.Status = insights.StatusSuccess
	if failed {
		ev.Status = insights.StatusFailure
	}
	user := cmp.Or(ke.UserID, ke.Details["username"])
	switch t := strings.TrimSuffix(ke.Type, "_ERROR"); t {
	case "LOGIN":
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInInteractiveUser
	case "REFRESH_TOKEN":
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInNonInteractiveUser
	case "CLIENT_LOGIN":
		ev.Kind, ev.SignInType = insights.KindSignIn, insights.SignInServicePrincipal
	case "REGISTER":
		ev.Kind = insights.KindSignUp
	case "UPDATE_PASSWORD", "UPDATE_CREDENTIAL", "REMOVE_CREDENTIAL":
		ct := strings.ToLower(ke.Details["credential_type"])
		if t != "UPDATE_PASSWORD" && ct != "password" {
			if ct == "" {
				return ev, "type " + strconv.Quote(ke.Type) + " names no credential_type"
			}
			ev.Kind, ev.Method, ev.Action = insights.KindRegistration, ke.Details["credential_type"], insights.ActionRegistered
			if t == "REMOVE_CREDENTIAL" {
				ev.Action = insights.ActionRemoved
			}
			break
		}
		ev.Kind, ev.Action, ev.Method = insights.KindReset, insights.ActionPasswordReset, "password"
	case "UPDATE_TOTP", "REMOVE_TOTP":
		ev.Kind, ev.Method, ev.Action = insights.KindRegistration, "otp", insights.ActionRegistered
		if t == "REMOVE_TOTP" {
			ev.Action = insights.ActionRemoved
		}
	case "LOGOUT":
		return ev, "type " + strconv.Quote(ke.Type) + " is a logout"
	case "CODE_TO_TOKEN", "SEND_RESET_PASSWORD", "RESET_PASSWORD":
		return ev, "type " + strconv.Quote(ke.Type) + " is a step of an event logged on its own"
	default:
		return ev, "type " + strconv.Quote(ke.Type) + " is not imported"
	}
	if failed {
		ev.Reason = keycloakReason(ev.Kind, ke.Error)
	}
	ev.UserDisplayName = ke.Details["username"]
	identify(&ev, user, ke.ClientID)
	return ev, ""
}

// adminEvent maps an admin event: a user created or deleted.
func (ke *keycloakEvent) adminEvent(ev insights.Event) (insights.Event, string) {
	ev.AppID, ev.IP = ke.AuthDetails.ClientID, ke.AuthDetails.IPAddress
	if ke.ResourceType != "USER" {
		return ev, "resourceType " + strconv.Quote(ke.ResourceType) + " is not a user"
	}
	switch ke.OperationType {
	case "CREATE":
		ev.Kind = insights.KindUserCreated
	case "DELETE":
		ev.Kind = insights.KindUserDeleted
	default:
		return ev, "operationType " + strconv.Quote(ke.OperationType) + " is not imported"
	}
	ev.Status = insights.StatusSuccess
	if ke.Error != "" {
		ev.Status, ev.Reason = insights.StatusFailure, ke.Error
	}
	id, ok := strings.CutPrefix(ke.ResourcePath, "users/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ev, "resourcePath " + strconv.Quote(cut(ke.ResourcePath, 64)) + " names no user"
	}
	ev.UserKey = id
	return ev, ""
}

// keycloakReason maps a Keycloak error to a failure reason: credentials or
// accounts refused are denied, client and redirect errors configError,
// expired steps incomplete; other kinds keep the error as given.
func keycloakReason(kind insights.Kind, err string) string {
	if kind != insights.KindSignIn && kind != insights.KindSignUp {
		return err
	}
	switch err {
	case "invalid_user_credentials", "invalid_client_credentials", "user_not_found", "user_disabled",
		"user_temporarily_disabled", "invalid_authentication", "access_denied":
		return insights.ReasonDenied
	case "client_not_found", "client_disabled", "invalid_redirect_uri", "not_allowed", "invalid_client":
		return insights.ReasonConfigError
	case "expired_code", "session_expired":
		return insights.ReasonIncomplete
	}
	return insights.ReasonOther
}
