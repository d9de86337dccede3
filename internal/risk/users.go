package risk

import (
	"cmp"
	"slices"
)

// userRisk is what makes a user risky besides the detections: their
// decisions, and the ids of their detections. Users with neither have
// none: a remedy alone makes no userRisk (remedyTimes).
type userRisk struct {
	decisions []decision
	dets      map[string]struct{}
}

// remedy is a user's remedy, as Add records it (Detector.fresh).
type remedy struct {
	user uint32 // number
	time int64
}

// remedyTimes are the times of one user's remedies of the late horizon
// (older ones have been applied to every detection they can concern), by
// user number in Detector.remedies: a value in the map, the first time
// inline, so that the remedies of most users (one now and then, a third
// of the sign-ins in the bench's traffic) allocate nothing once the map
// has grown, where a userRisk made for each and dropped at the next
// sweep was 43% of BenchmarkDetectorTraffic's allocations (#18, session 9).
type remedyTimes struct {
	first int64
	more  []int64
	n     int // times held: first, then more
}

// add records a remedy at t.
func (r *remedyTimes) add(t int64) {
	if r.n == 0 {
		r.first = t
	} else {
		r.more = append(r.more, t)
	}
	r.n++
}

// each calls f with every time held.
func (r *remedyTimes) each(f func(t int64)) {
	if r.n > 0 {
		f(r.first)
	}
	for _, t := range r.more {
		f(t)
	}
}

// after returns the earliest time later than end, 0 for none.
func (r *remedyTimes) after(end int64) int64 {
	var e int64
	r.each(func(t int64) {
		if t > end {
			e = earliest(e, t)
		}
	})
	return e
}

// forget drops the times before cut and reports whether none is left.
func (r *remedyTimes) forget(cut int64) bool {
	var kept remedyTimes
	r.each(func(t int64) {
		if t >= cut {
			kept.add(t)
		}
	})
	*r = kept
	return r.n == 0
}

type decision struct {
	time int64
	ref  Ref
	d    Decision
}

func (d *Detector) user(key string) *userRisk {
	u := d.users[key]
	if u == nil {
		u = &userRisk{}
		d.users[key] = u
	}
	return u
}

// userEvent records o's remedy or decision.
func (d *Detector) userEvent(o *Observation) {
	switch {
	case o.User == "":
	case o.Kind == KindDecision && o.Decision != DecisionNone:
		u := d.user(o.User)
		dec := decision{o.Time, o.Ref, o.Decision}
		i, _ := slices.BinarySearchFunc(u.decisions, dec, func(a, b decision) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.ref, b.ref))
		})
		u.decisions = slices.Insert(u.decisions, i, dec)
	case o.Remedy && (o.Kind == KindRemedy || o.userSignIn() && o.Status == StatusSuccess):
		d.fresh = append(d.fresh, remedy{d.userNumber(o), o.Time})
		u := d.users[o.User]
		if u == nil {
			return
		}
		for id := range u.dets {
			if det := d.dets[id]; det.End < o.Time && (det.Remediated == 0 || o.Time < det.Remediated) {
				c := det.clone() // stored versions are never changed in place: undo logs share them
				c.Remediated = o.Time
				d.dets[id] = c
				d.change++
			}
		}
	}
}

// put stores det, its Remediated set from the user's remedies and from the
// version it replaces.
func (d *Detector) put(det *Detection) {
	if det.User != "" {
		u := d.user(det.User)
		if old := d.dets[det.ID]; old != nil && old.Remediated > det.End && old.Time == det.Time {
			det.Remediated = earliest(det.Remediated, old.Remediated)
		}
		if n, ok := d.userKeys.ids[det.User]; ok {
			d.indexRemedies()
			if r, ok := d.remedies[n]; ok {
				det.Remediated = earliest(det.Remediated, r.after(det.End))
			}
		}
		if u.dets == nil {
			u.dets = map[string]struct{}{}
		}
		u.dets[det.ID] = struct{}{}
	}
	d.dets[det.ID] = det
	d.change++
}

// drop removes detection id.
func (d *Detector) drop(id string) {
	if det := d.dets[id]; det != nil && det.User != "" {
		delete(d.users[det.User].dets, id)
	}
	delete(d.dets, id)
	d.change++
}

// earliest is the earlier of two times, 0 meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// indexRemedies enters the fresh remedies in remedies, for a detection
// to take those after it (put). Add only appends a remedy to fresh: a
// detection of the user is rare, and most remedies are forgotten by the
// next sweep without being looked up, where entering each in the map
// missed the cache at each remedy (8% of the detector's CPU in
// BenchmarkDetectorTraffic/users=100000, where a third of the sign-ins
// are remedies; #18, session 12).
func (d *Detector) indexRemedies() {
	for _, f := range d.fresh {
		r := d.remedies[f.user]
		r.add(f.time)
		d.remedies[f.user] = r
	}
	d.fresh = d.fresh[:0]
}

// compactUsers forgets the remedies before the cut: every detection they
// can remediate (one before them) exists already, since later events are
// refused and sweep has folded the earlier ones, and has them applied.
// The fresh ones before the cut never enter remedies. With release
// (Compact), fresh's array goes too: it keeps the room of the busiest
// day's remedies otherwise.
func (d *Detector) compactUsers(release bool) {
	d.fresh = slices.DeleteFunc(d.fresh, func(f remedy) bool { return f.time < d.cut })
	d.indexRemedies()
	if release {
		d.fresh = nil
	}
	for n, r := range d.remedies {
		if r.forget(d.cut) {
			delete(d.remedies, n)
		} else {
			d.remedies[n] = r
		}
	}
	for key, u := range d.users {
		if len(u.decisions) == 0 && len(u.dets) == 0 {
			delete(d.users, key)
		}
	}
}

// RiskyUser is one user's risk as of a time.
type RiskyUser struct {
	User       string
	Level      Level
	State      State
	Updated    int64 // Unix ns of what decided the state
	Detections int   // the user's detections in the window
}

// State is a risky user's state.
type State uint8

// The states.
const (
	StateNone State = iota
	AtRisk
	Remediated
	StateDismissed
	StateConfirmedCompromised
)

var stateNames = [...]string{"none", "atRisk", "remediated", "dismissed", "confirmedCompromised"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "none"
}

// RiskyUsers returns the users with a state as of asOf, by key: a user's
// detections are those with a time in (asOf-window, asOf]; the latest
// decision at or before asOf decides first: confirmedCompromised (level
// high) stays until a later decision; after a dismissal only later
// detections count. A detection is active when not remediated by asOf
// and later than the latest dismissal: active detections make the user
// atRisk at their highest level. Otherwise a dismissal makes the user
// dismissed, a remediated detection remediated (level none). Users with
// none of these are left out. With keep, only the detections it keeps
// count, and a user needs one of them in the window to be listed. Cost:
// one pass over the detections.
func (d *Detector) RiskyUsers(asOf, window int64, keep func(*Detection) bool) []RiskyUser {
	d.settle()
	var out []RiskyUser
	for key, u := range d.users {
		var last *decision
		for i := range u.decisions {
			if u.decisions[i].time <= asOf {
				last = &u.decisions[i]
			}
		}
		r := RiskyUser{User: key}
		var remediated int64
		for id := range u.dets {
			det := d.dets[id]
			if det.Time > asOf || det.Time <= asOf-window || keep != nil && !keep(det) {
				continue
			}
			r.Detections++
			switch {
			case det.Remediated != 0 && det.Remediated <= asOf:
				remediated = max(remediated, det.Remediated)
			case last == nil || det.Time > last.time:
				r.State, r.Level, r.Updated = AtRisk, max(r.Level, det.Level), max(r.Updated, det.Time)
			}
		}
		switch {
		case keep != nil && r.Detections == 0:
			continue
		case last != nil && last.d == ConfirmedCompromised:
			r.State, r.Level, r.Updated = StateConfirmedCompromised, LevelHigh, last.time
		case r.State == AtRisk:
		case last != nil && last.d == Dismissed:
			r.State, r.Level, r.Updated = StateDismissed, LevelNone, last.time
		case remediated != 0:
			r.State, r.Level, r.Updated = Remediated, LevelNone, remediated
		default:
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RiskyUser) int { return cmp.Compare(a.User, b.User) })
	return out
}
