package web

import (
	_ "embed"
	"strings"

	"github.com/insightslab/insights"
)

// The dashboard shows people names where the engine keeps codes: failure
// reasons, MFA results, countries, series. The codes stay in the tables,
// the CSV and the charts' tooltips and data attributes.

// unknown labels the empty value of a dimension (an event that did not report it).
const unknown = "Unknown"

// codeLabels are the names of the coded values of some dimensions.
var codeLabels = map[insights.Dimension]map[string]string{
	insights.DimReason: {
		insights.ReasonIncomplete: "Not completed", insights.ReasonDenied: "Denied", insights.ReasonBadRequest: "Bad request",
		insights.ReasonSystemFailure: "System failure", insights.ReasonUserError: "User action needed",
		insights.ReasonConfigError: "Configuration error", insights.ReasonOther: "Other",
	},
	insights.DimMFAResult: {
		insights.MFASuccess: "Success", insights.MFAIncomplete: "Not completed", insights.MFADenied: "Denied by the user",
	},
	insights.DimStatus:            {"success": "Success", "failure": "Failure", "interrupted": "Interrupted"},
	insights.DimConditionalAccess: {"success": "Success", "failure": "Failure", "notApplied": "Not applied"},
	insights.DimAuthRequirement: {
		insights.RequirementSingleFactor: "Single-factor", insights.RequirementMultiFactor: "Multi-factor",
	},
	insights.DimAction: {
		insights.ActionRegistered: "Registered", insights.ActionRemoved: "Removed",
		insights.ActionPasswordReset: "Password reset", insights.ActionAccountUnlock: "Account unlock",
	},
}

// seriesLabels name the series of the engine's metrics.
var seriesLabels = map[string]string{
	"attempts": "Attempts", "successes": "Successes", "failures": "Failures", "interrupts": "Interrupts",
	"multiFactor": "Multi-factor", "singleFactor": "Single-factor", "passwordless": "Passwordless", "other": "Other",
	"users": "Users",
}

//go:embed assets/countries.tab
var countriesTab string

// countries maps ISO 3166-1 alpha-2 codes to English names.
var countries = func() map[string]string {
	m := map[string]string{}
	for _, ln := range strings.Split(countriesTab, "\n") {
		if code, name, ok := strings.Cut(ln, "\t"); ok && !strings.HasPrefix(ln, "#") {
			m[code] = name
		}
	}
	return m
}()

// label returns what the dashboard shows for the value v of d.
func label(d insights.Dimension, v string) string {
	if v == "" {
		return unknown
	}
	if d == insights.DimCountry {
		if name, ok := countries[v]; ok {
			return name
		}
		return v
	}
	if l, ok := codeLabels[d][v]; ok {
		return l
	}
	return v
}

// seriesLabel returns what the dashboard shows for a series.
func seriesLabel(s string) string {
	if l, ok := seriesLabels[s]; ok {
		return l
	}
	return s
}

// withCode returns l, followed by the code v in parentheses when it differs: for tooltips.
func withCode(l, v string) string {
	if v == "" || l == v {
		return l
	}
	return l + " (" + v + ")"
}

// flagLabel names a registration flag: mfaCapable is "Capable of MFA",
// ssprNotRegistered "Not registered for SSPR".
func flagLabel(flag string) string {
	for _, p := range []struct{ key, name string }{{"passwordless", "passwordless"}, {"mfa", "MFA"}, {"sspr", "SSPR"}} {
		state, ok := strings.CutPrefix(flag, p.key)
		if !ok {
			continue
		}
		not, negated := strings.CutPrefix(state, "Not")
		if negated {
			state = not
		}
		l := map[string]string{"Registered": "Registered for ", "Enabled": "Enabled for ", "Capable": "Capable of "}[state] + p.name
		if negated {
			return "Not " + strings.ToLower(l[:1]) + l[1:]
		}
		return l
	}
	return flag
}

// unitOf is the unit of a metric's values, drawn on the value axis.
func unitOf(m insights.Metric) string {
	switch m {
	case insights.ActiveUsers, insights.SigningInUsers, insights.InactiveUsers, insights.NewUsers, insights.TotalUsers,
		insights.RiskyUsers:
		return "users"
	case insights.MFAChallenges, insights.MFAPolicyPrompts:
		return "challenges"
	case insights.Registrations:
		return "registrations"
	case insights.Resets:
		return "resets"
	case insights.Requests:
		return "events"
	case insights.RiskDetections:
		return "detections"
	}
	return "sign-ins"
}

// riskLabels name the codes of risk detections: their types, levels and
// the risky users' states.
var riskLabels = map[string]string{
	string(insights.DetectPasswordSpray):   "Password spray",
	string(insights.DetectBruteForce):      "Brute force",
	string(insights.DetectMFAFatigue):      "MFA fatigue",
	string(insights.DetectUnfamiliar):      "Unfamiliar sign-in properties",
	string(insights.DetectAtypicalTravel):  "Atypical travel",
	string(insights.DetectAnonymizedIP):    "Anonymized IP address",
	string(insights.DetectMaliciousIP):     "Malicious IP address",
	string(insights.DetectSignUpFlood):     "Sign-up flood",
	string(insights.DetectFailureSpike):    "Failure spike",
	insights.RiskNone:                      "None",
	insights.RiskLow:                       "Low",
	insights.RiskMedium:                    "Medium",
	insights.RiskHigh:                      "High",
	insights.RiskStateAtRisk:               "At risk",
	insights.RiskStateRemediated:           "Remediated",
	insights.RiskStateDismissed:            "Dismissed",
	insights.RiskStateConfirmedCompromised: "Confirmed compromised",
}

// riskLabel returns what the dashboard shows for a detection type, a
// risk level or a risky user's state: its code when it has no name.
func riskLabel(code string) string {
	if l, ok := riskLabels[code]; ok {
		return l
	}
	return code
}
