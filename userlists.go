package insights

import "github.com/RoaringBitmap/roaring/v2"

// dayList returns the users of day n matching p, ungrouped, as a list in
// no order that may repeat a user (shared with the cache: do not modify).
// Kept per query and day, so overlapping windows read a day once.
func (ev *evaluation) dayList(p userPred, n int32) []uint32 {
	byDay := ev.lists[p.m]
	if byDay == nil {
		byDay = map[int32][]uint32{}
		ev.lists[p.m] = byDay
	}
	if l, ok := byDay[n]; ok {
		return l
	}
	d := ev.day(n)
	if p.logged {
		d = ev.loggedDay(n)
	}
	if d == nil {
		return nil
	}
	var del *roaring.Bitmap
	if p.dropDeleted {
		del = ev.deletedBefore(n)
	}
	var l []uint32
	it := p.m.eval(d).Iterator()
	for it.HasNext() {
		for _, u := range d.usersOf(int(it.Next())) {
			if del == nil || !del.Contains(u) {
				l = append(l, u)
			}
		}
	}
	byDay[n] = l
	return l
}

// unionLists returns the users matching p, ungrouped, on any day of
// [from, to): the days' lists set bits of a dense set of every user (one
// bit each, 125 KiB at a million users, kept for the query), which then
// becomes a bitmap. Cost: the matching events plus one pass over the
// dense set, instead of a sort and a bitmap per day and their union.
func (ev *evaluation) unionLists(p userPred, from, to int32) *roaring.Bitmap {
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		if !ev.check() {
			break
		}
		for _, u := range ev.dayList(p, n) {
			w := int(u >> 6)
			if w >= len(ev.dense) {
				ev.dense = append(ev.dense, make([]uint64, max(w+1, len(ev.keys)/64+1)-len(ev.dense))...)
			}
			ev.dense[w] |= 1 << (u & 63)
		}
	}
	out := roaring.FromDense(ev.dense, true)
	clear(ev.dense)
	return out
}
