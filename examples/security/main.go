// Command security is starter code for the sign-in log and the security
// views of the insights library: it adds two weeks of generated sign-ins
// with MFA steps, conditional-access policies and registrations to an
// in-memory engine, prints a security overview (MFA-protected sign-ins,
// MFA methods and their success rates, failure reasons, conditional
// access, passwordless, authentication methods), one user's sign-in
// history with its authentication steps, and the risk detections (SPEC
// §9) that three attacks injected among the ordinary traffic fire, a
// password spray, a brute force and an MFA-fatigue burst, with the risky
// users they make. The
// engine's clock is fixed (Options.Now), so the output is the same on
// every run.
//
//	go run ./examples/security
package main

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "security:", err)
		os.Exit(1)
	}
}

var (
	from  = insights.NewDate(2026, 3, 2) // a Monday
	to    = insights.NewDate(2026, 3, 16)
	clock = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
)

func run() error {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.Add(ctx, generate()...); err != nil {
		return err
	}

	fmt.Printf("Security overview, %s to %s (Europe/Paris)\n\n", from, to.AddDays(-1))
	total := func(m insights.Metric, by ...insights.Dimension) (*insights.Result, error) {
		return eng.Query(ctx, insights.Query{Metric: m, From: from, To: to, Granularity: insights.Total, GroupBy: by})
	}
	res, err := total(insights.MFAProtectedSignIns)
	if err != nil {
		return err
	}
	fmt.Println("Successful sign-ins by authentication requirement:")
	for _, r := range res.Rows {
		fmt.Printf("  %-14s %5.0f\n", r.Series, r.Value)
	}

	res, err = total(insights.MFAChallenges, insights.DimMFAMethod)
	if err != nil {
		return err
	}
	fmt.Println("MFA challenges by method (attempts, success rate):")
	attempts := map[string]float64{}
	for _, r := range res.Rows {
		switch r.Series {
		case "attempts":
			attempts[r.Groups[0]] = r.Value
		case "successRate":
			fmt.Printf("  %-26s %4.0f  %5.1f%%\n", r.Groups[0], attempts[r.Groups[0]], 100*r.Value)
		}
	}

	res, err = total(insights.MFAChallenges, insights.DimMFAResult)
	if err != nil {
		return err
	}
	fmt.Println("MFA failures by reason:")
	for _, r := range res.Rows {
		if r.Series == "failures" && r.Value > 0 {
			fmt.Printf("  %-14s %4.0f\n", r.Groups[0], r.Value)
		}
	}

	res, err = total(insights.ConditionalAccessPolicies)
	if err != nil {
		return err
	}
	fmt.Println("Sign-ins per conditional-access policy and result:")
	for _, r := range res.Rows {
		fmt.Printf("  %-28s %-11s %5.0f\n", r.Groups[0], r.Groups[1], r.Value)
	}

	res, err = total(insights.PasswordlessSignIns)
	if err != nil {
		return err
	}
	fmt.Printf("Passwordless sign-ins: %.0f of %.0f successful ones\n", res.Rows[0].Value, res.Rows[0].Value+res.Rows[1].Value)

	sum, err := eng.SummarizeMethods(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Printf("Authentication methods: %d users registered; MFA capable %d, SSPR capable %d, passwordless capable %d\n\n",
		sum.Users, sum.MFA.Capable, sum.SSPR.Capable, sum.Passwordless.Capable)

	// One user's week, newest first, with the steps of each sign-in.
	page, err := eng.UserSignIns(ctx, "user-007@example.com", insights.NewDate(2026, 3, 9), to)
	if err != nil {
		return err
	}
	fmt.Printf("user-007@example.com, week of %s: %d sign-ins\n", insights.NewDate(2026, 3, 9), len(page.Entries))
	for _, e := range page.Entries {
		status := e.Status.String()
		if e.Reason != "" {
			status += " (" + e.Reason + ")"
		}
		fmt.Printf("  %s  %-8s %-15s %-24s %s\n", e.Time.Format("Mon 02 15:04"), e.AppName, e.IP, status, e.City)
		for _, s := range e.AuthDetails {
			ok := "failed"
			if s.Succeeded {
				ok = "succeeded"
			}
			fmt.Printf("      %s %s: %s %s\n", s.Time.Format("15:04:05"), strings.TrimSuffix(s.Requirement, "Authentication"), s.Method, ok)
		}
	}
	return printRisk(ctx, eng)
}

// printRisk prints the risk detections, newest first, each with its rule
// and the sign-ins that fired it, then the risky users.
func printRisk(ctx context.Context, eng *insights.Engine) error {
	dets, err := eng.Detections(ctx, insights.DetectionQuery{From: from, To: to})
	if err != nil {
		return err
	}
	fmt.Printf("\nRisk detections, newest first: %d\n", len(dets.Detections))
	for _, d := range dets.Detections {
		fmt.Printf("  %s  %-14s %-7s %s\n", d.Time.Format("Mon 02 15:04"), d.Type, d.Level, cmp.Or(d.UserKey, d.Source, "(tenant)"))
		fmt.Printf("      %s\n", d.Rule)
		entries, err := eng.EntriesByID(ctx, d.Evidence)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Printf("      evidence %s  %-15s %s\n", e.Time.Format("15:04:05"), e.IP, e.Status)
		}
	}
	users, err := eng.RiskyUsers(ctx, insights.RiskyUserQuery{})
	if err != nil {
		return err
	}
	fmt.Printf("\nRisky users: %d\n", len(users.Users))
	for _, u := range users.Users {
		fmt.Printf("  %-22s level %-7s %-21s detections: %d, updated %s\n", u.UserKey, u.Level, u.State, u.Detections,
			u.Updated.Format("Mon 02 15:04"))
	}
	return nil
}

// generate returns two weeks of sign-ins of 40 users, with MFA steps,
// conditional-access policies and a few registrations; seeded, so the
// output is the same on every run.
func generate() []insights.Event {
	r := rand.New(rand.NewPCG(7, 7))
	apps := []string{"Mail", "Payroll", "Wiki"}
	cities := []string{"Paris", "Lyon", "Lille"}
	mfa := []string{"Microsoft Authenticator", "Text message", "Phone call"}
	var out []insights.Event
	for u := range 40 {
		user := fmt.Sprintf("user-%03d@example.com", u)
		home := fmt.Sprintf("198.51.100.%d", 10+u)
		primary := "Password"
		if u%5 == 0 {
			primary = "FIDO2 security key"
			out = append(out, insights.Event{Time: clock.AddDate(0, 0, -20), Kind: insights.KindRegistration, UserKey: user,
				Method: primary, RequestID: user + "/reg"})
		}
		method := mfa[u%len(mfa)]
		out = append(out, insights.Event{Time: clock.AddDate(0, 0, -20), Kind: insights.KindRegistration, UserKey: user,
			Method: method, RequestID: user + "/mfa"})
		for d := range 14 {
			if r.IntN(3) == 0 {
				continue
			}
			t := from.AddDays(d).Start(time.UTC).Add(time.Duration(7*3600+r.IntN(10*3600)) * time.Second)
			ev := insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: user, AppName: apps[r.IntN(len(apps))],
				IP: home, City: cities[u%len(cities)], RequestID: fmt.Sprintf("%s/%d", user, d),
				AuthDetails: []insights.AuthStep{{Time: t, Method: primary, Succeeded: true, Requirement: insights.RequirementSingleFactor}}}
			if ev.AppName == "Payroll" { // MFA required by policy
				ev.MFAPolicies = []string{"Require MFA for Payroll"}
				ev.CAPolicies = []insights.PolicyResult{{Name: "Require MFA for Payroll", Result: "success"}}
				step := insights.AuthStep{Time: t.Add(20 * time.Second), Method: method, Succeeded: true, Requirement: insights.RequirementMultiFactor}
				if r.IntN(6) == 0 {
					step.Succeeded, step.ResultDetail = false, "MFA denied; user declined the authentication"
					ev.ErrorCode = 500121
					ev.CAPolicies[0].Result = "failure"
				}
				ev.AuthDetails = append(ev.AuthDetails, step)
			} else {
				ev.CAPolicies = []insights.PolicyResult{{Name: "Block legacy authentication", Result: "notApplied"}}
			}
			if r.IntN(15) == 0 {
				ev.ErrorCode, ev.AuthDetails[0].Succeeded = 50126, false // wrong password
			}
			out = append(out, ev)
		}
	}
	return append(out, attacks()...)
}

// attacks are three attacks among the ordinary traffic: a password spray
// from one /24 at night against 30 accounts, of which user-003 then signs
// in from that network; a brute force on user-011 (12 wrong passwords in
// 6 minutes from one address, then a success); and an MFA-fatigue burst
// on user-023 (6 push notifications denied in half an hour, then one
// approved).
func attacks() []insights.Event {
	var out []insights.Event
	night := from.AddDays(11).Start(time.UTC).Add(2 * time.Hour)
	for i := range 30 {
		out = append(out, insights.Event{Time: night.Add(time.Duration(i) * time.Minute), Kind: insights.KindSignIn,
			UserKey: fmt.Sprintf("user-%03d@example.com", i), ErrorCode: 50126, AppName: "Mail",
			IP: fmt.Sprintf("203.0.113.%d", 20+i), RequestID: fmt.Sprintf("spray/%d", i)})
	}
	out = append(out, insights.Event{Time: night.Add(3 * time.Hour), Kind: insights.KindSignIn, UserKey: "user-003@example.com",
		AppName: "Mail", IP: "203.0.113.44", RequestID: "spray/ok"})
	brute := time.Date(2026, 3, 10, 13, 2, 0, 0, time.UTC)
	victim := "user-011@example.com"
	for i := range 13 {
		t := brute.Add(time.Duration(i) * 30 * time.Second)
		ev := insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: victim, AppName: "Mail", IP: "198.18.0.66",
			City: "Unknown", RequestID: fmt.Sprintf("brute/%d", i), ErrorCode: 50126,
			AuthDetails: []insights.AuthStep{{Time: t, Method: "Password", Requirement: insights.RequirementSingleFactor}}}
		if i == 12 { // the guess that worked
			t = brute.Add(20 * time.Minute)
			ev.Time, ev.ErrorCode, ev.AuthDetails = t, 0,
				[]insights.AuthStep{{Time: t, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}}
		}
		out = append(out, ev)
	}
	fatigue := time.Date(2026, 3, 12, 21, 5, 0, 0, time.UTC)
	target := "user-023@example.com"
	for i := range 7 {
		t := fatigue.Add(time.Duration(i) * 5 * time.Minute)
		mfa := insights.AuthStep{Time: t.Add(10 * time.Second), Method: "Mobile app notification",
			Requirement: insights.RequirementMultiFactor, ResultDetail: "MFA denied; user declined the authentication"}
		ev := insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: target, AppName: "Payroll", IP: "192.0.2.77",
			City: "Unknown", RequestID: fmt.Sprintf("fatigue/%d", i), ErrorCode: 500121,
			MFAPolicies: []string{"Require MFA for Payroll"}}
		if i == 6 { // the user gives in
			mfa.Succeeded, mfa.ResultDetail, ev.ErrorCode = true, "", 0
		}
		ev.AuthDetails = []insights.AuthStep{{Time: t, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}, mfa}
		out = append(out, ev)
	}
	return out
}
