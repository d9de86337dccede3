package risk

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// userTraffic is traffic with what makes users' states change injected
// for a few users over its last days: brute forces (some followed by a
// success within the hour, raising them), MFA sign-ins and password
// resets, dismissals and confirmations, each at a random time or at the
// time of one of the user's events (so that "later" is tested at equal
// times), and a decision of no kind.
func userTraffic(seed uint64) []Observation {
	const users, days = 60, 34
	obs := traffic(seed, users, days)
	rng := rand.New(rand.NewPCG(seed, 11))
	add := func(o Observation) {
		o.Ref = Ref(len(obs) + 1)
		obs = append(obs, o)
	}
	key := func() string { return fmt.Sprint("u", rng.IntN(12)) }
	when := func() int64 {
		return trafficStart.Add(time.Duration(days-10)*24*time.Hour + time.Duration(rng.Int64N(int64(10*24*time.Hour)))).UnixNano()
	}
	for range 30 {
		u, t := key(), when()
		for i := range 10 {
			add(failure(u, t+int64(i)*int64(time.Second)))
		}
		if rng.IntN(2) == 0 {
			s := success(u, t+int64(time.Duration(10+rng.IntN(100))*time.Minute))
			s.MFA, s.Remedy = MFAApproved, true
			add(s)
		}
	}
	for range 80 {
		u, t := key(), when()
		if rng.IntN(3) == 0 { // at the time of one of u's events
			var ts []int64
			for _, o := range obs {
				if o.User == u {
					ts = append(ts, o.Time)
				}
			}
			t = ts[rng.IntN(len(ts))]
		}
		switch rng.IntN(6) {
		case 0, 1:
			s := success(u, t)
			s.MFA, s.Remedy = MFAApproved, true
			add(s)
		case 2:
			add(Observation{Time: t, Kind: KindRemedy, User: u, Status: StatusSuccess, Remedy: true})
		case 3:
			add(Observation{Time: t, Kind: KindDecision, User: u, Decision: Dismissed})
		case 4:
			add(Observation{Time: t, Kind: KindDecision, User: u, Decision: ConfirmedCompromised})
		default:
			add(Observation{Time: t, Kind: KindDecision, User: u})
		}
	}
	return obs
}

// TestRiskyUsersEqualsOracle: the detector's risky users equal those of
// SPEC §9's state rules (oracleUsers), as of every other hour of the last days
// just before and at every injected remedy and decision, and where
// each detection leaves the window, over the default
// window and a three-day one.
func TestRiskyUsersEqualsOracle(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			obs := userTraffic(seed)
			dets := oracle(listOptions, obs)
			d := inOrder(t, listOptions, obs)
			var asOf []int64
			for h := range 12 * 10 {
				asOf = append(asOf, trafficStart.Add(22*24*time.Hour+time.Duration(h)*2*time.Hour).UnixNano())
			}
			for _, o := range obs {
				if o.Kind == KindDecision || o.Remedy && o.App == "a" { // the injected ones
					asOf = append(asOf, o.Time-1, o.Time)
				}
			}
			states := map[State]int{}
			for _, window := range []int64{int64(30 * 24 * time.Hour), int64(3 * 24 * time.Hour)} {
				at := slices.Clone(asOf)
				for _, det := range dets { // where a detection leaves the window
					at = append(at, det.Time+window-1, det.Time+window)
				}
				for _, at := range at {
					got, want := d.RiskyUsers(at, window, nil), oracleUsers(dets, obs, at, window)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("as of %d, window %d:\n got %v\nwant %v", at, window, got, want)
					}
					for _, u := range want {
						states[u.State]++
					}
				}
			}
			for _, s := range []State{AtRisk, Remediated, StateDismissed, StateConfirmedCompromised} {
				if states[s] == 0 {
					t.Errorf("no user ever %s: %v", s, states)
				}
			}
		})
	}
}

// inOrder returns a detector with opt's options that was given obs in
// canonical order.
func inOrder(t *testing.T, opt Options, obs []Observation) *Detector {
	t.Helper()
	d := New(opt)
	sorted := slices.Clone(obs)
	slices.SortFunc(sorted, func(a, b Observation) int { return compare(&a, &b) })
	for i := range sorted {
		if err := d.Add(&sorted[i]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
