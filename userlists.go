package insights

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// prepareLists computes and keeps the users matching p, ungrouped, of the
// days of [from, to) not yet in the cache, on up to the engine's
// parallelism goroutines: per day a list in no order that may repeat a
// user. Kept per query and day, so overlapping windows read a day once.
func (ev *evaluation) prepareLists(p userPred, from, to int32) {
	byDay := ev.lists[p.m]
	if byDay == nil {
		byDay = map[int32][]uint32{}
		ev.lists[p.m] = byDay
	}
	in := ev.inputs(p, from, to, func(n int32) bool { _, ok := byDay[n]; return ok })
	out := make([][]uint32, len(in))
	forEach(len(in), ev.e.parallelism, func(i int) { out[i] = usersMatching(in[i], p.m) })
	for i, x := range in {
		byDay[x.n] = out[i]
	}
}

// usersMatching returns the users of the combinations of x's day that m
// matches, less x.del, as a list in no order that may repeat a user. It
// reads only the day: safe to run concurrently.
func usersMatching(x dayInput, m *matcher) []uint32 {
	var l []uint32
	it := x.d.ix.Match(m).Iterator()
	for it.HasNext() {
		for _, u := range x.d.ix.UsersOf(int(it.Next())) {
			if x.del == nil || !x.del.Contains(u) {
				l = append(l, u)
			}
		}
	}
	return l
}

// unionLists returns the users matching p, ungrouped, on any day of
// [from, to): the days' lists set bits of a dense set of every user (one
// bit each, 125 KiB at a million users, kept for the query), which then
// becomes a bitmap. Cost: the matching events plus one pass over the
// dense set, instead of a sort and a bitmap per day and their union.
func (ev *evaluation) unionLists(p userPred, from, to int32) *roaring.Bitmap {
	ev.prepareLists(p, from, to)
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		ev.setDense(ev.lists[p.m][n])
	}
	return ev.takeDense()
}

// setDense adds users to the dense scratch set, growing it to hold them.
func (ev *evaluation) setDense(users []uint32) {
	for _, u := range users {
		w := int(u >> 6)
		if w >= len(ev.dense) {
			ev.dense = append(ev.dense, make([]uint64, max(w+1, len(ev.keys)/64+1)-len(ev.dense))...)
		}
		ev.dense[w] |= 1 << (u & 63)
	}
}

// takeDense returns the dense scratch set as a new set, and clears it.
func (ev *evaluation) takeDense() *roaring.Bitmap {
	out := roaring.FromDense(ev.dense, true)
	clear(ev.dense)
	return out
}

// unionSets returns the union of sets, a new set. Large unions of many
// sets go through the dense scratch set (a pass over it per union, to
// make the result); the others merge the sets (roaring's FastOr, whose
// cost grows with the number of sets times the result).
func (ev *evaluation) unionSets(sets []*roaring.Bitmap) *roaring.Bitmap {
	n := uint64(0)
	for _, s := range sets {
		n += s.GetCardinality()
	}
	if len(sets) <= 2 || n < uint64(len(ev.keys)/8) {
		return metrics.Union(sets...)
	}
	var buf [256]uint32
	for _, s := range sets {
		it := s.ManyIterator()
		for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
			ev.setDense(buf[:n])
		}
	}
	return ev.takeDense()
}
