package dayindex

import "slices"

// userList is the users of one combination of an open day (Builder):
// ids appended as events arrive, unsorted and possibly repeated past
// sorted, the length of its sorted, distinct prefix. An append is O(1)
// amortized and allocates only when the slice grows, where a roaring set
// per combination cost a set, its containers and their growth (most of a
// day's combinations hold one or a few users). Memory is bounded: when
// the unsorted tail outgrows the sorted prefix and compactSlack, the list
// is sorted and its repeats dropped, so it holds at most about twice its
// distinct users, plus compactSlack. What guards its builder guards it
// (in the engine: its lock, or, for a builder frozen by a checkpoint, the
// lock of the events kept aside).
type userList struct {
	ids    []uint32
	sorted int
}

// compactSlack is how many ids a list appends past its sorted prefix
// before it sorts them in, at least: small lists are sorted once, at seal.
const compactSlack = 32

// add appends uid, sorting the list in when its unsorted tail outgrows
// the sorted prefix. Cost: O(1) amortized, plus a sort of the list every
// time it doubles.
func (l *userList) add(uid uint32) {
	if n := len(l.ids); n > 0 && l.ids[n-1] == uid {
		return // the same user again, the commonest repeat
	}
	l.ids = append(l.ids, uid)
	if tail := len(l.ids) - l.sorted; tail > compactSlack && tail > l.sorted {
		l.set()
	}
}

// set sorts the list, drops its repeats, and returns it: the distinct
// users, ascending (owned by the list; do not modify). Cost: a sort of
// the list, unless it is sorted already.
func (l *userList) set() []uint32 {
	if l.sorted != len(l.ids) {
		slices.Sort(l.ids)
		l.ids = slices.Compact(l.ids)
		l.sorted = len(l.ids)
	}
	return l.ids
}

// appendSet appends the distinct users of the list to dst, ascending,
// leaving the list as it is (a seal reads a builder that it must not
// write). Cost: a copy, and a sort of it unless the list is sorted.
func (l *userList) appendSet(dst []uint32) []uint32 {
	start := len(dst)
	dst = append(dst, l.ids...)
	if l.sorted == len(l.ids) {
		return dst
	}
	slices.Sort(dst[start:])
	return dst[:start+len(slices.Compact(dst[start:]))]
}

// remove deletes uid from the list, reporting whether it held it. Cost:
// O(len) and a sort, as set.
func (l *userList) remove(uid uint32) bool {
	ids := l.set()
	i, found := slices.BinarySearch(ids, uid)
	if found {
		l.ids = slices.Delete(ids, i, i+1)
		l.sorted = len(l.ids)
	}
	return found
}
