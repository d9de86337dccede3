package insights

import (
	"hash/fnv"
	"slices"

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
}

func newDayBuilder() *dayBuilder {
	return &dayBuilder{index: map[combo]uint32{}, active: roaring.New(), seen: map[uint64]struct{}{}}
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

// add records one event of combination c, by user uid when hasUser.
func (b *dayBuilder) add(c combo, uid uint32, hasUser, activity bool) {
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
		return
	}
	if b.users[i] == nil {
		b.users[i] = roaring.New()
	}
	b.users[i].Add(uid)
	if activity {
		b.active.Add(uid)
	}
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
}

func (d *day) numCombos() int { return len(d.counts) }

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
	return d
}

// thaw returns a builder holding d's contents, for a late event.
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
