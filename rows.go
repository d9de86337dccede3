package insights

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
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
	for i := range ev.rows {
		r := &ev.rows[i]
		if r.Groups == nil && len(ev.groupCols)+policyGroups(ev.q.Metric) > 0 {
			r.Groups = ev.groupValues(r.gkey)
		}
	}
	slices.SortStableFunc(ev.rows, func(a, b outRow) int {
		if c := cmp.Compare(a.Start.num(), b.Start.num()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		if c := slices.Compare(a.Groups, b.Groups); c != 0 {
			return c
		}
		if c := cmp.Compare(a.order, b.order); c != 0 {
			return c
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
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
		gs := byBucket[r.Start.num()]
		if gs == nil {
			gs = map[string]*group{}
			byBucket[r.Start.num()] = gs
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
			rank[rankKey(outRow{Row: Row{Start: dateOfNum(start)}, gkey: g.key})] = i
		}
	}
	var kept []outRow
	rest := map[[3]int32][]outRow{} // bucket start, series order, offset → dropped rows
	for _, r := range ev.rows {
		if keep[r.Start.num()][r.gkey] {
			kept = append(kept, r)
			continue
		}
		k := [3]int32{r.Start.num(), int32(r.order), int32(r.Offset)}
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
func rankKey(r outRow) groupInBucket { return groupInBucket{r.Start.num(), r.gkey} }

// groupValues decodes a group key into its values: the policy values of
// policy metrics (policyKey), then one per group column.
func (ev *evaluation) groupValues(gkey string) []string {
	extra := policyGroups(ev.q.Metric)
	out := make([]string, extra, extra+len(ev.groupCols))
	r := reader{b: []byte(gkey)}
	for i := range out {
		out[i] = r.string(len(gkey))
	}
	for _, col := range ev.groupCols {
		code := binary.LittleEndian.Uint32(r.bytes(4))
		out = append(out, ev.e.dims[col].values[code])
	}
	return out
}

// result converts the evaluation into the caller's Result.
func (ev *evaluation) result() *Result {
	res := &Result{Query: ev.q, Zone: ev.e.loc.String(), Approximate: ev.approx,
		Window: windowOf(ev.q), Warnings: ev.warnings, Rows: make([]Row, len(ev.rows))}
	if ev.approx {
		res.RelativeError = ev.e.sketches.relativeError()
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
