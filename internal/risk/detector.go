package risk

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"time"
)

// ErrTooLate is returned by Add for an event older than the detector's
// late horizon: the caller rebuilds the detections from the whole set.
var ErrTooLate = errors.New("risk: event older than the late horizon")

// state is one rule's state for one key: what its windows need of the
// key's events folded so far, in canonical order.
type state interface {
	// fold adds o, which comes after every event folded before, and
	// emits the detections it opens or changes.
	fold(o *Observation, out sink)
	// clone returns a deep copy.
	clone() state
	// fresh returns the state of the same rule and key before any event.
	fresh() state
	// idle reports whether no event at or after cut can be affected by
	// what the state holds, so the state can be forgotten.
	idle(cut int64) bool
}

// sink receives the detections a fold opens or changes. The Detector
// records them for good; a keyState's cur records them with their
// versions before (undo).
type sink interface{ emit(*Detection) }

// key names one rule's state: a user or app key, or a source prefix
// (kept as a prefix so that routing an event builds no string).
type key struct {
	s string
	p netip.Prefix
}

// name is the key as the rule's detections spell it.
func (k key) name() string {
	if k.p.IsValid() {
		return k.p.String()
	}
	return k.s
}

// rule routes observations to the key of its state, if o concerns it.
type rule struct {
	route    func(o *Observation, src netip.Prefix) (k key, ok bool) // src: o's source prefix
	newState func(name string) state
}

// keyState is one rule's state for one key, split at the detector's
// cut: lag has folded the key's events before the cut, for good (nil
// while there were none: a new key's first events fold into cur alone,
// and lag is made when needed, base); buf
// holds the later ones, sorted; cur is lag with buf folded (nil while buf
// is empty). undo keeps, for every detection cur's folds emitted, its
// version before them (nil: it did not exist), so a late event within
// buf replays buf on a clone of lag and gets exactly what an ordered
// arrival would have.
type keyState struct {
	lag  state
	cur  state
	buf  []*Observation // shared by every key of the event; never changed
	undo map[string]*Detection
	d    *Detector
}

// Detector computes detections incrementally. Events may arrive in any
// order within Options.LateHorizon of the latest; the detections are then
// those of the whole set taken in canonical order (Detect). State is
// bounded: per key, what its rule's windows need, plus the events of the
// last late horizon. A Detector is not safe for concurrent use.
type Detector struct {
	opt    Options
	rules  []rule
	states []map[key]*keyState // by rule, by key
	dets   map[string]*Detection
	change uint64               // counts changes of dets (Version)
	users  map[string]*userRisk // remedies and decisions, and detection ids, by user (users.go)
	latest int64                // the latest event time seen
	cut    int64                // events before it are refused; states have folded those before it for good
	swept  int64                // cut of the last sweep of idle states
	folded int64                // cut of the last advance of the buffered keys
	queued []*keyState          // keys whose buffer was empty when an event came: maybe buffered still
}

// New returns an empty Detector with opt's thresholds (zero fields take
// their defaults).
func New(opt Options) *Detector {
	d := &Detector{opt: opt.WithDefaults(), dets: map[string]*Detection{}, users: map[string]*userRisk{}}
	d.rules = d.newRules()
	d.states = make([]map[key]*keyState, len(d.rules))
	for i := range d.states {
		d.states[i] = map[key]*keyState{}
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
	var shared *Observation
	src := sourcePrefix(o.IP)
	for i, r := range d.rules {
		k, ok := r.route(o, src)
		if !ok {
			continue
		}
		ks := d.states[i][k]
		if ks == nil {
			ks = &keyState{cur: r.newState(k.name()), d: d}
			d.states[i][k] = ks
		}
		if shared == nil {
			shared = new(Observation)
			*shared = *o
		}
		d.insert(ks, shared)
	}
	if o.Time > d.latest {
		d.latest = o.Time
		d.cut = max(d.cut, d.latest-int64(d.opt.LateHorizon))
	}
	switch {
	case d.cut-d.swept > sweepEvery:
		d.Compact()
	case d.cut-d.folded > int64(d.opt.LateHorizon):
		d.advanceQueued()
	}
	return nil
}

// insert adds o to ks: folded at once when it is the key's latest,
// else by a replay of the key's buffer.
func (d *Detector) insert(ks *keyState, o *Observation) {
	if n := len(ks.buf); n == 0 || before(ks.buf[n-1], o) {
		if n == 0 {
			d.queued = append(d.queued, ks)
		}
		ks.buf = append(ks.buf, o)
		if ks.cur == nil {
			ks.cur = ks.lag.clone()
		}
		ks.cur.fold(o, ks)
		if o.Time-ks.buf[0].Time > 2*int64(d.opt.LateHorizon) {
			d.advance(ks, d.cut)
		}
		return
	}
	i, _ := slices.BinarySearchFunc(ks.buf, o, func(a, b *Observation) int { return compare(a, b) })
	ks.buf = slices.Insert(ks.buf, i, o)
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
	lag := ks.base()
	for _, o := range ks.buf[:n] {
		lag.fold(o, d)
	}
	ks.shift(n)
	ks.cur = nil
	if len(ks.buf) == 0 {
		return
	}
	ks.cur = lag.clone()
	for _, o := range ks.buf {
		ks.cur.fold(o, ks)
	}
}

// advance folds the events of ks before cut into its lag. When they are
// all of its buffer, cur is that state already: it becomes lag, and what
// its folds emitted stays for good. When cur's folds emitted nothing (the
// common case), neither do lag's folds of the same events from the same
// state: lag takes the events before cut and cur, which is lag with the
// rest folded, stays, with no copy and no re-fold. Otherwise a replay.
func (d *Detector) advance(ks *keyState, cut int64) {
	n, _ := slices.BinarySearchFunc(ks.buf, cut, func(a *Observation, t int64) int { return cmp.Compare(a.Time, t) })
	switch {
	case n == 0:
	case n == len(ks.buf):
		clear(ks.buf)
		ks.lag, ks.cur, ks.buf, ks.undo = ks.cur, nil, ks.buf[:0], nil
		if cap(ks.buf) > keptBuffer {
			ks.buf = nil
		}
	case ks.undo == nil:
		lag := ks.base()
		for _, o := range ks.buf[:n] {
			lag.fold(o, d)
		}
		ks.shift(n)
	default:
		d.replay(ks, n)
	}
}

// base returns lag, made from cur's rule and key when the key had no
// events before the cut (lag nil, so cur is set).
func (ks *keyState) base() state {
	if ks.lag == nil {
		ks.lag = ks.cur.fresh()
	}
	return ks.lag
}

// keptBuffer is the largest buffer array an emptied key keeps for its
// next events: most keys have a few events per horizon, and a hot key's
// large array is not kept idle.
const keptBuffer = 16

// shift drops the first n events of the buffer, keeping its array.
func (ks *keyState) shift(n int) {
	m := copy(ks.buf, ks.buf[n:])
	clear(ks.buf[m:])
	ks.buf = ks.buf[:m]
}

// emit records a detection for good.
func (d *Detector) emit(det *Detection) { d.put(det.clone()) }

// emit records a detection of cur's folds through the detector,
// remembering in undo what it replaces.
func (ks *keyState) emit(det *Detection) {
	if ks.undo == nil {
		ks.undo = map[string]*Detection{}
	}
	if _, ok := ks.undo[det.ID]; !ok {
		ks.undo[det.ID] = ks.d.dets[det.ID]
	}
	ks.d.put(det.clone())
}

// sweepEvery is how much event time passes between two sweeps of idle
// states by Add.
const sweepEvery = int64(24 * time.Hour)

// advanceQueued folds the events before the cut of the keys that received
// events since the last call into their lag: Add calls it once per late
// horizon of event time, so buffers hold about two horizons of events.
// Cost: a step per key that received events.
func (d *Detector) advanceQueued() {
	keep := d.queued[:0]
	for _, ks := range d.queued {
		if d.advance(ks, d.cut); len(ks.buf) > 0 {
			keep = append(keep, ks)
		}
	}
	clear(d.queued[len(keep):])
	d.queued, d.folded = keep, d.cut
}

// Compact folds every key's events before the cut into its lag and
// forgets the states that can no longer matter. Add calls it once per 24
// hours of event time; call it to release memory sooner. Cost: one pass
// over the keys.
func (d *Detector) Compact() {
	for i := range d.states {
		for k, ks := range d.states[i] {
			d.advance(ks, d.cut)
			if len(ks.buf) == 0 && ks.lag.idle(d.cut) {
				delete(d.states[i], k)
			}
		}
	}
	d.compactUsers()
	d.swept, d.folded = d.cut, d.cut
	d.queued = slices.DeleteFunc(d.queued, func(ks *keyState) bool { return len(ks.buf) == 0 })
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

// Version returns a number that changes whenever a detection is added,
// changed or removed.
func (d *Detector) Version() uint64 { return d.change }

// Len returns the number of detections.
func (d *Detector) Len() int { return len(d.dets) }

// Keys returns how many keys have state, for memory estimates: a user
// counts once for the four user-keyed rules.
func (d *Detector) Keys() int {
	n := 0
	for _, m := range d.states {
		n += len(m)
	}
	return n
}
