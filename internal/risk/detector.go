package risk

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
)

// ErrTooLate is returned by Add for an event older than the detector's
// late horizon: the caller rebuilds the detections from the whole set.
var ErrTooLate = errors.New("risk: event older than the late horizon")

// state is one rule's state for one key: what its windows need of the
// key's events folded so far, in canonical order.
type state interface {
	// fold adds o, which comes after every event folded before, and
	// emits the detections it opens or changes.
	fold(o *Observation, emit func(*Detection))
	// clone returns a deep copy.
	clone() state
	// idle reports whether no event at or after cut can be affected by
	// what the state holds, so the state can be forgotten.
	idle(cut int64) bool
}

// rule routes observations to the key of its state, if o concerns it.
type rule struct {
	route    func(o *Observation) (key string, ok bool)
	newState func(key string) state
}

// keyState is one rule's state for one key, split at the detector's
// cut: lag has folded the key's events before the cut, for good; buf
// holds the later ones, sorted; cur is lag with buf folded (nil while buf
// is empty). undo keeps, for every detection cur's folds emitted, its
// version before them (nil: it did not exist), so a late event within
// buf replays buf on a clone of lag and gets exactly what an ordered
// arrival would have.
type keyState struct {
	lag  state
	cur  state
	buf  []Observation
	undo map[string]*Detection
}

// Detector computes detections incrementally. Events may arrive in any
// order within Options.LateHorizon of the latest; the detections are then
// those of the whole set taken in canonical order (Detect). State is
// bounded: per key, what its rule's windows need, plus the events of the
// last late horizon. A Detector is not safe for concurrent use.
type Detector struct {
	opt    Options
	rules  []rule
	states []map[string]*keyState // by rule, by key
	dets   map[string]*Detection
	users  map[string]*userRisk // remedies and decisions, and detection ids, by user (users.go)
	latest int64                // the latest event time seen
	cut    int64                // events before it are refused; states have folded those before it for good
	swept  int64                // cut of the last sweep of idle states
}

// New returns an empty Detector with opt's thresholds (zero fields take
// their defaults).
func New(opt Options) *Detector {
	d := &Detector{opt: opt.WithDefaults(), dets: map[string]*Detection{}, users: map[string]*userRisk{}}
	d.rules = d.newRules()
	d.states = make([]map[string]*keyState, len(d.rules))
	for i := range d.states {
		d.states[i] = map[string]*keyState{}
	}
	return d
}

// Detect returns the detections of obs, a set: the result does not depend
// on its order. obs is sorted in place.
func Detect(opt Options, obs []Observation) []Detection {
	slices.SortFunc(obs, func(a, b Observation) int { return compare(&a, &b) })
	d := New(opt)
	for i := range obs {
		_ = d.Add(&obs[i]) // in order: never too late
	}
	return d.Detections()
}

// SetLists replaces the anonymized and malicious address lists; events
// added later are checked against the new lists.
func (d *Detector) SetLists(anonymized, malicious []netip.Prefix) {
	d.opt.Anonymized, d.opt.Malicious = slices.Clone(anonymized), slices.Clone(malicious)
}

// Add folds o in. It returns ErrTooLate, and changes nothing, when o is
// older than the late horizon behind the latest event added. Cost: per
// rule concerned, the fold of o, and for an event older than the key's
// latest, a replay of the key's events of the last late horizon.
func (d *Detector) Add(o *Observation) error {
	if o.Time < d.cut {
		return ErrTooLate
	}
	d.listDetections(o)
	d.userEvent(o)
	for i, r := range d.rules {
		key, ok := r.route(o)
		if !ok {
			continue
		}
		ks := d.states[i][key]
		if ks == nil {
			ks = &keyState{lag: r.newState(key)}
			d.states[i][key] = ks
		}
		d.insert(ks, o)
	}
	if o.Time > d.latest {
		d.latest = o.Time
		d.cut = max(d.cut, d.latest-int64(d.opt.LateHorizon))
	}
	if d.cut-d.swept > int64(d.opt.LateHorizon) {
		d.Compact()
	}
	return nil
}

// insert adds o to ks: folded at once when it is the key's latest,
// else by a replay of the key's buffer.
func (d *Detector) insert(ks *keyState, o *Observation) {
	i, _ := slices.BinarySearchFunc(ks.buf, o, func(a Observation, b *Observation) int { return compare(&a, b) })
	ks.buf = slices.Insert(ks.buf, i, *o)
	if i == len(ks.buf)-1 {
		if ks.cur == nil {
			ks.cur = ks.lag.clone()
		}
		ks.cur.fold(&ks.buf[i], d.emitUndo(ks))
		if o.Time-ks.buf[0].Time > 2*int64(d.opt.LateHorizon) {
			d.advance(ks, d.cut)
		}
		return
	}
	d.replay(ks, 0)
}

// replay restores the detections cur's folds changed, folds buf[:n] into
// lag for good, and folds the rest on a fresh clone of lag.
func (d *Detector) replay(ks *keyState, n int) {
	for id, old := range ks.undo {
		if old == nil {
			d.drop(id)
		} else {
			d.put(old)
		}
	}
	ks.undo = nil
	for i := range ks.buf[:n] {
		ks.lag.fold(&ks.buf[i], d.emit)
	}
	ks.buf = slices.Clone(ks.buf[n:])
	ks.cur = nil
	if len(ks.buf) == 0 {
		return
	}
	ks.cur = ks.lag.clone()
	emit := d.emitUndo(ks)
	for i := range ks.buf {
		ks.cur.fold(&ks.buf[i], emit)
	}
}

// advance folds the events of ks before cut into its lag.
func (d *Detector) advance(ks *keyState, cut int64) {
	n, _ := slices.BinarySearchFunc(ks.buf, cut, func(a Observation, t int64) int { return cmp.Compare(a.Time, t) })
	if n > 0 {
		d.replay(ks, n)
	}
}

// emit records a detection for good.
func (d *Detector) emit(det *Detection) { d.put(det.clone()) }

// emitUndo returns an emit that remembers, in ks.undo, what it replaces.
func (d *Detector) emitUndo(ks *keyState) func(*Detection) {
	return func(det *Detection) {
		if ks.undo == nil {
			ks.undo = map[string]*Detection{}
		}
		if _, ok := ks.undo[det.ID]; !ok {
			ks.undo[det.ID] = d.dets[det.ID]
		}
		d.put(det.clone())
	}
}

// Compact folds every key's events before the cut into its lag and
// forgets the states that can no longer matter. Add calls it once per
// late horizon of event time; call it to release memory sooner. Cost: one
// pass over the keys.
func (d *Detector) Compact() {
	for i := range d.states {
		for key, ks := range d.states[i] {
			d.advance(ks, d.cut)
			if len(ks.buf) == 0 && ks.lag.idle(d.cut) {
				delete(d.states[i], key)
			}
		}
	}
	d.compactUsers()
	d.swept = d.cut
}

// Detections returns every detection, by time, then id.
func (d *Detector) Detections() []Detection {
	out := make([]Detection, 0, len(d.dets))
	for _, det := range d.dets {
		out = append(out, *det.clone())
	}
	slices.SortFunc(out, func(a, b Detection) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Len returns the number of detections.
func (d *Detector) Len() int { return len(d.dets) }

// Keys returns how many keys have state, for memory estimates.
func (d *Detector) Keys() int {
	n := 0
	for _, m := range d.states {
		n += len(m)
	}
	return n
}
