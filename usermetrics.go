package insights

import (
	"math"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// runUserMetric computes the user metrics that combine several user sets.
func (ev *evaluation) runUserMetric() {
	q := ev.q
	if q.Metric == Retention {
		ev.retention()
		return
	}
	for _, b := range ev.buckets {
		if !ev.check() {
			return
		}
		asOf := b.to - 1
		switch q.Metric {
		case NewUsers, ReturningUsers:
			for k, s := range ev.union(ev.activity, b.from, b.to) {
				nu := ev.newIn(s, b)
				if q.Metric == ReturningUsers {
					nu = metrics.Difference(s, nu)
				}
				ev.emit(b, "", 0, k, nu, float64(nu.GetCardinality()))
			}
		case RollingActiveUsers:
			ev.emitSets(b, "", 0, ev.union(ev.activity, asOf-int32(q.Days)+1, asOf+1))
		case Stickiness:
			window := ev.union(ev.activity, asOf-int32(q.Days)+1, asOf+1)
			daily := ev.union(ev.activity, asOf, asOf+1)
			for k, w := range window {
				ev.emit(b, "", 0, k, nil, metrics.Ratio(cardinality(daily[k]), w.GetCardinality()))
			}
		case InactiveUsers:
			// Days > 0: active by asOf-Days, not since. Days == 0: the calendar bucket.
			cut, end := asOf-int32(q.Days)+1, asOf+1
			if q.Days == 0 {
				cut, end = b.from, b.to
			}
			recent := ev.union(ev.activity, cut, end)
			gone := ev.deletedBefore(asOf + 1)
			for k, s := range ev.since(ev.activity, cut) {
				ev.emitSet(b, "", 0, k, metrics.Difference(s, recent[k], gone))
			}
		case Lifecycle:
			prev := b.previous(q.Granularity, q.WeekStart)
			cur := ev.union(ev.activity, b.from, b.to)
			before := ev.union(ev.activity, prev.from, prev.to)
			for _, k := range keysOf(cur, before) {
				lc := metrics.Lifecycle(cur[k], before[k], ev.newIn(cur[k], b))
				for order, s := range []struct {
					name string
					set  *roaring.Bitmap
				}{{"new", lc.New}, {"returning", lc.Returning}, {"resurrecting", lc.Resurrecting}, {"dormant", lc.Dormant}} {
					ev.emitSet(b, s.name, order, k, s.set)
				}
			}
		case NeverActiveUsers, TotalUsers:
			if ev.activity.plain {
				// Per-user days survive retention: unfiltered counts stay
				// right when old days are dropped.
				set := metrics.Total(ev.e.joined, ev.e.deleted, asOf)
				if q.Metric == NeverActiveUsers {
					set = metrics.NeverActive(ev.e.joined, ev.e.first, ev.e.deleted, asOf)
				}
				ev.emitSet(b, "", 0, "", set)
				continue
			}
			ev.setsAsOf(b, asOf)
		}
	}
}

// setsAsOf emits never-active or total users as of day asOf from the day
// sets, for filtered or grouped queries.
func (ev *evaluation) setsAsOf(b bucket, asOf int32) {
	first := ev.e.first
	switch ev.q.Metric {
	case NeverActiveUsers:
		gone := ev.deletedBefore(asOf + 1)
		for k, s := range ev.since(ev.created, asOf+1) {
			ever := metrics.FirstIn(s, first, math.MinInt32, asOf+1)
			ev.emitSet(b, "", 0, k, metrics.Difference(s, ever, gone))
		}
	case TotalUsers:
		gone := ev.deletedBefore(asOf + 1)
		active := ev.since(ev.activity, asOf+1)
		created := ev.since(ev.created, asOf+1)
		for _, k := range keysOf(active, created) {
			ev.emitSet(b, "", 0, k, metrics.Difference(metrics.Union(active[k], created[k]), gone))
		}
	}
}

// retention emits, for the cohort of new users of each bucket, its users
// active in each bucket from the cohort's to the last.
func (ev *evaluation) retention() {
	active := make([]map[string]*roaring.Bitmap, len(ev.buckets))
	for i, b := range ev.buckets {
		if !ev.check() {
			return
		}
		active[i] = ev.union(ev.activity, b.from, b.to)
	}
	for i, b := range ev.buckets {
		for k, s := range active[i] {
			if !ev.check() {
				return
			}
			cohort := ev.newIn(s, b)
			later := ev.buckets[i:]
			if cohort.IsEmpty() {
				later = later[:1] // an empty cohort has one row, 0, not one per bucket
			}
			for off, later := range later {
				set := metrics.Intersection(cohort, active[i+off][k])
				ev.emitSet(b, "", 0, k, set)
				r := &ev.rows[len(ev.rows)-1]
				r.Offset = off
				r.Incomplete = later.from <= ev.today && ev.today < later.to
			}
		}
	}
}

// newIn returns the users of active (users active in bucket b) whose
// first activity ever is in b: active intersected with the users whose
// first activity day (kept per user, through retention) falls in b, from
// the engine's day → first-timers index. Cost: a union of the bucket's
// first-timers, usually small, and one intersection.
func (ev *evaluation) newIn(active *roaring.Bitmap, b bucket) *roaring.Bitmap {
	if active == nil {
		return roaring.New()
	}
	var firsts []*roaring.Bitmap
	for n := b.from; n < b.to; n++ {
		if s := ev.e.firstOn[n]; s != nil {
			firsts = append(firsts, s)
		}
	}
	return roaring.And(active, roaring.FastOr(firsts...))
}

// emitSet adds a row counting set.
func (ev *evaluation) emitSet(b bucket, series string, order int, gkey string, set *roaring.Bitmap) {
	ev.emit(b, series, order, gkey, set, float64(set.GetCardinality()))
}

func cardinality(s *roaring.Bitmap) uint64 {
	if s == nil {
		return 0
	}
	return s.GetCardinality()
}

// keysOf returns the keys of both maps, each once.
func keysOf(a, b map[string]*roaring.Bitmap) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}
