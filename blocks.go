package insights

import (
	"weak"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/dayindex"
)

// Active users by dimension value over ranges of days, from cached
// unions. Unfiltered activity grouped by one dimension over a range (the
// top-10 countries by monthly active users) is, per value, the union of
// each day's active set of that value (dayindex.Day.ActiveBy): 30 sets per value
// for a month, most of them small, which the per-set work dominates.
// Blocks of 2, 4, ... maxBlockDays days hold per value the union of their
// days' sets, built on first use and kept: aligned blocks (a block of 2^k
// days starts on a multiple of 2^k) from their two halves, and spans (a
// block that starts on any day) from the aligned blocks that partition
// them. A range of up to 2·maxBlockDays days is then the union of two
// blocks, its first and last 2^k days (coverOf): a month is two lookups
// per value. A filtered, ungrouped predicate (active users under a filter
// of the index's own) is kept the same way, as one set per block
// (blockfilter.go).
//
// A block is kept on the sealed day of its last day with data, so that
// it is counted in that day's memory and evicted with it, with weak
// references to the days it was built from: a late event, an erasure or
// a reload replaces a day with a new one, which invalidates every block
// over it. Deletions are applied to the combined sets, not kept in the
// blocks: unionBlocks.

// maxBlockDays is the longest block (a power of two).
const maxBlockDays = 32

// blockSource names what a block unions per day: the active users of
// each code of dimension column col (filter ""), or the users matching a
// filtered, ungrouped predicate (userPred.key), one set in [0] (col -1).
type blockSource struct {
	col    int
	filter string
}

// blockKey names a block of one source: the 2^log days from from. A span
// starts on any day (from is not a multiple of 2^log).
type blockKey struct {
	blockSource
	from int32
	log  uint8
	span bool
}

// blockSets is a block's per-code union of the days' sets (nil for codes
// without users; a filter's in [0]), and the days it was built from (zero
// for days without data; none for a filter's block of one day, kept on
// that day).
type blockSets struct {
	days  []weak.Pointer[day]
	sets  []*roaring.Bitmap
	bytes int // counted in the day's memory (an overestimate: sets are shared)
}

// block returns the kept block k, nil if there is none.
func (d *day) block(k blockKey) *blockSets {
	d.aggMu.Lock()
	defer d.aggMu.Unlock()
	return d.blocks[k]
}

// maxSpans is the most spans one day keeps. Spans are keyed by the day
// their range starts on, which moves every day under a rolling range (a
// dashboard's last 30 days): the spans of earlier ranges would never be
// read again, so past the limit a day drops its spans before keeping a
// new one. Aligned blocks have stable keys and are all kept.
const maxSpans = 8

// keepBlock keeps block k (replacing one kept before), counting its bytes
// in the day's memory and uncounting those of what it drops.
func (d *day) keepBlock(k blockKey, b *blockSets) {
	d.aggMu.Lock()
	defer d.aggMu.Unlock()
	if d.blocks == nil {
		d.blocks = map[blockKey]*blockSets{}
	}
	if old, ok := d.blocks[k]; ok {
		d.grew(-old.bytes)
	} else {
		if k.span && d.countBlocks(func(ok blockKey) bool { return ok.span }) >= maxSpans {
			d.dropBlocks(func(ok blockKey) bool { return ok.span })
		}
		if k.filter != "" && d.newFilter(k.filter) {
			d.dropBlocks(func(ok blockKey) bool { return ok.filter != "" })
		}
	}
	b.bytes = dayindex.BitmapsBytes(b.sets) + 8*len(b.days) + 64
	d.grew(b.bytes)
	d.blocks[k] = b
}

// countBlocks returns how many kept blocks of d are keyed as in. d.aggMu
// is held.
func (d *day) countBlocks(in func(blockKey) bool) int {
	n := 0
	for k := range d.blocks {
		if in(k) {
			n++
		}
	}
	return n
}

// dropBlocks drops the kept blocks of d keyed as in, uncounting their
// bytes. d.aggMu is held.
func (d *day) dropBlocks(in func(blockKey) bool) {
	for k, b := range d.blocks {
		if in(k) {
			delete(d.blocks, k)
			d.grew(-b.bytes)
		}
	}
}

// blockOf returns per code the union of the active sets of the days of
// block k, without deletions applied (shared: do not modify); nil when
// no day of it has data. Reads the cache, else builds it: an aligned
// block from its halves, a span from the aligned blocks partitioning it.
// A kept block may share its sets with the blocks and days it was built
// from; its size counts them all (an overestimate of the heap it holds).
func (ev *evaluation) blockOf(k blockKey, m *matcher) []*roaring.Bitmap {
	if k.log == 0 {
		switch d := ev.day(k.from); {
		case d == nil:
			return nil
		case k.filter != "":
			return d.matching(k, m)
		default:
			return d.ix.ActiveBy(k.col, m)
		}
	}
	n := int32(1) << k.log
	days := make([]weak.Pointer[day], n)
	var holder *day
	for i := range n {
		if d := ev.day(k.from + i); d != nil {
			days[i], holder = weak.Make(d), d
		}
	}
	if holder == nil {
		return nil
	}
	if b := holder.block(k); b != nil && sameDays(b.days, days) {
		return b.sets
	}
	var parts []blockKey
	if k.span {
		parts = blocksOf(k.blockSource, k.from, k.from+n)
	} else {
		half := blockKey{blockSource: k.blockSource, from: k.from, log: k.log - 1}
		parts = []blockKey{half, half}
		parts[1].from += n / 2
	}
	lists := ev.blockLists(parts, m)
	sets := make([]*roaring.Bitmap, len(lists))
	for c, l := range lists {
		switch len(l) {
		case 0:
		case 1:
			sets[c] = l[0] // shared, as kept sets are
		default:
			sets[c] = ev.unionSets(l)
			sets[c].RunOptimize()
		}
	}
	if ev.err == nil {
		holder.keepBlock(k, &blockSets{days: days, sets: sets})
	}
	return sets
}

// sameDays reports whether two blocks' days are the same day objects.
func sameDays(a, b []weak.Pointer[day]) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// blocksOf returns the aligned blocks that partition [from, to), longest
// first at each day: at most about 2·log2(maxBlockDays) for any range.
func blocksOf(src blockSource, from, to int32) []blockKey {
	var out []blockKey
	for n := from; n < to; {
		k := uint8(0)
		for size := int32(2); size <= maxBlockDays && n%size == 0 && n+size <= to; size *= 2 {
			k++
		}
		out = append(out, blockKey{blockSource: src, from: n, log: k})
		n += 1 << k
	}
	return out
}

// coverOf returns blocks whose union is [from, to): a range of up to
// 2·maxBlockDays days is covered by two overlapping blocks of the longest
// length that fits (spans, unless aligned), a longer one is partitioned
// into aligned blocks (blocksOf). Union forgives the overlap.
func coverOf(src blockSource, from, to int32) []blockKey {
	size, k := int32(1), uint8(0)
	for size*2 <= min(to-from, maxBlockDays) {
		size, k = size*2, k+1
	}
	if to-from > 2*size {
		return blocksOf(src, from, to)
	}
	out := []blockKey{{blockSource: src, from: from, log: k, span: from%size != 0}}
	if from+size < to {
		out = append(out, blockKey{blockSource: src, from: to - size, log: k, span: (to-size)%size != 0})
	}
	return out
}

// blockLists returns, per code, the sets of blocks ks that have it.
func (ev *evaluation) blockLists(ks []blockKey, m *matcher) [][]*roaring.Bitmap {
	var lists [][]*roaring.Bitmap
	for _, k := range ks {
		for c, s := range ev.blockOf(k, m) {
			if s == nil {
				continue
			}
			if c >= len(lists) {
				lists = append(lists, make([][]*roaring.Bitmap, c+1-len(lists))...)
			}
			lists[c] = append(lists[c], s)
		}
	}
	return lists
}

// unionBlocks is union for unfiltered activity grouped by one dimension
// (p.byValue) and for a filtered, ungrouped predicate (p.key): per code,
// or in the one set of the filter, the union of the blocks covering
// [from, to) (coverOf), less the users whose deletion drops them
// (dropDeleted). With top > 0, by value, it may leave out codes that
// cannot be among the top with the most users (topbound.go).
func (ev *evaluation) unionBlocks(p userPred, from, to int32, top int) map[string]*roaring.Bitmap {
	from, to = max(from, ev.minDay), min(to, ev.maxDay+1)
	src := blockSource{col: -1, filter: p.key}
	if p.byValue {
		src = blockSource{col: ev.groupCols[0]}
	} else {
		ev.prepareMatching(p, src, from, to)
	}
	lists := ev.blockLists(coverOf(src, from, to), p.m)
	if !ev.check() {
		return nil
	}
	before, within := ev.deletedBefore(from), ev.deletedWithin(from, to)
	exact := func(c int) *roaring.Bitmap {
		s := ev.unionSets(lists[c])
		if p.dropDeleted {
			if before != nil {
				s.AndNot(before)
			}
			ev.dropDeleted(s, within, src, c, from, p.m)
		}
		return s
	}
	bound := func(c int) uint64 {
		n := uint64(0)
		for _, s := range lists[c] {
			n += s.GetCardinality()
		}
		return n
	}
	var codes []int
	for c, l := range lists {
		if len(l) > 0 {
			codes = append(codes, c)
		}
	}
	if !p.byValue {
		top = 0
	}
	out := map[string]*roaring.Bitmap{}
	for c, s := range topByBound(codes, top, bound, exact) {
		k := ""
		if p.byValue {
			k = codeKey(c)
		}
		out[k] = s
	}
	if !p.byValue && out[""] == nil {
		out[""] = roaring.New() // an ungrouped query has a row for every bucket
	}
	return out
}

// deletedWithin returns the users deleted on a day of [from, to-1): those
// a range's later days drop but its earlier ones count (nil for none).
func (ev *evaluation) deletedWithin(from, to int32) *roaring.Bitmap {
	last := ev.deletedBefore(to - 1)
	if last == nil {
		return nil
	}
	if first := ev.deletedBefore(from); first != nil {
		return roaring.AndNot(last, first)
	}
	return last
}

// dropDeleted removes from s, the users of code c of source src on some
// day of [from, to), each user of within whose days of that code there
// all fall after the user's deletion day: the days after it do not count
// the user (userPred.dropDeleted).
func (ev *evaluation) dropDeleted(s, within *roaring.Bitmap, src blockSource, c int, from int32, m *matcher) {
	if within == nil || !s.Intersects(within) {
		return
	}
	it := roaring.And(s, within).Iterator()
	for it.HasNext() {
		u := it.Next()
		kept := false
		for n := from; n <= ev.e.deletedDay(u) && !kept; n++ {
			sets := ev.blockOf(blockKey{blockSource: src, from: n}, m)
			kept = c < len(sets) && sets[c] != nil && sets[c].Contains(u)
		}
		if !kept {
			s.Remove(u)
		}
	}
}
