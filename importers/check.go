package importers

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/insightslab/insights"
)

// admit prepares ev for Engine.Add and returns why Add would reject it, ""
// if it would not. It cuts strings over their limits (on a UTF-8 boundary),
// keeps the first insights.MaxAuthSteps steps and insights.MaxPolicies
// policies, drops an IP that does not parse and coordinates out of range; a user key or principal
// id over its limit is a rejection, since cutting would merge identities.
// The rest is Event.Validate.
func admit(ev *insights.Event, now time.Time) string {
	fit(ev)
	if err := ev.Validate(now); err != nil {
		return strings.TrimPrefix(err.Error(), insights.ErrInvalidEvent.Error()+": ")
	}
	return ""
}

// fit cuts ev's strings and lists to the limits of Add and drops an IP
// that is not an address and coordinates out of their range. The request id is already within its limit.
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
	if !(ev.Latitude >= -90 && ev.Latitude <= 90 && ev.Longitude >= -180 && ev.Longitude <= 180) {
		ev.Latitude, ev.Longitude = 0, 0
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
