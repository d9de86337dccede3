package web

// authenticationsView is Entra's Authentications insights: sign-in
// attempts and their outcome, by OS, country and failure reason.
var authenticationsView = view{slug: "authentications", title: "Authentications", perm: ViewAggregates, panels: []panel{
	{title: "Authentications per day", kind: lines, params: map[string]string{"metric": "authentications"},
		note: "Sign-in attempts of every type: successes, failures and interrupts (an expected prompt such as MFA)."},
	{title: "Authentications by OS", kind: bars, show: []string{"successes", "failures", "interrupts"},
		params: map[string]string{"metric": "authentications", "granularity": "total", "by": "osFamily"},
		note:   "Attempts in the range by OS family and outcome."},
	{title: "Monthly authentications by country", kind: columns, span: lastMonths, show: []string{"attempts"},
		params: map[string]string{"metric": "authentications", "granularity": "month", "by": "country", "top": "8", "other": "true"},
		note:   "Attempts per calendar month from the 8 countries with the most, over 12 months."},
	{title: "Failures by reason", kind: bars, show: []string{"failures"}, filter: `status = failure`,
		params: map[string]string{"metric": "authentications", "granularity": "total", "by": "reason"},
		note:   "Failed sign-ins in the range by normalized failure reason."},
}}
