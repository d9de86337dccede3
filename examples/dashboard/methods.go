package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// Authentication-methods data: methods in Entra's registration wording
// (those insights.DefaultMethodPolicy allows), failure reasons of
// registrations and resets.
var (
	// registrationMethod names the registered method behind each MFA
	// method of the sign-ins.
	registrationMethod = map[string]string{
		"Mobile app notification":           "Microsoft Authenticator",
		"Text message":                      "Text message",
		"Phone call (Authentication phone)": "Voice call",
		"OATH verification code":            "OATH verification code",
	}
	registrationFailures = []string{"Verification code expired", "User did not complete the verification",
		"Invalid phone number", "Method not allowed by policy"}
	resetFailures = []string{"User did not verify", "Verification code expired",
		"Password did not meet complexity requirements", "User not registered for self-service password reset"}
	resetMethods = []string{"Email", "Text message", "Microsoft Authenticator", "Security questions"}
)

// methods returns p's registered methods: the MFA method of the person's
// sign-ins (most people), e-mail and a phone for resets (some), and their
// passwordless method.
func (p *person) methods(r *rand.Rand) []string {
	var ms []string
	if r.IntN(100) < 88 {
		ms = append(ms, registrationMethod[p.mfa])
	}
	if r.IntN(100) < 55 {
		ms = append(ms, "Email")
	}
	if r.IntN(100) < 25 && p.mfa != "Text message" {
		ms = append(ms, "Text message")
	}
	if r.IntN(100) < 6 {
		ms = append(ms, "Security questions")
	}
	if p.passwordless != "" {
		ms = append(ms, p.passwordless)
	}
	return ms
}

// methodActivity returns p's registration state and events over the
// window: for most people from before it, their methods as of the first
// day (for the snapshot the host imports); for the others, the methods
// registered on their first day, a failed attempt now and then before the
// success. Then now and then a passkey added or a method removed, and the
// self-service password resets and account unlocks of the window, some
// failing. at places a day index and time of day; i numbers the person.
func (p *person) methodActivity(r *rand.Rand, days, i int, at func(day, hour, minute int) time.Time) (snapshot []string, events []insights.Event) {
	methods := p.methods(r)
	event := func(day int, kind insights.Kind, method, action, id string) insights.Event {
		return insights.Event{Time: at(day, 8+r.IntN(10), r.IntN(60)), Kind: kind, UserKey: p.key, UserDisplayName: p.name,
			Method: method, Action: action, Status: insights.StatusSuccess, RequestID: fmt.Sprintf("m-%d-%s", i, id)}
	}
	fail := func(e insights.Event, reasons []string) insights.Event {
		e.Status, e.Reason = insights.StatusFailure, reasons[r.IntN(len(reasons))]
		return e
	}
	if p.joined < 0 && r.IntN(100) < 70 {
		snapshot = methods
	} else {
		day := max(p.joined, r.IntN(days))
		for n, m := range methods {
			if r.IntN(100) < 8 {
				events = append(events, fail(event(day, insights.KindRegistration, m, insights.ActionRegistered, fmt.Sprintf("reg%d-failed", n)), registrationFailures))
			}
			events = append(events, event(day, insights.KindRegistration, m, insights.ActionRegistered, fmt.Sprintf("reg%d", n)))
		}
	}
	day := max(p.joined, 0) + r.IntN(days-max(p.joined, 0))
	switch x := r.IntN(100); {
	case x < 4:
		e := event(day, insights.KindRegistration, "Passkey", insights.ActionRegistered, "passkey")
		if r.IntN(5) == 0 {
			e = fail(e, registrationFailures)
		}
		events = append(events, e)
	case x < 7 && len(methods) > 1:
		events = append(events, event(day, insights.KindRegistration, methods[len(methods)-1], insights.ActionRemoved, "removed"))
	}
	for n := range 2 {
		day := max(p.joined, 0) + r.IntN(days-max(p.joined, 0))
		switch x := r.IntN(1000); {
		case x < 45:
			e := event(day, insights.KindReset, resetMethods[r.IntN(len(resetMethods))], insights.ActionPasswordReset, fmt.Sprintf("reset%d", n))
			if r.IntN(100) < 15 {
				e = fail(e, resetFailures)
			}
			events = append(events, e)
		case x < 60:
			e := event(day, insights.KindReset, resetMethods[r.IntN(2)], insights.ActionAccountUnlock, fmt.Sprintf("unlock%d", n))
			if r.IntN(100) < 10 {
				e = fail(e, resetFailures[:2])
			}
			events = append(events, e)
		}
	}
	return snapshot, events
}

// demoPolicy is the demo host's authentication-methods policy: Entra's
// defaults, with two methods needed for a password reset, and a group out
// of SSPR's scope (contractors, say: here the users whose number ends in 7).
func demoPolicy() *insights.MethodPolicy {
	p := insights.DefaultMethodPolicy()
	p.SSPRRequired = 2
	p.SSPREnabled = func(userKey string) bool { return !strings.Contains(userKey, "7@") }
	return &p
}
