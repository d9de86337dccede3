package insights

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/dayindex"
	"github.com/insightslab/insights/internal/frame"
	"github.com/klauspost/compress/zstd"
)

// combo is one distinct combination of indexed dimension codes seen in a
// day: the unit event-level filters are planned on (plan.go).
type combo = dayindex.Combo

// dayBuilder is an open day: its index (internal/dayindex), the hashes of
// its events' request ids, and its event log. The Engine's lock guards it.
type dayBuilder struct {
	index *dayindex.Builder
	seen  map[uint64]struct{} // hashes of the request ids of the day's events
	log   eventLog
	// logBase, when set, is the sealed day this one was thawed from, whose
	// log (not in memory, or compressed) precedes the entries of log;
	// baseAt maps its entries' combinations to the builder's (nil: the same).
	logBase *day
	baseAt  []uint32
	baseLen int // entries of logBase's log
}

func newDayBuilder() *dayBuilder { return newDayBuilderOf(dayindex.NewBuilder()) }

// newDayBuilderOf returns a builder of index x, with no request ids and an
// empty log.
func newDayBuilderOf(x *dayindex.Builder) *dayBuilder {
	return &dayBuilder{index: x, seen: map[uint64]struct{}{}, log: newEventLog()}
}

// dayRoom is how many log entries, combinations and request ids a day's
// builder holds, and the record bytes of its log's first chunk: the room
// the next day's starts with.
type dayRoom struct{ entries, chunkBytes, combos, ids int }

// room returns what b holds, or nothing if b's log holds only the late
// events of a thawed day (logBase set), while its request ids are the
// whole day's. A day thawed with its log at hand and plain, or joined by
// an erasure (joinLog), holds its whole log and gives its room. What
// guards b guards the call.
func (b *dayBuilder) room() dayRoom {
	if b.logBase != nil {
		return dayRoom{}
	}
	r := dayRoom{entries: b.log.len(), combos: b.index.Len(), ids: len(b.seen)}
	if len(b.log.chunks) > 0 {
		r.chunkBytes = len(b.log.chunks[0])
	}
	return r
}

// newDayBuilderLike returns an empty builder with room r, that of the
// day before (dayState.room): consecutive days carry alike traffic, so a
// day's log and maps are allocated about once rather than grown by
// doubling, each doubling copying them into fresh memory. What a smaller
// day leaves unused is at most the day before's size, and MemoryLimit
// does not see it (a day's size counts what it holds) until the day is
// stored and closed: so the engine sizes no day ahead of its clock, and
// none like a builder whose log holds only the late events (logBase set:
// room).
func newDayBuilderLike(r dayRoom) *dayBuilder {
	if r == (dayRoom{}) {
		return newDayBuilder()
	}
	b := &dayBuilder{index: dayindex.NewBuilderWithRoom(r.combos), seen: make(map[uint64]struct{}, r.ids)}
	b.log = eventLog{times: make([]int64, 0, r.entries), users: make([]uint32, 0, r.entries), combos: make([]uint32, 0, r.entries),
		offs: make([]uint32, 1, r.entries+1)}
	if r.chunkBytes > 0 { // the first chunk's room and 1/32 more; appendChunked sizes the next ones alike
		b.log.chunks = [][]byte{make([]byte, 0, r.chunkBytes+r.chunkBytes/32)}
	}
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

// addIndex records one event in the index only, returning its combination
// (dayindex.Builder.Add).
func (b *dayBuilder) addIndex(c combo, uid uint32, hasUser, activity bool) uint32 {
	return b.index.Add(c, uid, hasUser, activity)
}

// restrict returns an index of the day's log entries in entries only;
// active holds the combinations whose events are activity.
func (d *day) restrict(l *eventLog, entries, active *roaring.Bitmap) *day {
	return newDayBuilderOf(d.ix.Restrict(l.combos, l.users, entries, active)).seal()
}

// day is a sealed day: its immutable index with the sets derived from it
// (internal/dayindex), shared by queries without copying, its request
// ids, and its event log. A day read by ranges decodes its columns,
// counts and users on first need: read one only after need returned for
// its section (daysections.go).
type day struct {
	ix         dayindex.Day             // the index and the sets derived from it
	pending    atomic.Uint32            // sectionSet of the sections not decoded yet (need)
	lazy       *sectionReader           // reads them; nil when none was ever pending
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

	// Derived beside the index's own sets, built on first use and then
	// shared.
	aggMu   sync.Mutex
	agg     map[aggKey][]uint64     // event counts per code (aggregate.go)
	blocks  map[blockKey]*blockSets // unions of the active sets of the blocks ending here (blocks.go)
	derived atomic.Int64            // bytes of these and of the log indexes built so far (memBytes)
	index   atomic.Int64            // bytes of the index, once measured (memBytes)
}

// seal returns an immutable copy of b.
func (b *dayBuilder) seal() *day {
	x, at := b.index.Seal(sortDims[:])
	d := &day{ix: dayindex.Day{Index: x}}
	d.requestIDs = make([]uint64, 0, len(b.seen))
	for id := range b.seen {
		d.requestIDs = append(d.requestIDs, id)
	}
	slices.Sort(d.requestIDs)
	d.fullIDs = true
	d.log, d.logBase, d.baseAt = b.log.view(), b.logBase, b.baseAt
	if at != nil {
		d.log.combos = dayindex.Renumber(b.log.combos, at)
		if b.logBase != nil {
			base := b.baseAt
			if base == nil {
				base = dayindex.Identity(b.logBase.ix.NumCombos())
			}
			d.baseAt = dayindex.Renumber(base, at)
		}
	}
	return d
}

// sortDims are the dimensions a sealed day orders its combinations by,
// most significant first: the base predicates' (kind, status, sign-in
// type), then those filters name most. Sorted, each of their values is
// one or a few runs of combinations, so its postings are dense and their
// intersections, and the users of what a filter selects, are read from
// neighbouring memory.
var sortDims = [...]int{int(DimKind) - 1, int(DimStatus) - 1, int(DimSignInType) - 1,
	int(DimAppID) - 1, int(DimOS) - 1, int(DimCountry) - 1}

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
	return decodeLog(d.logKey, section, r.Version, d.ix.NumCombos(), d.ix.EventCount(), d.logUsers, d.logDec)
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
		combos = dayindex.Renumber(p.combos, at)
	}
	out := eventLog{times: append(slices.Clip(p.times), next.times...), users: append(slices.Clip(p.users), next.users...),
		combos: append(combos, next.combos...), chunks: p.view().chunks, // its own headers: appended to below
		offs: slices.Clip(p.offs)}
	end := p.offs[p.len()]
	for i, o := range next.offs[1:] {
		out.offs = append(out.offs, end+o)
		out.chunks = appendChunked(out.chunks, p.len()+i, next.plainRecord(i))
	}
	return out.view(), nil
}

// withLog returns a copy of d's index with log l in place of its own; the
// derived caches start afresh. d has every section (a day sealed from a
// builder: its log at hand).
func (d *day) withLog(l eventLog) *day {
	c := &day{ix: dayindex.Day{Index: d.ix.Index}, requestIDs: d.requestIDs, fullIDs: d.fullIDs, log: l}
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
	b := newDayBuilderOf(d.ix.Thaw())
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
		b.logBase, b.baseAt, b.log = base, at, l.view()
	case get == nil && l.blocks == nil && len(l.offs) > 0: // at hand and plain
		b.log = l.view() // capped, its own chunks' headers: the builder's appends copy
	default: // in the segment, compressed, or not read (yet)
		b.logBase = d
	}
	if b.logBase != nil {
		b.baseLen = int(d.ix.EventCount()) - b.log.len()
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
