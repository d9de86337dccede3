// Package metrics computes identity user metrics on user sets: roaring
// bitmaps of dense uint32 user ids, one per day or bucket. It knows nothing
// of events, filters or stores; the insights package builds the sets and
// hands them here, so every formula of SPEC §4 lives in one small place.
//
// # Ownership
//
// Functions never modify their inputs and return new bitmaps the caller
// owns. Nil input bitmaps are empty sets.
//
// # Concurrency
//
// Every function is safe to call from many goroutines on shared inputs, as
// long as nobody writes to those inputs meanwhile.
package metrics

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// NoDay marks a user without a day in a per-user day array (no activity yet).
const NoDay = int32(1<<31 - 1)

// Union returns the distinct union of sets (nil sets are skipped). Cost:
// linear in the sets' sizes, with roaring's FastOr.
func Union(sets ...*roaring.Bitmap) *roaring.Bitmap {
	nonNil := make([]*roaring.Bitmap, 0, len(sets))
	for _, s := range sets {
		if s != nil && !s.IsEmpty() {
			nonNil = append(nonNil, s)
		}
	}
	switch len(nonNil) {
	case 0:
		return roaring.New()
	case 1:
		return nonNil[0].Clone()
	}
	return roaring.FastOr(nonNil...)
}

// FirstIn returns the users of active whose day in first (indexed by user
// id, NoDay for none) lies in [from, to): with first the first-activity
// days, the new users of a bucket. Cost: one array lookup per member.
func FirstIn(active *roaring.Bitmap, first []int32, from, to int32) *roaring.Bitmap {
	out := roaring.New()
	if active == nil {
		return out
	}
	buf := make([]uint32, 0, 256)
	it := active.Iterator()
	for it.HasNext() {
		u := it.Next()
		if int(u) < len(first) && first[u] >= from && first[u] < to {
			buf = append(buf, u)
			if len(buf) == cap(buf) {
				out.AddMany(buf)
				buf = buf[:0]
			}
		}
	}
	out.AddMany(buf)
	return out
}

// Difference returns a minus every set in minus.
func Difference(a *roaring.Bitmap, minus ...*roaring.Bitmap) *roaring.Bitmap {
	out := roaring.New()
	if a == nil {
		return out
	}
	out = a.Clone()
	for _, m := range minus {
		if m != nil {
			out.AndNot(m)
		}
	}
	return out
}

// Intersection returns a ∩ b.
func Intersection(a, b *roaring.Bitmap) *roaring.Bitmap {
	if a == nil || b == nil {
		return roaring.New()
	}
	return roaring.And(a, b)
}

// LifecycleSets splits the active users of a bucket against the previous
// bucket (SPEC §4). New + Returning + Resurrecting is the bucket's active
// set; Dormant were active in the previous bucket only.
type LifecycleSets struct {
	New, Returning, Resurrecting, Dormant *roaring.Bitmap
}

// Lifecycle computes the lifecycle of cur against prev, given the new
// users of cur (a subset of cur).
func Lifecycle(cur, prev, newUsers *roaring.Bitmap) LifecycleSets {
	old := Difference(cur, newUsers)
	return LifecycleSets{
		New:          Union(newUsers),
		Returning:    Intersection(old, prev),
		Resurrecting: Difference(old, prev),
		Dormant:      Difference(prev, cur),
	}
}

// Ratio returns num / den, or 0 when den is 0 (stickiness).
func Ratio(num, den uint64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Total returns the users who joined (first activity or creation, in
// joined) on or before day d and were not deleted (in deleted) by then:
// total users from per-user days alone, which survive retention. The
// arrays are indexed by user id, NoDay for none. Cost: one pass over them.
func Total(joined, deleted []int32, d int32) *roaring.Bitmap {
	return scan(len(joined), func(u int) bool { return joined[u] <= d && deleted[u] > d })
}

// NeverActive returns the users who joined on or before day d with no
// activity (first, their first activity day) up to d, not deleted by then.
func NeverActive(joined, first, deleted []int32, d int32) *roaring.Bitmap {
	return scan(len(joined), func(u int) bool { return joined[u] <= d && first[u] > d && deleted[u] > d })
}

// scan returns the user ids below n that keep selects.
func scan(n int, keep func(u int) bool) *roaring.Bitmap {
	out := roaring.New()
	buf := make([]uint32, 0, 1024)
	for u := range n {
		if keep(u) {
			if buf = append(buf, uint32(u)); len(buf) == cap(buf) {
				out.AddMany(buf)
				buf = buf[:0]
			}
		}
	}
	out.AddMany(buf)
	return out
}
