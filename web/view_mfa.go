package web

// mfaView is Entra's MFA usage: challenges by method with their
// outcome, failure reasons, MFA-protected sign-ins and the policies
// behind the prompts.
var mfaView = view{slug: "mfa", title: "MFA usage", perm: ViewAggregates, panels: []panel{
	{title: "MFA challenges by method", kind: bars, show: []string{"successes", "failures"},
		params: map[string]string{"metric": "mfaChallenges", "granularity": "total", "by": "mfaMethod"},
		note:   "Second-factor challenges performed in the range (not those satisfied by an earlier claim), successes against failures."},
	{title: "MFA failure reasons", kind: bars, show: []string{"failures"}, filter: `not mfaResult = success`,
		params: map[string]string{"metric": "mfaChallenges", "granularity": "total", "by": "mfaResult"},
		note:   "Failed challenges by MFA reason."},
	{title: "MFA challenges per month", kind: columns, span: lastMonths, show: []string{"successes", "failures"},
		params: map[string]string{"metric": "mfaChallenges", "granularity": "month"},
		note:   "Second-factor challenges each calendar month over 12 months, successes against failures."},
	{title: "MFA-protected sign-ins", kind: lines, params: map[string]string{"metric": "mfaProtectedSignIns"},
		note: "Successful sign-ins that required multiple factors (a claim from an earlier MFA included) against single-factor ones."},
	{title: "Passwordless sign-ins", kind: lines, params: map[string]string{"metric": "passwordlessSignIns"},
		note: "Successful sign-ins whose primary method was FIDO2, a passkey, Windows Hello or Authenticator passwordless."},
	{title: "MFA prompts by policy", kind: bars, show: []string{"successes", "failures"},
		params: map[string]string{"metric": "mfaPolicyPrompts", "granularity": "total"},
		note:   "Challenges by the policy that required them."},
	{title: "Conditional-access policies", kind: bars,
		params: map[string]string{"metric": "conditionalAccessPolicies", "granularity": "total", "top": "12"},
		note:   "Sign-ins per applied conditional-access policy and its result."},
}}
