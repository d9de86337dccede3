package importers

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// graphSignIn is the part of Graph's signIn resource that maps to events;
// the diagnostic-settings records carry the same object under properties.
type graphSignIn struct {
	ID                      string   `json:"id"`
	CreatedDateTime         string   `json:"createdDateTime"`
	UserID                  string   `json:"userId"`
	UserPrincipalName       string   `json:"userPrincipalName"`
	UserDisplayName         string   `json:"userDisplayName"`
	AppID                   string   `json:"appId"`
	AppDisplayName          string   `json:"appDisplayName"`
	ResourceDisplayName     string   `json:"resourceDisplayName"`
	IPAddress               string   `json:"ipAddress"`
	ClientAppUsed           string   `json:"clientAppUsed"`
	UserAgent               string   `json:"userAgent"`
	CorrelationID           string   `json:"correlationId"`
	SessionID               string   `json:"sessionId"`
	ConditionalAccessStatus string   `json:"conditionalAccessStatus"`
	IsInteractive           *bool    `json:"isInteractive"`
	SignInEventTypes        []string `json:"signInEventTypes"`
	RiskLevelDuringSignIn   string   `json:"riskLevelDuringSignIn"`
	RiskState               string   `json:"riskState"`
	CrossTenantAccessType   string   `json:"crossTenantAccessType"`
	AuthenticationProtocol  string   `json:"authenticationProtocol"`
	ServicePrincipalID      string   `json:"servicePrincipalId"`
	ManagedIdentityType     string   `json:"managedIdentityType"`
	Status                  struct {
		ErrorCode flexInt `json:"errorCode"`
	} `json:"status"`
	DeviceDetail struct {
		OperatingSystem string `json:"operatingSystem"`
		Browser         string `json:"browser"`
		DeviceID        string `json:"deviceId"`
	} `json:"deviceDetail"`
	Location struct {
		City            string `json:"city"`
		State           string `json:"state"`
		CountryOrRegion string `json:"countryOrRegion"`
		GeoCoordinates  struct {
			Latitude  float64 `json:"latitude"`
			Longitude float64 `json:"longitude"`
		} `json:"geoCoordinates"`
	} `json:"location"`
	AuthenticationDetails []struct {
		AuthenticationStepDateTime     string `json:"authenticationStepDateTime"`
		AuthenticationMethod           string `json:"authenticationMethod"`
		Succeeded                      bool   `json:"succeeded"`
		AuthenticationStepResultDetail string `json:"authenticationStepResultDetail"`
		AuthenticationStepRequirement  string `json:"authenticationStepRequirement"`
	} `json:"authenticationDetails"`
	AuthenticationRequirement        string `json:"authenticationRequirement"`
	AppliedConditionalAccessPolicies []struct {
		DisplayName string `json:"displayName"`
		Result      string `json:"result"`
	} `json:"appliedConditionalAccessPolicies"`
	AuthenticationRequirementPolicies []struct {
		RequirementProvider string `json:"requirementProvider"`
		Detail              string `json:"detail"`
	} `json:"authenticationRequirementPolicies"`
	MFADetail struct {
		AuthMethod string `json:"authMethod"`
	} `json:"mfaDetail"`

	timeField string // the field CreatedDateTime came from, for skip reasons
}

// diagRecord is the envelope of a diagnostic-settings record; its
// properties hold a Graph signIn.
type diagRecord struct {
	Time       string          `json:"time"`
	Category   string          `json:"category"`
	ResultType flexInt         `json:"resultType"`
	Properties json.RawMessage `json:"properties"`
}

// readEntraJSON reads Graph signIn objects (an array, a Graph page
// {"value":[...]}, or one per line) and diagnostic-settings records (one
// per line, or {"records":[...]}), mixed freely: a record with properties
// is a diagnostic-settings record.
func readEntraJSON(r io.Reader, s *sink) error {
	return jsonEvents(r, s, []string{"records", "value"}, entraJSONEvent)
}

// entraJSONEvent maps one record and returns its request id, or says why
// it cannot.
func entraJSONEvent(raw []byte) (insights.Event, string, string) {
	var d diagRecord
	if why := decodeRecord(raw, &d); why != "" {
		return insights.Event{}, "", why
	}
	g := graphSignIn{timeField: "createdDateTime"}
	var sit insights.SignInType
	if d.Properties == nil {
		if why := decodeRecord(raw, &g); why != "" {
			return insights.Event{}, "", why
		}
	} else {
		var ok bool
		if sit, ok = categoryType(d.Category); !ok {
			return insights.Event{}, "", "category " + strconv.Quote(d.Category) + " is not a sign-in log"
		}
		if why := decodeRecord(d.Properties, &g); why != "" {
			return insights.Event{}, "", "properties: " + why
		}
		g.CreatedDateTime = cmp.Or(g.CreatedDateTime, d.Time)
		if !g.Status.ErrorCode.Set {
			g.Status.ErrorCode = d.ResultType
		}
	}
	ev, why := g.event(sit)
	return ev, g.ID, why
}

// categoryType returns the sign-in type of a diagnostic-settings category
// (SignInLogs, ...) or of a Log Analytics table (SigninLogs,
// AADNonInteractiveUserSignInLogs, ...); false if it names no sign-in log.
func categoryType(c string) (insights.SignInType, bool) {
	switch strings.ToLower(strings.TrimPrefix(c, "AAD")) {
	case "signinlogs":
		return insights.SignInInteractiveUser, true
	case "noninteractiveusersigninlogs":
		return insights.SignInNonInteractiveUser, true
	case "serviceprincipalsigninlogs":
		return insights.SignInServicePrincipal, true
	case "managedidentitysigninlogs":
		return insights.SignInManagedIdentity, true
	}
	return insights.SignInUnset, false
}

// event maps the sign-in, of type sit if known, or says why it cannot.
func (g *graphSignIn) event(sit insights.SignInType) (insights.Event, string) {
	if !g.Status.ErrorCode.Set {
		return insights.Event{}, "no status.errorCode"
	}
	t, err := parseTime(g.CreatedDateTime)
	if err != nil {
		return insights.Event{}, g.timeField + ": " + err.Error()
	}
	if sit == insights.SignInUnset {
		sit = g.signInType()
	}
	ev := insights.Event{
		Time:              t,
		Kind:              insights.KindSignIn,
		SignInType:        sit,
		ErrorCode:         g.Status.ErrorCode.V,
		AppID:             g.AppID,
		AppName:           g.AppDisplayName,
		Resource:          g.ResourceDisplayName,
		OS:                g.DeviceDetail.OperatingSystem,
		Browser:           g.DeviceDetail.Browser,
		Country:           g.Location.CountryOrRegion,
		AuthFlow:          camel(notNone(g.AuthenticationProtocol)),
		ClientApp:         g.ClientAppUsed,
		AuthRequirement:   requirement(g.AuthenticationRequirement),
		ConditionalAccess: camel(g.ConditionalAccessStatus),
		RiskLevel:         camel(g.RiskLevelDuringSignIn),
		RiskState:         camel(g.RiskState),
		CrossTenant:       camel(g.CrossTenantAccessType),
		CorrelationID:     g.CorrelationID,
		SessionID:         g.SessionID,
		DeviceID:          g.DeviceDetail.DeviceID,
		IP:                g.IPAddress,
		City:              g.Location.City,
		State:             g.Location.State,
		Latitude:          g.Location.GeoCoordinates.Latitude,
		Longitude:         g.Location.GeoCoordinates.Longitude,
		UserAgent:         g.UserAgent,
		UserDisplayName:   g.UserDisplayName,
	}
	identify(&ev, cmp.Or(g.UserID, g.UserPrincipalName), cmp.Or(g.ServicePrincipalID, g.AppID))
	for _, d := range g.AuthenticationDetails {
		st, _ := parseTime(d.AuthenticationStepDateTime)
		ev.AuthDetails = append(ev.AuthDetails, insights.AuthStep{Time: st, Method: d.AuthenticationMethod,
			Succeeded: d.Succeeded, ResultDetail: d.AuthenticationStepResultDetail,
			Requirement: requirement(d.AuthenticationStepRequirement)})
	}
	if m := mfaPerformed(g.MFADetail.AuthMethod); m != "" && !slices.ContainsFunc(ev.AuthDetails, func(s insights.AuthStep) bool {
		return s.Requirement == insights.RequirementMultiFactor
	}) {
		ev.MFAMethod = m
	}
	for _, p := range g.AuthenticationRequirementPolicies {
		ev.MFAPolicies = append(ev.MFAPolicies, cmp.Or(p.Detail, p.RequirementProvider))
	}
	for _, p := range g.AppliedConditionalAccessPolicies {
		ev.CAPolicies = append(ev.CAPolicies, insights.PolicyResult{Name: p.DisplayName, Result: p.Result})
	}
	return ev, ""
}

// signInType returns the type of a Graph signIn: from signInEventTypes,
// else a principal when it names a service principal and no user, else
// from isInteractive (interactive when absent).
func (g *graphSignIn) signInType() insights.SignInType {
	for _, t := range g.SignInEventTypes {
		if st, err := insights.ParseSignInType(t); err == nil && st != insights.SignInUnset {
			return st
		}
	}
	switch {
	case g.UserID == "" && g.UserPrincipalName == "" && notNone(g.ManagedIdentityType) != "":
		return insights.SignInManagedIdentity
	case g.UserID == "" && g.UserPrincipalName == "" && g.ServicePrincipalID != "":
		return insights.SignInServicePrincipal
	case g.IsInteractive != nil && !*g.IsInteractive:
		return insights.SignInNonInteractiveUser
	}
	return insights.SignInInteractiveUser
}
