package risk

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"sort"
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
	fold(o *rec, out sink)
	// copyTo returns a deep copy, made in dst's memory when dst is a
	// state of the same rule that nothing uses any more (else nil).
	copyTo(dst state) state
	// reset returns the state of the same rule for key k before any
	// event, made in the state's memory: a state nothing uses any more
	// serves a new key (slot).
	reset(k key) state
	// idle reports whether no event at or after cut can be affected by
	// what the state holds, so the state can be forgotten.
	idle(cut int64) bool
	// idleFrom returns the least cut at which idle would report true or
	// change the state (math.MinInt64: any cut; math.MaxInt64: none):
	// until the state folds another event, idle at an earlier cut is
	// false and changes nothing.
	idleFrom() int64
}

// sink receives the detections a fold opens or changes. The Detector
// records them for good; undoSink records cur's with their versions
// before (undo).
type sink interface{ emit(*Detection) }

// key names one rule's state in the detections it makes: an app key, a
// source prefix (spelled only then), or a user key. Tables find their
// states by keyID or by the user's number.
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

// keyState is one rule's state for one key, split at the detector's
// cut: lag has folded the key's events before the cut, for good; buf
// holds the later ones, sorted. While nothing reads the detections, buf
// is only kept (the key is pending): its events fold into lag, in place,
// when they pass the cut (advance). A read first settles the pending
// keys (settle): cur becomes a copy of lag with buf folded, and the
// events that come in order while it exists fold into it at once. undo
// keeps, for every detection cur's folds emitted, its version before
// them (nil: it did not exist), so a late event within buf restores
// them and leaves the key pending again (replay): the result is exactly
// what an ordered arrival would have given. A keyState with no lag is an
// empty slot. last is the time and reference of buf's last event, so
// that an event in order, and an advance past the whole buffer, read
// nothing of the buffer. While buf is empty, last.time is a cut before
// which lag is not idle: lag.idleFrom, when a sweep found it not idle,
// else the time of the buffer's last event, before the cut that folded
// it (so a sweep reads the state); the sweep passes over the key with no
// read of its state until the cut reaches it.
type keyState struct {
	lag  state
	cur  state
	buf  []rec
	undo map[string]*Detection
	last struct {
		time int64
		ref  Ref
	}
}

// table is one rule's key states, by key number: the user's number for
// the user-keyed rules (ruleUser), else the number ids gives the key.
type table struct {
	ids   map[keyID]uint32 // nil for the user-keyed rules
	slots slots
	free  []uint32    // numbers of forgotten keys (ids), for new keys
	spare pool[state] // states dropped by advance, replay and sweep, for the next copies and keys
	bufs  bufPools    // emptied or outgrown buffers' arrays, for the rule's keys to buffer events
	live  int         // slots with a state
}

// slots are a table's key states by number, in pages of slotPage: a new
// key never moves the states before it, where a slice grown by append
// copied them all, pointers and all, at each doubling (17% of the
// detector's CPU in BenchmarkAddRisk, where 100,000 users are first seen,
// #18, session 9).
type slots struct {
	pages [][]keyState
	n     uint32 // numbers below it exist
}

// slotPage is the number of key states in a page (20 KiB).
const slotPage = 256

// at returns key state n, which exists.
func (s *slots) at(n uint32) *keyState { return &s.pages[n/slotPage][n%slotPage] }

// grow makes key state n exist.
func (s *slots) grow(n uint32) {
	for int(n) >= len(s.pages)*slotPage {
		s.pages = append(s.pages, make([]keyState, slotPage))
	}
	s.n = max(s.n, n+1)
}

// pool keeps things dropped for reuse, the latest on top. low is the
// least it held since the last sweep: the ones below it were not taken
// for a whole sweep interval (a day of event time), and the sweep
// releases them (trim). So a pool keeps what the keys' turnover uses
// from one day to the next, where dropping it all at each sweep made
// the next day's events allocate it anew, and releases what a burst
// left behind (#18, session 8).
type pool[T any] struct {
	items []T
	low   int
}

// put adds v to p.
func (p *pool[T]) put(v T) { p.items = append(p.items, v) }

// take removes and returns the latest item put, the zero value when
// there is none.
func (p *pool[T]) take() T {
	var v T
	if n := len(p.items); n > 0 {
		v, p.items[n-1] = p.items[n-1], v
		p.items = p.items[:n-1]
		p.low = min(p.low, n-1)
	}
	return v
}

// trim releases the items not taken since the last trim, or every item
// with all.
func (p *pool[T]) trim(all bool) {
	n := p.low
	if all {
		n = len(p.items)
	}
	if n > 0 {
		clear(p.items[:n])
		p.items = slices.Clip(p.items[n:]) // the array's start is released when the pool grows again
	}
	p.low = len(p.items)
}

// slotRef names a key state: its rule and number.
type slotRef struct{ rule, n uint32 }

// queuedKey is a key that may keep events, with the time of its first
// kept event when queued, or when a fold at the horizon (advanceQueued)
// last left it with events: advanceQueued passes over the keys whose
// first is not before the cut without reading their state. A late event
// may come before it: the key's fold then waits for a later advance, or
// the sweep, which costs nothing but the time its events stay kept.
type queuedKey struct {
	at    slotRef
	first int64
}

// Detector computes detections incrementally. Events may arrive in any
// order within Options.LateHorizon of the latest; the detections are then
// those of the whole set taken in canonical order (Detect). State is
// bounded: per key, what its rule's windows need, plus the events of the
// last late horizon. A Detector is not safe for concurrent use.
type Detector struct {
	opt       Options
	newState  [numRules]func(key) state // by rule (rules.go)
	userRules *userRules                // the user-keyed rules, for their pool of parts
	tables    [numRules]table
	userKeys  names    // user keys, numbered for rec.user and the user-keyed tables
	apps      names    // app keys, numbered for the failureSpike table (appID)
	byCaller  []uint32 // userKeys numbers by Observation.UserNumber
	values    names    // country, OS and browser values, for rec
	cache     [3]valueCache
	byCode    [3][]uint32 // values numbers by Observation.ValueCodes, per property
	undo      undoSink
	dets      map[string]*Detection
	change    uint64                 // counts changes of dets (Version)
	users     map[string]*userRisk   // decisions and detection ids, by user (users.go)
	remedies  map[uint32]remedyTimes // remedies of the late horizon, by user number (users.go), but those in fresh
	fresh     []remedy               // remedies not yet in remedies, in arrival order (indexRemedies)
	latest    int64                  // the latest event time seen
	cut       int64                  // events before it are refused; states have folded those before it for good
	swept     int64                  // cut of the last sweep of idle states
	folded    int64                  // cut of the last advance of the buffered keys
	queued    []queuedKey            // keys whose buffer was empty when an event came: maybe buffered still
	// pending lists the keys that may hold events no read has folded
	// (settle) since the read before, unless pendingAll: no read came
	// since the last fold at the horizon, and those keys are among
	// queued's, which settle walks instead (pend, pendAll).
	pending    []slotRef
	pendingAll bool
}

// New returns an empty Detector with opt's thresholds (zero fields take
// their defaults).
func New(opt Options) *Detector {
	d := &Detector{opt: opt.WithDefaults(), dets: map[string]*Detection{}, users: map[string]*userRisk{}, remedies: map[uint32]remedyTimes{},
		userKeys: newNames(), values: newNames(), apps: newNames(), pendingAll: true}
	d.undo.d = d
	d.newState, d.userRules = d.newRules()
	for i := range d.tables {
		if i != ruleUser {
			d.tables[i].ids = map[keyID]uint32{}
		}
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
// rule concerned, keeping o, its fold when it passes the late horizon
// (or at once, when a read settled its key and o is the key's latest),
// and for an event older than a settled key's latest, the undoing of
// what the key's kept events emitted. In the steady state it allocates
// nothing but the detections it makes.
func (d *Detector) Add(o *Observation) error {
	if o.Time < d.cut {
		return ErrTooLate
	}
	d.listDetections(o)
	d.userEvent(o)
	var r rec
	made := false
	src, hasSrc := sourceID(o.IP)
	for i := range numRules {
		id, ok := d.route(i, o, src, hasSrc)
		if !ok {
			continue
		}
		if !made {
			r, made = d.record(o), true
		}
		d.insert(slotRef{uint32(i), d.slot(i, id, r.user)}, &r)
	}
	if o.Time > d.latest {
		d.latest = o.Time
		d.cut = max(d.cut, d.latest-int64(d.opt.LateHorizon))
	}
	switch {
	case d.cut-d.swept > sweepEvery:
		d.sweep(false)
	case d.cut-d.folded > int64(d.opt.LateHorizon):
		d.advanceQueued()
	}
	return nil
}

// slot returns the number of the state of key id (user: user's number)
// in rule i's table, making the state if there is none.
func (d *Detector) slot(i int, id keyID, user uint32) uint32 {
	t := &d.tables[i]
	n := user
	switch m, ok := t.ids[id]; {
	case i == ruleUser:
		t.slots.grow(n)
	case ok:
		return m
	case len(t.free) > 0:
		n, t.free = t.free[len(t.free)-1], t.free[:len(t.free)-1]
		t.ids[id] = n
	default:
		n = t.slots.n
		t.slots.grow(n)
		t.ids[id] = n
	}
	if ks := t.slots.at(n); ks.lag == nil {
		k := d.keyOf(i, id, user)
		if s := t.spare.take(); s != nil {
			ks.lag = s.reset(k)
		} else {
			ks.lag = d.newState[i](k)
		}
		t.live++
	}
	return n
}

// insert adds o to the key state at: kept in the buffer, and folded at
// once into cur when the key is settled and o is its latest; a late
// event of a settled key makes it pending again (replay).
func (d *Detector) insert(at slotRef, o *rec) {
	t := &d.tables[at.rule]
	ks := t.slots.at(at.n)
	if n := len(ks.buf); n == 0 || earlier(ks.last.time, ks.last.ref, o.Time, o.Ref) {
		if n == 0 {
			d.queued = append(d.queued, queuedKey{at, o.Time})
			d.pend(at)
			if ks.buf == nil {
				ks.buf = t.bufs.take(0)
			}
		}
		ks.buf = append(t.bufs.grow(ks.buf), *o)
		ks.last.time, ks.last.ref = o.Time, o.Ref
		if ks.cur != nil {
			ks.cur.fold(&ks.buf[n], d.undoTo(ks)) // not o: it would escape
		}
		if n > 0 && o.Time-ks.buf[0].Time > 2*int64(d.opt.LateHorizon) {
			d.advance(at, t, ks, d.cut)
		}
		return
	}
	i := sort.Search(len(ks.buf), func(i int) bool { return o.before(&ks.buf[i]) })
	ks.buf = slices.Insert(ks.buf, i, *o)
	if ks.cur != nil {
		d.replay(at, t, ks, 0)
	}
}

// replay restores the detections cur's folds changed, drops cur, and
// folds buf[:n] into lag for good: the key is pending again, its other
// events folded at the next read (settle) or when they pass the cut.
func (d *Detector) replay(at slotRef, t *table, ks *keyState, n int) {
	for id, old := range ks.undo {
		if old == nil {
			d.drop(id)
		} else {
			d.put(old)
		}
	}
	ks.undo = nil
	t.dropState(ks.cur)
	ks.cur = nil
	if d.foldLag(t, ks, n); len(ks.buf) > 0 {
		d.pend(at)
	}
}

// advance folds the events of ks before cut into its lag. A pending key
// folds them in place: nothing was emitted for them. Of a settled key,
// when they are all of its buffer, cur is that state already: it becomes
// lag, and what its folds emitted stays for good. When cur's folds
// emitted nothing (the common case), neither do lag's folds of the same
// events from the same state: lag takes the events before cut and cur,
// which is lag with the rest folded, stays, with no copy and no re-fold.
// Otherwise a replay.
func (d *Detector) advance(at slotRef, t *table, ks *keyState, cut int64) {
	n := len(ks.buf)
	if n > 0 && ks.last.time >= cut {
		// A scan, not a binary search: every event it passes is folded
		// next, and it reads them in order, where a search's probes into
		// a hot key's large buffer missed the cache (#18, session 11). It
		// stops at the last event, which is at or after cut.
		for n = 0; ks.buf[n].Time < cut; n++ {
		}
	}
	switch {
	case n == 0:
	case ks.cur == nil || ks.undo == nil && n < len(ks.buf):
		d.foldLag(t, ks, n)
	case n == len(ks.buf):
		t.dropState(ks.lag)
		ks.lag, ks.cur, ks.undo = ks.cur, nil, nil
		d.release(t, ks)
	default:
		d.replay(at, t, ks, n)
	}
}

// foldLag folds the first n events of ks's buffer into its lag, for good,
// and drops them from the buffer.
func (d *Detector) foldLag(t *table, ks *keyState, n int) {
	for i := range ks.buf[:n] {
		ks.lag.fold(&ks.buf[i], d)
	}
	if n == len(ks.buf) {
		d.release(t, ks)
		return
	}
	ks.shift(n)
}

// release empties ks's buffer, keeping a small array for the next keys
// of the rule to buffer events.
func (d *Detector) release(t *table, ks *keyState) {
	t.bufs.put(ks.buf)
	ks.buf = nil
}

// settle folds the buffers of the pending keys (those that received
// events since the last read, or since a late event) on copies of their
// lag, so that the detections are those of every event added: every read
// calls it first. Cost: per pending key, a copy of its state and the fold
// of its buffer, so a read pays for the keys that received events since
// the one before, and a read after a read for nothing (pending lists
// those keys alone); the first read after a fold at the horizon walks
// every key with kept events (queued), as that fold did.
func (d *Detector) settle() {
	settle := func(at slotRef) {
		t := &d.tables[at.rule]
		ks := t.slots.at(at.n)
		if ks.cur != nil || len(ks.buf) == 0 {
			return
		}
		ks.cur = ks.lag.copyTo(t.spare.take())
		for i := range ks.buf {
			ks.cur.fold(&ks.buf[i], d.undoTo(ks))
		}
	}
	if d.pendingAll {
		for _, q := range d.queued {
			settle(q.at)
		}
	}
	for _, at := range d.pending {
		settle(at)
	}
	d.pending, d.pendingAll = d.pending[:0], false
}

// pend lists at among the keys the next read settles.
func (d *Detector) pend(at slotRef) {
	if !d.pendingAll {
		d.pending = append(d.pending, at)
	}
}

// pendAll makes the next read settle every key with kept events (queued),
// the list of those the reads since the last fold left pending dropped:
// called at each fold at the horizon, it keeps that list to the keys of
// a horizon, and without reads spares its upkeep, where dropping the
// keys with nothing left to settle read every listed key's state again
// at each horizon (3.5% of the detector's CPU in
// BenchmarkDetectorTraffic/users=100000, #18, session 12).
func (d *Detector) pendAll() {
	d.pending, d.pendingAll = d.pending[:0], true
}

// shift drops the first n events of the buffer, keeping its array.
func (ks *keyState) shift(n int) { ks.buf = ks.buf[:copy(ks.buf, ks.buf[n:])] }

// dropState keeps s, which nothing uses any more, for a later copy.
func (t *table) dropState(s state) {
	if s != nil {
		t.spare.put(s)
	}
}

// emit records a detection for good.
func (d *Detector) emit(det *Detection) { d.put(det.stored()) }

// undoSink records the detections of a key's cur folds through the
// detector, remembering in the key's undo what they replace.
type undoSink struct {
	d  *Detector
	ks *keyState
}

// undoTo returns the sink of ks's cur folds.
func (d *Detector) undoTo(ks *keyState) sink {
	d.undo.ks = ks
	return &d.undo
}

func (u *undoSink) emit(det *Detection) {
	ks := u.ks
	if ks.undo == nil {
		ks.undo = map[string]*Detection{}
	}
	if _, ok := ks.undo[det.ID]; !ok {
		ks.undo[det.ID] = u.d.dets[det.ID]
	}
	u.d.put(det.stored())
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
	for _, q := range d.queued {
		if q.first >= d.cut { // no event before the cut (but a late one): the key's state is not read
			keep = append(keep, q)
			continue
		}
		t := &d.tables[q.at.rule]
		ks := t.slots.at(q.at.n)
		if d.advance(q.at, t, ks, d.cut); len(ks.buf) > 0 {
			keep = append(keep, queuedKey{q.at, ks.buf[0].Time})
		}
	}
	d.queued, d.folded = keep, d.cut
	d.pendAll()
}

// Compact folds every key's events before the cut into its lag and
// forgets the states that can no longer matter, and the spare states and
// buffers kept for reuse. Add does the same but the last once per 24
// hours of event time; call it to release memory sooner. Cost: one pass
// over the keys.
func (d *Detector) Compact() { d.sweep(true) }

// sweep is Compact; unless release, it keeps the spare states and
// buffers taken since the last sweep (pool): where keys receive an event
// now and then (most users), every event takes a state and a buffer from
// them and gives them back a horizon later, so that dropping them all at
// each sweep made the next day's events allocate them anew
// (BenchmarkDetectorTraffic, #18, session 8).
func (d *Detector) sweep(release bool) {
	for i := range d.tables {
		t := &d.tables[i]
		forget := func(n uint32) bool {
			ks := t.slots.at(n)
			if len(ks.buf) == 0 && d.cut < ks.last.time {
				return false // lag unchanged since a sweep found it not idle before last.time
			}
			if d.advance(slotRef{uint32(i), n}, t, ks, d.cut); len(ks.buf) > 0 {
				return false
			}
			if !ks.lag.idle(d.cut) {
				ks.last.time = ks.lag.idleFrom()
				return false
			}
			t.dropState(ks.lag) // for the next new key (slot)
			*ks = keyState{}
			t.live--
			return true
		}
		if t.ids == nil {
			for n := range t.slots.n {
				if t.slots.at(n).lag != nil {
					forget(n)
				}
			}
		} else {
			for k, n := range t.ids {
				if forget(n) {
					delete(t.ids, k)
					t.free = append(t.free, n)
				}
			}
		}
		t.spare.trim(release)
		t.bufs.trim(release)
	}
	d.userRules.parts.trim(release)
	d.compactUsers(release)
	d.swept, d.folded = d.cut, d.cut
	d.queued = slices.DeleteFunc(d.queued, func(q queuedKey) bool { return len(d.tables[q.at.rule].slots.at(q.at.n).buf) == 0 })
	d.pendAll()
}

// Detections returns every detection, by time, then id.
func (d *Detector) Detections() []Detection {
	d.settle()
	out := make([]Detection, 0, len(d.dets))
	for _, det := range d.dets {
		out = append(out, *det.clone())
	}
	slices.SortFunc(out, func(a, b Detection) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Version returns a number that changes whenever a detection is added,
// changed or removed.
func (d *Detector) Version() uint64 {
	d.settle()
	return d.change
}

// Len returns the number of detections.
func (d *Detector) Len() int {
	d.settle()
	return len(d.dets)
}

// Keys returns how many keys have state, for memory estimates: a user
// counts once for the four user-keyed rules.
func (d *Detector) Keys() int {
	n := 0
	for i := range d.tables {
		n += d.tables[i].live
	}
	return n
}
