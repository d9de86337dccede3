package insights

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights/internal/frame"
)

// finish applies Top N and orders the rows: by bucket, then by rank (with
// Top) or group values, then series and offset; "(other)" comes last.
func (ev *evaluation) finish() {
	if ev.q.Top > 0 {
		rank := ev.top()
		for i := range ev.rows {
			ev.rows[i].rank = rank[rankKey(ev.rows[i])]
		}
	}
	if ev.q.Metric == MFAChallenges {
		ev.addSuccessRates()
	}
	values := map[string][]string{} // group key → its values, decoded once
	for i := range ev.rows {
		r := &ev.rows[i]
		if r.Groups == nil && len(ev.groupCols)+policyGroups(ev.q.Metric) > 0 {
			v, ok := values[r.gkey]
			if !ok {
				v = ev.groupValues(r.gkey)
				values[r.gkey] = v
			}
			r.Groups = slices.Clone(v) // each row its own: the caller may modify it
		}
	}
	// Each group key's position among the rows' distinct Groups, compared
	// in place of the values: rows of one group key have the same values.
	keys := make([]int, 0, len(values)+1)
	first := map[string]int{} // group key → a row of it
	for i, r := range ev.rows {
		if _, ok := first[r.gkey]; !ok {
			first[r.gkey] = i
			keys = append(keys, i)
		}
	}
	slices.SortFunc(keys, func(i, j int) int { return slices.Compare(ev.rows[i].Groups, ev.rows[j].Groups) })
	group := make(map[string]int, len(keys))
	for pos, i := range keys {
		if pos > 0 && slices.Equal(ev.rows[i].Groups, ev.rows[keys[pos-1]].Groups) {
			pos = group[ev.rows[keys[pos-1]].gkey] // equal values, equal position
		}
		group[ev.rows[i].gkey] = pos
	}
	ord := make([]int, len(ev.rows))
	for i, r := range ev.rows {
		ord[i] = group[r.gkey]
	}
	// Sorted by position, then moved once: a stable sort of the rows
	// themselves would move them O(n log² n) times.
	perm := make([]int, len(ev.rows))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(i, j int) int {
		a, b := &ev.rows[i], &ev.rows[j]
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(ord[i], ord[j]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.order, b.order); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	sorted := make([]outRow, len(perm))
	for k, i := range perm {
		sorted[k] = ev.rows[i]
	}
	ev.rows = sorted
}

// otherKey is the group key of the "(other)" row. No real key equals it:
// dimension keys are four bytes a column, and a policy key would start
// with a length of at least 2^28.
const otherKey = "\xff\xff\xff\xff\xff"

// top keeps, per bucket, the Top groups with the largest first-series
// value (a group without a first-series row ranks as 0; ties by group
// values), and adds "(other)" rows when asked. With Other, a group of
// values past a dictionary's cap ("(other)" itself) is never kept apart:
// it joins the "(other)" row, so that one row carries that name. It
// returns the rank of each kept group in its bucket ("(other)" last).
func (ev *evaluation) top() map[groupInBucket]int {
	type group struct {
		key    string
		value  float64
		values []string
	}
	byBucket := map[int32]map[string]*group{}
	for _, r := range ev.rows {
		gs := byBucket[r.start]
		if gs == nil {
			gs = map[string]*group{}
			byBucket[r.start] = gs
		}
		g := gs[r.gkey]
		if g == nil {
			g = &group{key: r.gkey, values: ev.groupValues(r.gkey)}
			gs[r.gkey] = g
		}
		if r.order == 0 && r.Offset == 0 {
			g.value = r.Value
		}
	}
	keep := map[int32]map[string]bool{}
	rank := map[groupInBucket]int{}
	for start, gs := range byBucket {
		list := make([]*group, 0, len(gs))
		for _, g := range gs {
			if !ev.q.Other || !slices.Contains(g.values, OtherGroup) {
				list = append(list, g)
			}
		}
		slices.SortFunc(list, func(a, b *group) int {
			if c := cmp.Compare(b.value, a.value); c != 0 {
				return c
			}
			return slices.Compare(a.values, b.values)
		})
		keep[start] = map[string]bool{}
		for i, g := range list[:min(ev.q.Top, len(list))] {
			keep[start][g.key] = true
			rank[groupInBucket{start, g.key}] = i
		}
	}
	var kept []outRow
	rest := map[[3]int32][]outRow{} // bucket start, series order, offset → dropped rows
	for _, r := range ev.rows {
		if keep[r.start][r.gkey] {
			kept = append(kept, r)
			continue
		}
		k := [3]int32{r.start, int32(r.order), int32(r.Offset)}
		rest[k] = append(rest[k], r)
	}
	if ev.q.Other {
		for _, rows := range rest {
			o := rows[0]
			o.set, o.Value = sumOrUnion(rows)
			o.gkey = otherKey
			o.Groups = make([]string, len(ev.groupCols)+policyGroups(ev.q.Metric))
			for i := range o.Groups {
				o.Groups[i] = OtherGroup
			}
			rank[rankKey(o)] = ev.q.Top
			kept = append(kept, o)
		}
	}
	ev.rows = kept
	return rank
}

// groupInBucket identifies a row's group within its bucket.
type groupInBucket struct {
	start int32
	gkey  string
}

// rankKey identifies a row's group within its bucket.
func rankKey(r outRow) groupInBucket { return groupInBucket{r.start, r.gkey} }

// groupValues decodes a group key into its values: the policy values of
// policy metrics (policyKey), then one per group column.
func (ev *evaluation) groupValues(gkey string) []string {
	extra := policyGroups(ev.q.Metric)
	out := make([]string, extra, extra+len(ev.groupCols))
	r := frame.Reader{Body: []byte(gkey)}
	for i := range out {
		out[i] = r.String(len(gkey))
	}
	for _, col := range ev.groupCols {
		code := binary.LittleEndian.Uint32(r.Bytes(4))
		out = append(out, ev.e.dims[col].values[code])
	}
	return out
}

// result converts the evaluation into the caller's Result.
func (ev *evaluation) result() *Result {
	res := &Result{Query: ev.q, Zone: ev.e.loc.String(), Approximate: ev.approx,
		Window: windowOf(ev.q), Warnings: ev.warnings, Rows: make([]Row, len(ev.rows))}
	if ev.approx {
		res.RelativeError = relativeError(ev.e.precision) // e.sketches is the state's: not read outside the lock
	}
	for i, r := range ev.rows {
		res.Rows[i] = r.Row
	}
	return res
}

// windowOf says in words what each row's value covers.
func windowOf(q Query) string {
	var b strings.Builder
	b.WriteString(q.Metric.String())
	b.WriteString(" per ")
	b.WriteString(q.Granularity.String())
	switch q.Metric {
	case RollingActiveUsers, Stickiness:
		b.WriteString(", over the " + strconv.Itoa(q.Days) + " days ending on each bucket's last day")
	case InactiveUsers:
		if q.Days > 0 {
			b.WriteString(", no activity in the " + strconv.Itoa(q.Days) + " days ending on each bucket's last day")
		} else {
			b.WriteString(", no activity in the bucket after activity before it")
		}
	case NeverActiveUsers, TotalUsers:
		b.WriteString(", as of each bucket's last day")
	case Lifecycle:
		b.WriteString(", against the previous full bucket")
	case Retention:
		b.WriteString(", cohorts of new users followed bucket by bucket")
	case RiskDetections:
		b.WriteString(", by the day of the detection time")
	case RiskyUsers:
		b.WriteString(", as of each bucket's end")
	}
	if !q.Filter.IsAll() {
		b.WriteString(", where " + q.Filter.String())
	}
	return b.String()
}
