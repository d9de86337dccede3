package insights

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/klauspost/compress/zstd"
)

// combo is one distinct combination of indexed dimension codes seen in a
// day: the unit event-level filters are planned on (plan.go).
type combo [numIndexed]uint32

// dayBuilder is the mutable index of one day: combinations with their
// event counts and user sets. The Engine's lock guards it.
type dayBuilder struct {
	index  map[combo]uint32
	combos []combo
	counts []uint32
	users  []userList          // per combination
	active *roaring.Bitmap     // users with an activity this day, unfiltered
	seen   map[uint64]struct{} // hashes of the request ids of the day's events
	log    eventLog
	// logBase, when set, is the sealed day this one was thawed from, whose
	// log (not in memory, or compressed) precedes the entries of log;
	// baseAt maps its entries' combinations to the builder's (nil: the same).
	logBase *day
	baseAt  []uint32
	baseLen int // entries of logBase's log
}

func newDayBuilder() *dayBuilder {
	return &dayBuilder{index: map[combo]uint32{}, active: roaring.New(), seen: map[uint64]struct{}{}, log: newEventLog()}
}

// dayRoom is how many log entries, record bytes, combinations and request
// ids a day's builder holds: the room the next day's starts with.
type dayRoom struct{ entries, recBytes, combos, ids int }

// room returns what b holds, or nothing if b was thawed (logBase set):
// its request ids are the whole day's while its log holds only the late
// events. What guards b guards the call.
func (b *dayBuilder) room() dayRoom {
	if b.logBase != nil {
		return dayRoom{}
	}
	return dayRoom{entries: b.log.len(), recBytes: len(b.log.recs), combos: len(b.combos), ids: len(b.seen)}
}

// newDayBuilderLike returns an empty builder with room r, that of the
// day before (dayState.room): consecutive days carry alike traffic, so a
// day's log and maps are allocated about once rather than grown by
// doubling, each doubling copying them into fresh memory. What a smaller
// day leaves unused is at most the day before's size, and MemoryLimit
// does not see it (a day's size counts what it holds) until the day is
// stored and closed: so the engine sizes no day ahead of its clock, and
// none like a thawed day (room).
func newDayBuilderLike(r dayRoom) *dayBuilder {
	if r == (dayRoom{}) {
		return newDayBuilder()
	}
	b := &dayBuilder{index: make(map[combo]uint32, r.combos), combos: make([]combo, 0, r.combos), counts: make([]uint32, 0, r.combos),
		users: make([]userList, 0, r.combos), active: roaring.New(), seen: make(map[uint64]struct{}, r.ids)}
	b.log = eventLog{times: make([]int64, 0, r.entries), users: make([]uint32, 0, r.entries), combos: make([]uint32, 0, r.entries),
		offs: make([]uint32, 1, r.entries+1), recs: make([]byte, 0, r.recBytes)}
	return b
}

// firstCopy records a request id and reports whether it is new: the
// request id is the idempotency key, and copies of an event share its day
// (requestids.go).
func (b *dayBuilder) firstCopy(requestID string) bool {
	if requestID == "" {
		return true
	}
	n := len(b.seen)
	b.seen[requestIDHash(requestID)] = struct{}{} // one map operation: a copy leaves the set as it was
	return len(b.seen) > n
}

// add records one event of combination c, by user uid when hasUser, at
// Unix time t (ns), with its log record.
func (b *dayBuilder) add(c combo, uid uint32, hasUser, activity bool, t int64, rec string) {
	i := b.addIndex(c, uid, hasUser, activity)
	if !hasUser {
		uid = noUser
	}
	b.log.add(t, uid, i, rec)
}

// nextSeq returns the sequence of the next entry of the day's log.
func (b *dayBuilder) nextSeq() uint32 {
	n := b.log.len()
	if b.logBase != nil {
		n += b.baseLen
	}
	return uint32(n)
}

// addIndex records one event in the index only, returning its combination.
func (b *dayBuilder) addIndex(c combo, uid uint32, hasUser, activity bool) uint32 {
	i, ok := b.index[c]
	if !ok {
		i = uint32(len(b.combos))
		b.index[c] = i
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, 0)
		b.users = append(b.users, userList{})
	}
	b.counts[i]++
	if !hasUser {
		return i
	}
	b.users[i].add(uid)
	if activity {
		b.active.Add(uid)
	}
	return i
}

// restrict returns an index of the day's log entries in entries only;
// active holds the combinations whose events are activity.
func (d *day) restrict(l *eventLog, entries, active *roaring.Bitmap) *day {
	b := newDayBuilder()
	it := entries.Iterator()
	for it.HasNext() {
		i := it.Next()
		c := l.combos[i]
		var key combo
		for k := range key {
			key[k] = d.cols[k].at(c)
		}
		u := l.users[i]
		b.addIndex(key, u, u < erasedUser, u < erasedUser && active.Contains(c))
	}
	return b.seal()
}

// day is the sealed, immutable index of one day, shared by queries
// without copying. Columns hold one code per combination; the users of
// combination i are users[offs[i]:offs[i+1]], ascending. A day read by
// ranges decodes its columns, counts and users on first need: read one
// only after need returned for its section (daysections.go).
type day struct {
	combos     int
	pending    atomic.Uint32  // sectionSet of the sections not decoded yet (need)
	lazy       *sectionReader // reads them; nil when none was ever pending
	cols       [numIndexed]column
	counts     column // events per combination
	offs       []uint32
	users      []uint32
	active     *roaring.Bitmap
	requestIDs []uint64                 // hashes of the request ids, ascending: all, or, unless fullIDs, those the log lacks
	fullIDs    bool                     // requestIDs holds every request id of the day (requestids.go)
	recovered  atomic.Pointer[[]uint64] // unless fullIDs, every request id, once allRequestIDs read the log

	// The day's event log: in log, or, for a day whose segment holds it,
	// read on first use (events) from the section at logOff of the frame
	// logGet returns; or, for a day thawed from one whose log was not at
	// hand, that day's log (logBase, which has no base itself) followed by
	// the entries in log, joined on first use, with baseAt mapping the
	// base's combinations to this day's (nil: the same).
	log      eventLog
	logBase  *day
	baseAt   []uint32
	logGet   func() ([]byte, error)
	logKey   string // the segment's key
	logOff   int
	logUsers int // the catalog's users when the segment was written or read
	logDec   *zstd.Decoder
	logMu    sync.Mutex // serializes the first read of the log
	logReady bool       // log holds the day's whole log
	logIdx   logIndex

	// Derived, built on first use and then shared: the combinations with
	// more than one event, and per dimension the postings from each code
	// to the combinations that carry it.
	multiOnce sync.Once
	multi     *roaring.Bitmap
	post      [numIndexed]atomic.Pointer[[]*roaring.Bitmap]
	activeVal [numIndexed]atomic.Pointer[[]*roaring.Bitmap]
	base      [numBases]atomic.Pointer[roaring.Bitmap]
	aggMu     sync.Mutex
	agg       map[aggKey][]uint64     // event counts per code (aggregate.go)
	blocks    map[blockKey]*blockSets // unions of the active sets of the blocks ending here (blocks.go)
	derived   atomic.Int64            // bytes of the derived sets and log indexes built so far (memBytes)
	index     atomic.Int64            // bytes of the index, once measured (memBytes)
}

// baseSet returns the combinations that base predicate b, compiled as m,
// matches (shared: do not modify), computed on first use and kept.
// Concurrent first uses may each compute it; one result is kept.
func (d *day) baseSet(b basePred, m *matcher) *roaring.Bitmap {
	if set := d.base[b].Load(); set != nil {
		return set
	}
	set := m.match(d, nil)
	if !d.base[b].CompareAndSwap(nil, set) {
		return d.base[b].Load()
	}
	d.grew(int(set.GetSizeInBytes()))
	return set
}

func (d *day) numCombos() int { return d.combos }

// activeBy returns, for dimension column col, the active users of each
// code (nil for none): the answer to unfiltered activity grouped by one
// dimension, built on first use and kept. activity must be the compiled
// activity predicate, which does not change: its codes are seeded.
func (d *day) activeBy(col int, activity *matcher) []*roaring.Bitmap {
	if p := d.activeVal[col].Load(); p != nil {
		return *p
	}
	match := activity.eval(d)
	post := d.postings(col)
	out := make([]*roaring.Bitmap, len(post))
	for c, set := range post {
		if set != nil && match.Intersects(set) {
			if users := d.usersIn(roaring.And(match, set)); !users.IsEmpty() {
				users.RunOptimize()
				out[c] = users
			}
		}
	}
	if !d.activeVal[col].CompareAndSwap(nil, &out) {
		return *d.activeVal[col].Load()
	}
	d.grew(bitmapsBytes(out))
	return out
}

// usersIn returns the users of the combinations in set.
func (d *day) usersIn(set *roaring.Bitmap) *roaring.Bitmap {
	var l []uint32
	it := set.Iterator()
	for it.HasNext() {
		l = append(l, d.usersOf(int(it.Next()))...)
	}
	return bitmapOfList(l)
}

// bitmapOfList returns the set of the ids in l, which it sorts: roaring
// adds ascending ids at a container's end, where unsorted ones shift it.
func bitmapOfList(l []uint32) *roaring.Bitmap {
	slices.Sort(l)
	return roaring.BitmapOf(slices.Compact(l)...)
}

// all returns a new set of every combination.
func (d *day) all() *roaring.Bitmap {
	s := roaring.New()
	s.AddRange(0, uint64(d.numCombos()))
	return s
}

// postings returns, for dimension column col, the set of combinations of
// each code (nil for codes the day lacks). Built from the column on first
// use, in one pass, and kept: the day is immutable. Safe for concurrent use.
func (d *day) postings(col int) []*roaring.Bitmap {
	if p := d.post[col].Load(); p != nil {
		return *p
	}
	var lists [][]uint32
	column := &d.cols[col]
	for i := range uint32(d.numCombos()) {
		c := column.at(i)
		if int(c) >= len(lists) {
			lists = append(lists, make([][]uint32, int(c)+1-len(lists))...)
		}
		lists[c] = append(lists[c], i)
	}
	p := make([]*roaring.Bitmap, len(lists))
	for c, l := range lists {
		if len(l) > 0 {
			p[c] = roaring.BitmapOf(l...) // no run containers: Ands with them convert them first
		}
	}
	if !d.post[col].CompareAndSwap(nil, &p) {
		return *d.post[col].Load()
	}
	d.grew(bitmapsBytes(p))
	return p
}

// multiSet returns the combinations with more than one event (shared).
func (d *day) multiSet() *roaring.Bitmap {
	d.multiOnce.Do(func() {
		d.multi = roaring.New()
		for i := range uint32(d.numCombos()) {
			if d.counts.at(i) > 1 {
				d.multi.Add(uint32(i))
			}
		}
		d.grew(int(d.multi.GetSizeInBytes()))
	})
	return d.multi
}

// extra returns the events beyond one of the combinations in set (a
// subset of multiSet): in [0] without codes, else per code of codes.
func (d *day) extra(set *roaring.Bitmap, codes *column) []uint64 {
	out := make([]uint64, 1)
	it := set.Iterator()
	for it.HasNext() {
		i := it.Next()
		k := 0
		if codes != nil {
			k = int(codes.at(i))
			if k >= len(out) {
				out = append(out, make([]uint64, k+1-len(out))...)
			}
		}
		out[k] += uint64(d.counts.at(i) - 1)
	}
	return out
}

// usersOf returns the users of combination i (shared; do not modify).
func (d *day) usersOf(i int) []uint32 { return d.users[d.offs[i]:d.offs[i+1]] }

// seal returns an immutable copy of b.
func (b *dayBuilder) seal() *day {
	perm := b.order()
	d := &day{combos: len(b.combos), counts: newColumn(len(b.counts), func(j int) uint32 { return b.counts[perm[j]] }),
		offs: make([]uint32, len(b.combos)+1)}
	sorted := make([]combo, len(perm)) // read in order once: the columns then scan it
	for j, i := range perm {
		sorted[j] = b.combos[i]
	}
	for k := range d.cols {
		d.cols[k] = newColumn(len(sorted), func(j int) uint32 { return sorted[j][k] })
	}
	n := 0
	for i := range b.users {
		n += len(b.users[i].ids)
	}
	d.users = make([]uint32, 0, n)
	for j, i := range perm {
		d.users = b.users[i].appendSet(d.users)
		d.offs[j+1] = uint32(len(d.users))
	}
	if len(d.users) < n { // repeats dropped: keep only what is used
		d.users = slices.Clone(d.users)
	}
	d.active = b.active.Clone()
	d.active.RunOptimize()
	d.requestIDs = make([]uint64, 0, len(b.seen))
	for id := range b.seen {
		d.requestIDs = append(d.requestIDs, id)
	}
	slices.Sort(d.requestIDs)
	d.fullIDs = true
	d.log, d.logBase, d.baseAt = b.log.view(), b.logBase, b.baseAt
	if !isIdentity(perm) {
		at := make([]uint32, len(perm)) // builder's combination → the day's
		for j, i := range perm {
			at[i] = uint32(j)
		}
		d.log.combos = renumber(b.log.combos, at)
		if b.logBase != nil {
			base := b.baseAt
			if base == nil {
				base = identity(b.logBase.numCombos())
			}
			d.baseAt = renumber(base, at)
		}
	}
	return d
}

// renumber returns at[c] for each c of combos, in a new slice.
func renumber(combos, at []uint32) []uint32 {
	out := make([]uint32, len(combos))
	for e, c := range combos {
		out[e] = at[c]
	}
	return out
}

// identity returns 0, 1, ..., n-1.
func identity(n int) []uint32 {
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	return perm
}

// sortDims are the dimensions a sealed day orders its combinations by,
// most significant first: the base predicates' (kind, status, sign-in
// type), then those filters name most. Sorted, each of their values is
// one or a few runs of combinations, so its postings are dense and their
// intersections, and the users of what a filter selects, are read from
// neighbouring memory.
var sortDims = [...]int{int(DimKind) - 1, int(DimStatus) - 1, int(DimSignInType) - 1,
	int(DimAppID) - 1, int(DimOS) - 1, int(DimCountry) - 1}

// order returns the order a sealed day keeps b's combinations in: by
// sortDims, first seen first among equals. Cost: a sort of the
// combinations, O(n log n).
func (b *dayBuilder) order() []uint32 {
	perm := identity(len(b.combos))
	slices.SortFunc(perm, func(x, y uint32) int {
		a, c := &b.combos[x], &b.combos[y]
		for _, k := range sortDims {
			if a[k] != c[k] {
				return cmp.Compare(a[k], c[k])
			}
		}
		return cmp.Compare(x, y)
	})
	return perm
}

// isIdentity reports whether perm maps every index to itself.
func isIdentity(perm []uint32) bool {
	for i, p := range perm {
		if p != uint32(i) {
			return false
		}
	}
	return true
}

// events returns the day's log, reading it on first use (shared: do not
// modify): its columns, with its records left in compressed blocks. The
// store's read and the decode hold no lock of d, so that what measures
// the day meanwhile (logBytes, under the engine's lock) does not wait for
// the store; concurrent first uses may each read it, the first to finish
// installs it. A failed read is not remembered: the next call tries
// again. Safe for concurrent use.
func (d *day) events() (*eventLog, error) {
	d.logMu.Lock()
	if d.logReady {
		d.logMu.Unlock()
		return &d.log, nil
	}
	if d.logBase != nil {
		defer d.logMu.Unlock()
		l, err := d.logBase.joined(&d.log, d.baseAt)
		if err != nil {
			return nil, err
		}
		d.log, d.logBase, d.baseAt, d.logReady = l, nil, nil, true
		return &d.log, nil
	}
	get := d.logGet
	d.logMu.Unlock()
	var l eventLog
	if get != nil {
		var err error
		if l, err = d.readLog(get); err != nil {
			return nil, err
		}
	}
	d.logMu.Lock()
	defer d.logMu.Unlock()
	if !d.logReady {
		if get != nil {
			d.log = l
		}
		d.logGet, d.logReady = nil, true
	}
	return &d.log, nil
}

// readLog reads the day's segment with get and decodes its log section.
func (d *day) readLog(get func() ([]byte, error)) (eventLog, error) {
	b, err := get()
	if err != nil {
		return eventLog{}, err
	}
	r, err := frame.Open(d.logKey, frame.KindSegment, b)
	if err != nil {
		return eventLog{}, err
	}
	r.Off = d.logOff - frame.Header
	section := r.Bytes(r.Count(len(r.Body), 1))
	if r.Err != nil {
		return eventLog{}, r.Err
	}
	return decodeLog(d.logKey, section, r.Version, d.numCombos(), d.eventCount(), d.logUsers, d.logDec)
}

// eventCount returns the number of events of the day's index.
func (d *day) eventCount() uint64 {
	n := uint64(0)
	for i := range uint32(d.numCombos()) {
		n += uint64(d.counts.at(i))
	}
	return n
}

// joined returns d's log followed by the entries of next, plain, with
// d's combinations renumbered by at (nil: kept).
func (d *day) joined(next *eventLog, at []uint32) (eventLog, error) {
	base, err := d.events()
	if err != nil {
		return eventLog{}, err
	}
	p, err := base.plain()
	if err != nil {
		return eventLog{}, err
	}
	combos := slices.Clip(p.combos)
	if at != nil {
		combos = renumber(p.combos, at)
	}
	out := eventLog{times: append(slices.Clip(p.times), next.times...), users: append(slices.Clip(p.users), next.users...),
		combos: append(combos, next.combos...), recs: append(slices.Clip(p.recs), next.recs...),
		offs: slices.Clip(p.offs)}
	end := p.offs[p.len()]
	for _, o := range next.offs[1:] {
		out.offs = append(out.offs, end+o)
	}
	return out.view(), nil
}

// withLog returns a copy of d's index with log l in place of its own; the
// derived caches start afresh. d has every section (a day sealed from a
// builder: its log at hand).
func (d *day) withLog(l eventLog) *day {
	c := &day{combos: d.combos, cols: d.cols, counts: d.counts, offs: d.offs, users: d.users, active: d.active,
		requestIDs: d.requestIDs, fullIDs: d.fullIDs, log: l}
	c.recovered.Store(d.recovered.Load())
	return c
}

// withStoredLog returns a copy of d's index whose log, written at offset
// off of the segment key, is read from there when first needed.
func (d *day) withStoredLog(key string, off, users int, get func() ([]byte, error), dec *zstd.Decoder) *day {
	c := d.withLog(eventLog{})
	c.logKey, c.logOff, c.logUsers, c.logGet, c.logDec = key, off, users, get, dec
	return c
}

// thaw returns a builder holding d's contents, for a late event: every
// section of d must be decoded (whole; preload and thawUser need them). A log at
// hand and plain is shared (the builder's appends copy); otherwise the
// builder starts an empty log after d's (logBase), so thawing reads
// nothing from the store and cannot fail. Unless d holds every request id
// (fullIDs), allRequestIDs must have read the others first (preload,
// Erase), or copies of the day's events would count again.
func (d *day) thaw() *dayBuilder {
	b := newDayBuilder()
	for i := range d.numCombos() {
		var c combo
		for k := range c {
			c[k] = d.cols[k].at(uint32(i))
		}
		b.index[c] = uint32(i)
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, d.counts.at(uint32(i)))
		b.users = append(b.users, userList{ids: slices.Clone(d.usersOf(i)), sorted: len(d.usersOf(i))})
	}
	b.active = d.active.Clone()
	ids := d.requestIDs
	if p := d.recovered.Load(); !d.fullIDs && p != nil {
		ids = *p
	}
	for _, id := range ids {
		b.seen[id] = struct{}{}
	}
	d.logMu.Lock() // a checkpoint may be reading the log meanwhile (events)
	base, at, l, get := d.logBase, d.baseAt, d.log, d.logGet
	d.logMu.Unlock()
	switch {
	case base != nil: // d's own entries follow its base's: keep that base
		b.logBase, b.baseAt, b.log = base, at, l
	case get == nil && l.blocks == nil && len(l.offs) > 0: // at hand and plain
		b.log = l // capped: the builder's appends copy
	default: // in the segment, compressed, or not read (yet)
		b.logBase = d
	}
	if b.logBase != nil {
		b.baseLen = int(d.eventCount()) - b.log.len()
	}
	return b
}

// logAtHand reports whether d's whole log is in memory, plain: neither in
// a segment nor after a base's.
func (d *day) logAtHand() bool {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	return d.logBase == nil && d.logGet == nil && d.log.blocks == nil
}
