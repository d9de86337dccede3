package dayindex

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/segment"
)

// Index is a sealed day's index: Combos combinations, each with one code
// per column in Cols and its event count in Counts; the users of
// combination i are Users[Offs[i]:Offs[i+1]], ascending (a CSR layout:
// one flat array, no set per combination); Active the users with an
// activity. A plain value of slices, as a segment holds it
// (segment.Index): copying it shares them. Immutable once built; a day
// read by ranges has its owner fill the columns, counts and users section
// by section, publishing each before it is read.
type Index struct {
	Combos int
	Cols   [NumCols]segment.Column
	Counts segment.Column
	Offs   []uint32
	Users  []uint32
	Active *roaring.Bitmap
}

// NumCombos returns the number of combinations.
func (x *Index) NumCombos() int { return x.Combos }

// UsersOf returns the users of combination i (shared; do not modify).
func (x *Index) UsersOf(i int) []uint32 { return x.Users[x.Offs[i]:x.Offs[i+1]] }

// comboOf returns the codes of combination i.
func (x *Index) comboOf(i uint32) Combo {
	var c Combo
	for k := range c {
		c[k] = x.Cols[k].At(i)
	}
	return c
}

// EventCount returns the number of events of the index. Cost: a pass
// over the counts.
func (x *Index) EventCount() uint64 {
	n := uint64(0)
	for i := range uint32(x.Combos) {
		n += uint64(x.Counts.At(i))
	}
	return n
}

// Holds reports whether uid is in the active set or a combination's users.
// Cost: a scan of the users.
func (x *Index) Holds(uid uint32) bool {
	return x.Active.Contains(uid) || slices.Contains(x.Users, uid)
}

// Thaw returns a builder holding x's contents, its combinations numbered
// as in x, for a late event. Every column, the counts and the users must
// be at hand. Cost: a copy of the index into the builder's map and lists.
func (x *Index) Thaw() *Builder {
	b := NewBuilder()
	for i := range x.Combos {
		c := x.comboOf(uint32(i))
		us := x.UsersOf(i)
		b.index[c] = uint32(i)
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, x.Counts.At(uint32(i)))
		b.users = append(b.users, userList{ids: slices.Clone(us), sorted: len(us)})
	}
	b.active = x.Active.Clone()
	return b
}

// Restrict returns a builder of the events of x's day whose numbers are in
// entries: event e is of combination combos[e], by user users[e] (none
// when at least segment.ErasedUser), an activity when active holds its
// combination. combos and users are the day's event log's columns. Cost:
// an Add per entry.
func (x *Index) Restrict(combos, users []uint32, entries, active *roaring.Bitmap) *Builder {
	b := NewBuilder()
	it := entries.Iterator()
	for it.HasNext() {
		e := it.Next()
		c, u := combos[e], users[e]
		real := u < segment.ErasedUser
		b.Add(x.comboOf(c), u, real, real && active.Contains(c))
	}
	return b
}
