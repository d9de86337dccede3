package insights

import (
	"encoding/binary"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Pre-aggregated event counts. A query that counts events without a
// filter of its own (Authentications, MFAChallenges and the other series
// metrics), ungrouped or grouped by one dimension, reads per sealed day an
// array of counts per dimension code instead of matching and counting the
// day's combinations: Authentications by OS over 30 days is 4 series × 30
// small array reads. The arrays are computed on a day's first such query
// and kept on the day, like its postings and per-value active sets: a
// sealed day is immutable, and a late event, an erasure or a reload after
// eviction replaces the day with a new one, which starts without them. A
// series' base filter resolves to the same combinations of a sealed day
// whenever it is compiled: codes never change meaning, and a value the
// dictionaries learn later is in no day sealed before.

// aggKey names one pre-aggregated count array of a sealed day.
type aggKey struct {
	filter string // the counted events' filter (Filter.String)
	col    int    // the dimension column counted by; -1: every event in one count
}

// countsBy returns the events of d that m, compiled from the filter that
// key names, matches: per code of column key.col, or in [0] when key.col
// is negative. The slice is shared: do not modify. Computed on first use
// (one evaluation of m and one pass over the matched combinations) and
// kept; safe for concurrent use.
func (d *day) countsBy(key aggKey, m *matcher) []uint64 {
	d.aggMu.Lock()
	c, ok := d.agg[key]
	d.aggMu.Unlock()
	if ok {
		return c
	}
	c = countCodes(d, d.ix.Match(m), key.col)
	d.aggMu.Lock()
	defer d.aggMu.Unlock()
	if old, ok := d.agg[key]; ok {
		return old
	}
	if d.agg == nil {
		d.agg = map[aggKey][]uint64{}
	}
	d.agg[key] = c
	d.grew(8*len(c) + len(key.filter) + 64)
	return c
}

// countCodes returns the events of the combinations in match, per code of
// column col (col ≥ 0), or in total in [0]. Most combinations hold one
// event: a count is the matched combinations, plus the extra events of
// those in d.MultiSet.
func countCodes(d *day, match *roaring.Bitmap, col int) []uint64 {
	if col < 0 {
		return []uint64{match.GetCardinality() + d.ix.Extra(roaring.And(match, d.ix.MultiSet()), nil)[0]}
	}
	p := d.ix.Postings(col)
	out := d.ix.Extra(roaring.And(match, d.ix.MultiSet()), &d.ix.Cols[col])
	if len(out) < len(p) {
		out = append(out, make([]uint64, len(p)-len(out))...)
	}
	for c, set := range p {
		if set != nil {
			out[c] += match.AndCardinality(set)
		}
	}
	return out
}

// codeKey returns the group key of code c of a one-column grouping.
func codeKey(c int) string { return string(binary.LittleEndian.AppendUint32(nil, uint32(c))) }

// aggregated reports whether the query's event counts are read from the
// days' pre-aggregated counts: no filter of its own, not grouped by more
// than one dimension.
func (ev *evaluation) aggregated() bool {
	return ev.filter.IsAll() && ev.logged == nil && len(ev.groupCols) <= 1
}

// emitCounts adds the rows of event series name, counting the events f
// matches, from the pre-aggregated counts of each day of the buckets:
// per bucket, a sum of one array a day. The query must be aggregated.
func (ev *evaluation) emitCounts(name string, order int, f Filter) {
	m := ev.e.compile(f)
	key := aggKey{filter: f.String(), col: -1}
	if len(ev.groupCols) == 1 {
		key.col = ev.groupCols[0]
	}
	if ev.countDays == nil { // the same days for every series
		ev.countDays = ev.inputs(userPred{}, ev.buckets[0].from, ev.buckets[len(ev.buckets)-1].to, nil)
	}
	in := ev.countDays
	per := make([][]uint64, len(in))
	forEach(len(in), ev.e.parallelism, func(i int) { per[i] = in[i].d.countsBy(key, m) })
	var sum []uint64
	for _, counts := range per { // the codes with events: rows per bucket, at most
		if len(counts) > len(sum) {
			sum = append(sum, make([]uint64, len(counts)-len(sum))...)
		}
		for c, n := range counts {
			sum[c] += n
		}
	}
	groups := 0
	for _, n := range sum {
		if n > 0 {
			groups++
		}
	}
	ev.rows = slices.Grow(ev.rows, len(ev.buckets)*max(groups, 1))
	i := 0
	for _, b := range ev.buckets {
		if !ev.check() {
			return
		}
		clear(sum)
		for ; i < len(in) && in[i].n < b.to; i++ {
			if in[i].n < b.from {
				continue
			}
			if len(per[i]) > len(sum) {
				sum = append(sum, make([]uint64, len(per[i])-len(sum))...)
			}
			for c, n := range per[i] {
				sum[c] += n
			}
		}
		if key.col < 0 { // an ungrouped query has a row for every bucket
			total := uint64(0)
			if len(sum) > 0 {
				total = sum[0]
			}
			ev.emit(b, name, order, "", nil, float64(total))
			continue
		}
		for c, n := range sum {
			if n > 0 {
				ev.emit(b, name, order, ev.codeKey(c), nil, float64(n))
			}
		}
	}
}

// codeKey returns codeKey(c), made once per query.
func (ev *evaluation) codeKey(c int) string {
	for len(ev.codeKeys) <= c {
		ev.codeKeys = append(ev.codeKeys, codeKey(len(ev.codeKeys)))
	}
	return ev.codeKeys[c]
}

// countsMap returns counts (countCodes' result for column col) by group
// key: the codes with events when col ≥ 0, else "" with the total.
func countsMap(counts []uint64, col int) map[string]uint64 {
	if col < 0 {
		return map[string]uint64{"": counts[0]}
	}
	out := map[string]uint64{}
	for c, n := range counts {
		if n > 0 {
			out[codeKey(c)] = n
		}
	}
	return out
}
