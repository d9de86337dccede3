package web

// methodsView is Entra's authentication methods activity: users
// registered, enabled and capable for MFA, SSPR and passwordless under
// the host's policy, users by registered method, and registrations and
// resets over the range. Counts only; the lists are registrationsView's.
// Registration and reset events carry no app, OS or country: the view
// does not take the filter bar's dimensions.
var methodsView = view{slug: "methods", title: "Authentication methods", perm: ViewAggregates, unscoped: true,
	content: (*handler).methodsContent, panels: []panel{
		{title: "Registrations per day", kind: lines, show: []string{"successes", "failures"},
			params: map[string]string{"metric": "registrations"},
			note:   "Registration events (a method added or removed; imported snapshots not counted), successes against failures."},
		{title: "Resets per day", kind: lines, show: []string{"successes", "failures"},
			params: map[string]string{"metric": "resets"},
			note:   "Self-service password resets and account unlocks, successes against failures."},
		{title: "Registrations per day by method", kind: columns, show: []string{"attempts"},
			params: map[string]string{"metric": "registrations", "by": "method"},
			note:   "Registration events each day, a segment per method."},
		{title: "Password resets and account unlocks", kind: columns, show: []string{"attempts"},
			params: map[string]string{"metric": "resets", "by": "action"},
			note:   "Reset attempts each day: password resets against account unlocks."},
		{title: "Registrations by method", kind: bars, show: []string{"successes", "failures"},
			params: map[string]string{"metric": "registrations", "granularity": "total", "by": "method"},
			note:   "Registration events in the range by method, successes against failures."},
		{title: "Resets by method", kind: bars, show: []string{"successes", "failures"},
			params: map[string]string{"metric": "resets", "granularity": "total", "by": "method"},
			note:   "Reset attempts in the range by the method that verified the user, successes against failures."},
		{title: "Registration failures by reason", kind: bars, show: []string{"failures"}, filter: `status = failure`,
			params: map[string]string{"metric": "registrations", "granularity": "total", "by": "reason"},
			note:   "Failed registration events in the range by failure reason."},
		{title: "Reset failures by reason", kind: bars, show: []string{"failures"}, filter: `status = failure`,
			params: map[string]string{"metric": "resets", "granularity": "total", "by": "reason"},
			note:   "Failed resets and unlocks in the range by failure reason."},
	}}
