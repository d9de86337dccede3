package insights_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// userStateTraffic is riskTraffic with remedies and decisions injected for
// the users its attacks touch: an MFA sign-in at the time of the success
// that ends the brute force, a dismissal at the time of the travel
// detection (returned as ties, for the test to look just after them);
// then sign-ins with MFA from home, password
// resets, failed resets (no remedy), dismissals and confirmations, at
// random times of the last days or at the time of one of the user's
// events; decisions for all but u3 and u5 (left to their remedies), a
// minute apart at least, so that their order is their time's.
func userStateTraffic(seed uint64) (evs []insights.Event, ties []time.Time) {
	evs = riskTraffic(seed)
	rng := rand.New(rand.NewPCG(seed, 21))
	day0 := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	users := []string{"u3", "u5", "u7", "u9", "u11", "u12"}
	decided := map[string][]time.Time{}
	for _, e := range slices.Clone(evs) {
		switch {
		case e.UserKey == "u3" && e.ErrorCode == 0 && e.IP == "100.64.3.9" && e.Time.Day() == 9 && e.Time.Hour() == 9:
			// An MFA sign-in at the time of the success that ends the
			// brute force (its last evidence): not later, no remedy.
			e.MFAMethod, e.MFAResult = "Authenticator app", insights.MFASuccess
			evs, ties = append(evs, e), append(ties, e.Time)
		case e.UserKey == "u7" && e.Country == "JP":
			// A dismissal at the time of the travel detection covers it.
			evs = append(evs, insights.Event{Time: e.Time, Kind: insights.KindRiskDecision, UserKey: "u7", RiskState: insights.RiskStateDismissed})
			decided["u7"], ties = append(decided["u7"], e.Time), append(ties, e.Time)
		}
	}
	for range 80 {
		u := users[rng.IntN(len(users))]
		t := day0.Add(34*24*time.Hour + time.Duration(rng.Int64N(int64(6*24*time.Hour)))).Truncate(time.Minute)
		if rng.IntN(2) == 0 {
			var ts []time.Time
			for _, e := range evs {
				if e.UserKey == u {
					ts = append(ts, e.Time)
				}
			}
			t = ts[rng.IntN(len(ts))]
		}
		home := fmt.Sprintf("100.64.%s.9", u[1:])
		switch rng.IntN(5) {
		case 0, 1:
			evs = append(evs, insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: u, IP: home, AppID: "portal", Country: "FR",
				OS: "Windows 10", Browser: "Edge", Latitude: 48.85, Longitude: 2.35, MFAMethod: "Authenticator app", MFAResult: insights.MFASuccess})
		case 2:
			st := insights.StatusSuccess
			if rng.IntN(2) == 0 {
				st = insights.StatusFailure
			}
			evs = append(evs, insights.Event{Time: t, Kind: insights.KindReset, UserKey: u, Method: "Email", Action: insights.ActionPasswordReset, Status: st})
		default:
			if u == "u3" || u == "u5" || slices.ContainsFunc(decided[u], func(d time.Time) bool { return d.Sub(t).Abs() < time.Minute }) {
				continue
			}
			decided[u] = append(decided[u], t)
			st := insights.RiskStateDismissed
			if rng.IntN(2) == 0 {
				st = insights.RiskStateConfirmedCompromised
			}
			evs = append(evs, insights.Event{Time: t, Kind: insights.KindRiskDecision, UserKey: u, RiskState: st})
		}
	}
	return evs, ties
}

// specRiskyUsers computes the risky users as of asOf from SPEC §9's state
// rules, over the raw events and the engine's detections (who, level,
// time, and the last evidence time, WindowEnd), with the same rules as
// internal/risk's oracleUsers: remedies (a successful user sign-in with
// MFA, a successful password reset) after the evidence remediate; the
// last decision at or before asOf rules: confirmedCompromised whatever
// else, a dismissal covering detections up to its time; an active
// detection makes the user atRisk at the highest level; then dismissed,
// then remediated.
func specRiskyUsers(dets []insights.Detection, evs []insights.Event, asOf time.Time, window time.Duration) []insights.RiskyUser {
	rank := map[string]int{insights.RiskNone: 0, insights.RiskLow: 1, insights.RiskMedium: 2, insights.RiskHigh: 3}
	remedy := func(e insights.Event) bool {
		switch e.Kind {
		case insights.KindSignIn:
			return e.ErrorCode == 0 && e.Status != insights.StatusFailure && e.MFAResult == insights.MFASuccess
		case insights.KindReset:
			return e.Action == insights.ActionPasswordReset && e.Status != insights.StatusFailure
		}
		return false
	}
	users := map[string]bool{}
	for _, d := range dets {
		if d.UserKey != "" {
			users[d.UserKey] = true
		}
	}
	for _, e := range evs {
		if e.Kind == insights.KindRiskDecision {
			users[e.UserKey] = true
		}
	}
	var out []insights.RiskyUser
	for u := range users {
		var decision *insights.Event
		for i, e := range evs {
			if e.Kind == insights.KindRiskDecision && e.UserKey == u && !e.Time.After(asOf) && (decision == nil || e.Time.After(decision.Time)) {
				decision = &evs[i]
			}
		}
		r := insights.RiskyUser{UserKey: u, Level: insights.RiskNone}
		var risky, remediated time.Time
		for _, d := range dets {
			if d.UserKey != u || d.Time.After(asOf) || !d.Time.After(asOf.Add(-window)) {
				continue
			}
			r.Detections++
			var first time.Time
			for _, e := range evs {
				if e.UserKey == u && remedy(e) && e.Time.After(d.WindowEnd) && !e.Time.After(asOf) && (first.IsZero() || e.Time.Before(first)) {
					first = e.Time
				}
			}
			switch {
			case !first.IsZero():
				remediated = latest(remediated, first)
			case decision == nil || d.Time.After(decision.Time):
				if rank[d.Level] > rank[r.Level] {
					r.Level = d.Level
				}
				risky = latest(risky, d.Time)
			}
		}
		switch {
		case decision != nil && decision.RiskState == insights.RiskStateConfirmedCompromised:
			r.State, r.Level, r.Updated = insights.RiskStateConfirmedCompromised, insights.RiskHigh, decision.Time
		case !risky.IsZero():
			r.State, r.Updated = insights.RiskStateAtRisk, risky
		case decision != nil:
			r.State, r.Level, r.Updated = insights.RiskStateDismissed, insights.RiskNone, decision.Time
		case !remediated.IsZero():
			r.State, r.Level, r.Updated = insights.RiskStateRemediated, insights.RiskNone, remediated
		default:
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b insights.RiskyUser) int {
		return cmp.Or(-cmp.Compare(rank[a.Level], rank[b.Level]), b.Updated.Compare(a.Updated), cmp.Compare(a.UserKey, b.UserKey))
	})
	return out
}

// TestEngineRiskyUsersFollowSpecRules: the engine's risky users, as of
// every 7 hours of the last days and a minute after each tie (engines
// opened read-only with their clock then), equal specRiskyUsers' over the events added (shuffled,
// some days late) and the engine's detections, for three seeds.
func TestEngineRiskyUsersFollowSpecRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			st := store.NewMemory()
			e := openRisk(t, st)
			evs, ties := userStateTraffic(seed)
			addShuffled(t, e, evs, seed)
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			dets := allDetections(t, e, insights.DetectionQuery{})
			day0 := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
			states := map[string]int{}
			var asOfs []time.Time
			for h := 34 * 24; h <= 41*24; h += 7 {
				asOfs = append(asOfs, day0.Add(time.Duration(h)*time.Hour))
			}
			for _, t := range ties {
				asOfs = append(asOfs, t.Add(time.Minute))
			}
			for _, asOf := range asOfs {
				then, err := insights.Open(ctx, st, &insights.Options{Now: fixed(asOf), Risk: riskLists, ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				got, err := then.RiskyUsers(ctx, insights.RiskyUserQuery{Limit: insights.MaxPageSize})
				if err != nil {
					t.Fatal(err)
				}
				for i := range got.Users {
					got.Users[i].DisplayName = ""
				}
				want := specRiskyUsers(dets, evs, asOf, 30*24*time.Hour)
				sameJSON(t, fmt.Sprint("risky users as of ", asOf), got.Users, want)
				for _, u := range want {
					states[u.State]++
				}
				if err := then.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []string{insights.RiskStateAtRisk, insights.RiskStateRemediated, insights.RiskStateDismissed, insights.RiskStateConfirmedCompromised} {
				if states[s] == 0 {
					t.Errorf("no user ever %s: %v", s, states)
				}
			}
		})
	}
}

// latest is the later of two times.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
