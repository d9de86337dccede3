package insights

import (
	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/dayindex"
)

// Filtered active users over ranges of days, from cached unions. A
// filtered, ungrouped user predicate (30-day active users of three apps
// on iOS in the US) is, per day, the users of the combinations its
// compiled matcher selects: a few roaring intersections of postings and a
// read of the matched users, per day and per query. A dashboard asks the
// same filter again over a moving range, so the blocks of blocks.go keep,
// for a filter, the union of its days' sets: the day's own set (a block of
// one day, kept on the day) and blocks of 2, 4, ... maxBlockDays days. A
// repeated 30-day query is then a union of two kept sets.
//
// A block is named by the predicate's key (userPred.key): its base
// predicate and Filter.String, not the compiled codes. Codes never change
// meaning and a value the dictionaries learn later is in no day sealed
// before, so a sealed day's set under a filter is the same whenever the
// filter is compiled, as with the pre-aggregated counts (aggregate.go).
// Blocks are invalidated, counted in Options.MemoryLimit and evicted as
// blocks.go says. A day keeps the blocks of at most maxFilters filters,
// counted as predicate keys (the metric's base predicate with the filter:
// one filter asked of active and of signing-in users counts twice); a new
// one past that drops the others' (a dashboard's filters stay few, an ad
// hoc exploration does not grow a day for good).

// maxFilters is the most predicate keys whose blocks one day keeps.
const maxFilters = 8

// newFilter reports whether d keeps no block of filter f and already
// keeps those of maxFilters others. d.aggMu is held.
func (d *day) newFilter(f string) bool {
	seen := map[string]bool{}
	for k := range d.blocks {
		if k.filter == f {
			return false
		}
		if k.filter != "" {
			seen[k.filter] = true
		}
	}
	return len(seen) >= maxFilters
}

// matching returns the users of d matching m, the compiled predicate k
// names, in [0] (nil for none; shared: do not modify). Computed on first
// use (one evaluation of m and a read of the matched combinations' users)
// and kept on d as the block of k, a block of one day. Safe for
// concurrent use: concurrent first uses may each compute it.
func (d *day) matching(k blockKey, m *matcher) []*roaring.Bitmap {
	if b := d.block(k); b != nil {
		return b.sets
	}
	sets := []*roaring.Bitmap{nil}
	if l := usersMatching(dayInput{d: d}, m); len(l) > 0 {
		sets[0] = dayindex.BitmapOfList(l)
		sets[0].RunOptimize()
	}
	d.keepBlock(k, &blockSets{sets: sets})
	return sets
}

// prepareMatching computes the day sets of source src (a filtered
// predicate p) that the days of [from, to) do not keep yet, on up to the
// engine's parallelism goroutines: a range's first query reads its days
// in parallel, as prepareLists does.
func (ev *evaluation) prepareMatching(p userPred, src blockSource, from, to int32) {
	var days []*day
	var keys []blockKey
	ev.e.prefetchDays(ev.ctx, from, to, ev.need)
	for n := from; n < to; n++ {
		k := blockKey{blockSource: src, from: n}
		if d := ev.day(n); d != nil && d.block(k) == nil {
			days, keys = append(days, d), append(keys, k)
		}
	}
	forEach(len(days), ev.e.parallelism, func(i int) { days[i].matching(keys[i], p.m) })
}
