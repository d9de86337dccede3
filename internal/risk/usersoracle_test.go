package risk

import (
	"cmp"
	"math"
	"slices"
)

// oracleUsers computes the risky users as of asOf from SPEC §9's state
// rules alone, with plain loops over the raw events: it reads of dets only
// who, what level, when and which events are the evidence (never
// Remediated or End, which the detector computes), and it keeps no state.
//
//   - A user's detections are those with a time in (asOf-window, asOf].
//   - A remedy is the user's successful user sign-in that performed MFA
//     (MFA approved) or successful password reset (KindRemedy), at or
//     before asOf. It remediates a detection when it comes after every
//     event of its evidence, in time (Detection.Remediated's doc).
//   - The admin's decision in force is the user's last decision event at
//     or before asOf, in canonical order. confirmedCompromised makes the
//     user confirmedCompromised at level high, whatever else; dismissed
//     covers every detection up to it in time.
//   - A detection neither remediated nor covered by a dismissal puts the
//     user atRisk at the highest level of such detections, updated at the
//     latest of their times.
//   - Else a dismissal makes the user dismissed, updated at its time; else
//     a remediated detection makes the user remediated, updated at the
//     latest of its detections' first remedies. A user with none of these
//     is not listed.
func oracleUsers(dets []Detection, obs []Observation, asOf, window int64) []RiskyUser {
	isRemedy := func(o Observation) bool {
		return o.Kind == KindRemedy || o.Kind == KindSignIn && !o.Principal && o.Status == StatusSuccess && o.MFA == MFAApproved
	}
	users := map[string]bool{}
	for _, d := range dets {
		if d.User != "" {
			users[d.User] = true
		}
	}
	for _, o := range obs {
		if o.Kind == KindDecision && o.User != "" && o.Decision != DecisionNone {
			users[o.User] = true
		}
	}
	var out []RiskyUser
	for u := range users {
		var mine []Observation // u's events
		for _, o := range obs {
			if o.User == u {
				mine = append(mine, o)
			}
		}
		var decided *Observation
		for i, o := range mine {
			if o.Kind == KindDecision && o.Decision != DecisionNone && o.Time <= asOf && (decided == nil || compare(decided, &mine[i]) < 0) {
				decided = &mine[i]
			}
		}
		var (
			count                   int
			atRisk                  bool
			level                   Level
			riskAt, lastRemediation int64
		)
		for _, d := range dets {
			if d.User != u || d.Time > asOf || d.Time <= asOf-window {
				continue
			}
			count++
			last := int64(math.MinInt64) // the time of its last evidence, all u's events
			for _, r := range d.Evidence {
				for _, o := range mine {
					if o.Ref == r {
						last = max(last, o.Time)
					}
				}
			}
			first := int64(0)
			for _, o := range mine {
				if isRemedy(o) && o.Time > last && o.Time <= asOf && (first == 0 || o.Time < first) {
					first = o.Time
				}
			}
			switch {
			case first != 0:
				lastRemediation = max(lastRemediation, first)
			case decided == nil || d.Time > decided.Time:
				atRisk, level, riskAt = true, max(level, d.Level), max(riskAt, d.Time)
			}
		}
		r := RiskyUser{User: u, Detections: count}
		switch {
		case decided != nil && decided.Decision == ConfirmedCompromised:
			r.State, r.Level, r.Updated = StateConfirmedCompromised, LevelHigh, decided.Time
		case atRisk:
			r.State, r.Level, r.Updated = AtRisk, level, riskAt
		case decided != nil:
			r.State, r.Updated = StateDismissed, decided.Time
		case lastRemediation != 0:
			r.State, r.Updated = Remediated, lastRemediation
		default:
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RiskyUser) int { return cmp.Compare(a.User, b.User) })
	return out
}
