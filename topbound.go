package insights

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Top N active users by one dimension (the top-10 countries by monthly
// active users) needs the exact size of only the groups that can rank
// among the N largest. Each group's users over a range are the union of
// a few kept blocks (blocks.go), and the sum of those blocks' sizes bounds
// the union's size from above (deletions only remove users). Groups are
// unioned in descending order of that bound, and the rest are skipped as
// soon as N exact sizes are strictly larger than the next bound: a
// skipped group has fewer users than each of those N, so no tie order
// (SPEC: ties by group value) can rank it among them. The answer is the
// exact one; only the rows of groups that rank below N are never
// computed. With Other the skipped groups' users are needed for the
// "(other)" row, so nothing is skipped.

// topByBound returns exact(c) for enough of codes to hold the n codes
// with the largest exact sizes, ties included: it calls exact in
// descending order of bound (by code on equal bounds) and stops when n
// sizes already computed are each larger than the next code's bound.
// bound(c) must be at least exact(c)'s cardinality. n ≤ 0 computes
// every code. Cost: one sort of codes, then exact for the candidates and
// O(n) a candidate to keep the n largest sizes.
func topByBound(codes []int, n int, bound func(c int) uint64, exact func(c int) *roaring.Bitmap) map[int]*roaring.Bitmap {
	out := make(map[int]*roaring.Bitmap, min(len(codes), max(n, 0)+1))
	if n <= 0 || n >= len(codes) {
		for _, c := range codes {
			out[c] = exact(c)
		}
		return out
	}
	type coded struct {
		code  int
		bound uint64
	}
	order := make([]coded, len(codes))
	for i, c := range codes {
		order[i] = coded{c, bound(c)}
	}
	slices.SortFunc(order, func(a, b coded) int {
		if c := cmp.Compare(b.bound, a.bound); c != 0 {
			return c
		}
		return cmp.Compare(a.code, b.code)
	})
	best := make([]uint64, 0, n+1) // the n largest exact sizes, ascending
	for _, o := range order {
		if len(best) == n && o.bound < best[0] {
			break // this code and every later one are smaller than n others
		}
		s := exact(o.code)
		out[o.code] = s
		size := s.GetCardinality()
		i, _ := slices.BinarySearch(best, size)
		best = slices.Insert(best, i, size)
		if len(best) > n {
			best = best[:copy(best, best[1:])]
		}
	}
	return out
}
