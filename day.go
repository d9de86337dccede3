package insights

import (
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
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
	users  []*roaring.Bitmap   // per combination; nil when it has no user events
	active *roaring.Bitmap     // users with an activity this day, unfiltered
	seen   map[uint64]struct{} // hashes of the request ids of the day's events
	log    eventLog
}

func newDayBuilder() *dayBuilder {
	return &dayBuilder{index: map[combo]uint32{}, active: roaring.New(), seen: map[uint64]struct{}{}, log: newEventLog()}
}

// firstCopy records a request id and reports whether it is new: the
// request id is the idempotency key, and copies of an event share its day.
// Ids are kept as 64-bit FNV-1a hashes (8 bytes each, whatever the id's
// length): two distinct ids of one day collide with odds of about n²/2⁶⁵
// for n ids, one in 10⁸ for a million.
func (b *dayBuilder) firstCopy(requestID string) bool {
	if requestID == "" {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(requestID))
	k := h.Sum64()
	if _, dup := b.seen[k]; dup {
		return false
	}
	b.seen[k] = struct{}{}
	return true
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

// addIndex records one event in the index only, returning its combination.
func (b *dayBuilder) addIndex(c combo, uid uint32, hasUser, activity bool) uint32 {
	i, ok := b.index[c]
	if !ok {
		i = uint32(len(b.combos))
		b.index[c] = i
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, 0)
		b.users = append(b.users, nil)
	}
	b.counts[i]++
	if !hasUser {
		return i
	}
	if b.users[i] == nil {
		b.users[i] = roaring.New()
	}
	b.users[i].Add(uid)
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
			key[k] = d.cols[k][c]
		}
		u := l.users[i]
		b.addIndex(key, u, u < erasedUser, u < erasedUser && active.Contains(c))
	}
	return b.seal()
}

// day is the sealed, immutable index of one day, shared by queries
// without copying. Columns hold one code per combination; the users of
// combination i are users[offs[i]:offs[i+1]], ascending.
type day struct {
	cols       [numIndexed][]uint32
	counts     []uint32
	offs       []uint32
	users      []uint32
	active     *roaring.Bitmap
	requestIDs []uint64 // hashes of the request ids, ascending

	// The day's event log: in log, or, for a day loaded from a segment,
	// compressed in logRaw until first needed (events).
	log      eventLog
	logRaw   []byte
	logKey   string // the segment's key, for errors
	logUsers int    // the catalog's users when the segment was read
	logOnce  sync.Once
	logErr   error
	logIdx   logIndex

	// Derived, built on first use and then shared: the combinations with
	// more than one event, and per dimension the postings from each code
	// to the combinations that carry it.
	multiOnce sync.Once
	multi     *roaring.Bitmap
	post      [numIndexed]atomic.Pointer[[]*roaring.Bitmap]
	activeVal [numIndexed]atomic.Pointer[[]*roaring.Bitmap]
}

func (d *day) numCombos() int { return len(d.counts) }

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
	d.activeVal[col].Store(&out)
	return out
}

// usersIn returns the users of the combinations in set.
func (d *day) usersIn(set *roaring.Bitmap) *roaring.Bitmap {
	var l []uint32
	it := set.Iterator()
	for it.HasNext() {
		l = append(l, d.usersOf(int(it.Next()))...)
	}
	return roaring.BitmapOf(l...)
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
	for i, c := range d.cols[col] {
		if int(c) >= len(lists) {
			lists = append(lists, make([][]uint32, int(c)+1-len(lists))...)
		}
		lists[c] = append(lists[c], uint32(i))
	}
	p := make([]*roaring.Bitmap, len(lists))
	for c, l := range lists {
		if len(l) > 0 {
			p[c] = roaring.BitmapOf(l...)
			p[c].RunOptimize()
		}
	}
	d.post[col].Store(&p)
	return p
}

// multiSet returns the combinations with more than one event (shared).
func (d *day) multiSet() *roaring.Bitmap {
	d.multiOnce.Do(func() {
		d.multi = roaring.New()
		for i, c := range d.counts {
			if c > 1 {
				d.multi.Add(uint32(i))
			}
		}
	})
	return d.multi
}

// extra returns the events beyond one of the combinations in set (a
// subset of multiSet): in [0] without codes, else per code of codes.
func (d *day) extra(set *roaring.Bitmap, codes []uint32) []uint64 {
	out := make([]uint64, 1)
	it := set.Iterator()
	for it.HasNext() {
		i := it.Next()
		k := 0
		if codes != nil {
			k = int(codes[i])
			if k >= len(out) {
				out = append(out, make([]uint64, k+1-len(out))...)
			}
		}
		out[k] += uint64(d.counts[i] - 1)
	}
	return out
}

// usersOf returns the users of combination i (shared; do not modify).
func (d *day) usersOf(i int) []uint32 { return d.users[d.offs[i]:d.offs[i+1]] }

// seal returns an immutable copy of b.
func (b *dayBuilder) seal() *day {
	d := &day{counts: append([]uint32(nil), b.counts...), offs: make([]uint32, len(b.combos)+1)}
	for k := range d.cols {
		d.cols[k] = make([]uint32, len(b.combos))
	}
	n := uint64(0)
	for _, u := range b.users {
		if u != nil {
			n += u.GetCardinality()
		}
	}
	d.users = make([]uint32, 0, n)
	for i, c := range b.combos {
		for k := range c {
			d.cols[k][i] = c[k]
		}
		if b.users[i] != nil {
			d.users = appendBitmap(d.users, b.users[i])
		}
		d.offs[i+1] = uint32(len(d.users))
	}
	d.active = b.active.Clone()
	d.active.RunOptimize()
	d.requestIDs = make([]uint64, 0, len(b.seen))
	for id := range b.seen {
		d.requestIDs = append(d.requestIDs, id)
	}
	slices.Sort(d.requestIDs)
	d.log = b.log.view()
	return d
}

// events returns the day's log, decompressing it on first use (shared:
// do not modify). Safe for concurrent use.
func (d *day) events() (*eventLog, error) {
	d.logOnce.Do(func() {
		if d.logRaw != nil {
			d.log, d.logErr = decodeLog(d.logKey, d.logRaw, d.numCombos(), d.logUsers)
			d.logRaw = nil
		}
	})
	return &d.log, d.logErr
}

// thaw returns a builder holding d's contents, for a late event. The
// log must have been decoded (events) without error.
func (d *day) thaw() *dayBuilder {
	b := newDayBuilder()
	for i := range d.counts {
		var c combo
		for k := range c {
			c[k] = d.cols[k][i]
		}
		b.index[c] = uint32(i)
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, d.counts[i])
		var us *roaring.Bitmap
		if u := d.usersOf(i); len(u) > 0 {
			us = roaring.BitmapOf(u...)
		}
		b.users = append(b.users, us)
	}
	b.active = d.active.Clone()
	for _, id := range d.requestIDs {
		b.seen[id] = struct{}{}
	}
	b.log = d.log // capped: the builder's appends copy
	return b
}

// appendBitmap appends the members of s to dst in ascending order.
func appendBitmap(dst []uint32, s *roaring.Bitmap) []uint32 {
	var buf [256]uint32
	it := s.ManyIterator()
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		dst = append(dst, buf[:n]...)
	}
	return dst
}
