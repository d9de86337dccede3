package dayindex

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/segment"
)

// Day is a sealed Index with the sets derived from it, each built on
// first use and then kept and shared: per column the postings from each
// code to the combinations that carry it, the combinations with more than
// one event, per column each code's active users, and the sets of the
// predicates a caller keeps (Pred.Keep). Its methods are safe for
// concurrent use once the sections they read are at hand; concurrent
// first uses of a set may each build it, and one is kept. The zero value
// is not ready (its Index has no active set: Active is nil): make a Day
// as Day{Index: x}, x sealed or filled section by section as Index says.
// A Day must not be copied: make a new one of the same Index.
type Day struct {
	Index

	multiOnce sync.Once
	multi     *roaring.Bitmap
	post      [NumCols]atomic.Pointer[[]*roaring.Bitmap]
	activeBy  [NumCols]atomic.Pointer[[]*roaring.Bitmap]
	keptSets  [MaxKept]atomic.Pointer[roaring.Bitmap]
	derived   atomic.Int64 // bytes of the derived sets built so far
}

// DerivedBytes returns the bytes of the sets derived so far.
func (d *Day) DerivedBytes() int64 { return d.derived.Load() }

// grew adds n bytes of derived sets to d's size.
func (d *Day) grew(n int) { d.derived.Add(int64(n)) }

// all returns a new set of every combination.
func (d *Day) all() *roaring.Bitmap {
	s := roaring.New()
	s.AddRange(0, uint64(d.Combos))
	return s
}

// Postings returns, for column col, the set of combinations of each code
// (nil for codes the day lacks; shared: do not modify). Built from the
// column on first use, in one pass, and kept.
func (d *Day) Postings(col int) []*roaring.Bitmap {
	if p := d.post[col].Load(); p != nil {
		return *p
	}
	var lists [][]uint32
	column := &d.Cols[col]
	for i := range uint32(d.Combos) {
		c := column.At(i)
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
	d.grew(BitmapsBytes(p))
	return p
}

// ActiveBy returns, for column col, the active users of each code (nil
// for none; shared: do not modify): the answer to unfiltered activity
// grouped by one column, built on first use and kept. activity selects
// the combinations whose events are activity; it must be the same
// predicate on every call, whose codes do not change.
func (d *Day) ActiveBy(col int, activity *Pred) []*roaring.Bitmap {
	if p := d.activeBy[col].Load(); p != nil {
		return *p
	}
	match := d.Match(activity)
	post := d.Postings(col)
	out := make([]*roaring.Bitmap, len(post))
	for c, set := range post {
		if set != nil && match.Intersects(set) {
			if users := d.UsersIn(roaring.And(match, set)); !users.IsEmpty() {
				users.RunOptimize()
				out[c] = users
			}
		}
	}
	if !d.activeBy[col].CompareAndSwap(nil, &out) {
		return *d.activeBy[col].Load()
	}
	d.grew(BitmapsBytes(out))
	return out
}

// UsersIn returns the users of the combinations in set, as a new set.
func (d *Day) UsersIn(set *roaring.Bitmap) *roaring.Bitmap {
	var l []uint32
	it := set.Iterator()
	for it.HasNext() {
		l = append(l, d.UsersOf(int(it.Next()))...)
	}
	return BitmapOfList(l)
}

// MultiSet returns the combinations with more than one event (shared: do
// not modify).
func (d *Day) MultiSet() *roaring.Bitmap {
	d.multiOnce.Do(func() {
		d.multi = roaring.New()
		for i := range uint32(d.Combos) {
			if d.Counts.At(i) > 1 {
				d.multi.Add(i)
			}
		}
		d.grew(int(d.multi.GetSizeInBytes()))
	})
	return d.multi
}

// Extra returns the events beyond one of the combinations in set (a
// subset of MultiSet): in [0] when codes is nil, else per code of column
// codes.
func (d *Day) Extra(set *roaring.Bitmap, codes *segment.Column) []uint64 {
	out := make([]uint64, 1)
	it := set.Iterator()
	for it.HasNext() {
		i := it.Next()
		k := 0
		if codes != nil {
			k = int(codes.At(i))
			if k >= len(out) {
				out = append(out, make([]uint64, k+1-len(out))...)
			}
		}
		out[k] += uint64(d.Counts.At(i) - 1)
	}
	return out
}

// BitmapOfList returns the set of the ids in l, which it sorts: roaring
// adds ascending ids at a container's end, where unsorted ones shift it.
func BitmapOfList(l []uint32) *roaring.Bitmap {
	slices.Sort(l)
	return roaring.BitmapOf(slices.Compact(l)...)
}

// BitmapsBytes returns the bytes of the sets in s and of its pointers,
// nil ones taking none but their pointer.
func BitmapsBytes(s []*roaring.Bitmap) int {
	n := 8 * len(s)
	for _, b := range s {
		if b != nil {
			n += int(b.GetSizeInBytes())
		}
	}
	return n
}
