package insights

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// The base predicates of user metrics (SPEC §4), combined with the query's
// filter so that both hold on one and the same event.
var (
	activityFilter = Or(
		And(Eq(DimKind, KindSignIn.String()), Eq(DimStatus, StatusSuccess.String()),
			In(DimSignInType, SignInInteractiveUser.String(), SignInNonInteractiveUser.String())),
		And(Eq(DimKind, KindSignUp.String()), Eq(DimStatus, StatusSuccess.String())))
	userSignInFilter = And(Eq(DimKind, KindSignIn.String()),
		In(DimSignInType, SignInInteractiveUser.String(), SignInNonInteractiveUser.String()))
	createdFilter = And(Eq(DimKind, KindUserCreated.String()), Eq(DimStatus, StatusSuccess.String()))
)

// userPred is a compiled user-set predicate.
type userPred struct {
	m           *matcher
	dropDeleted bool // ignore users on days after their deletion
	plain       bool // unfiltered, ungrouped activity: the day's active set answers it
}

// evaluation is one query being answered, under the engine's read lock.
type evaluation struct {
	ctx       context.Context
	e         *Engine
	q         Query
	minDay    int32 // earliest day with data
	maxDay    int32 // latest day with data
	today     int32
	groupCols []int
	buckets   []bucket
	activity  userPred
	signIn    userPred
	created   userPred
	cache     map[*matcher]map[int32]map[string]*roaring.Bitmap
	delCache  map[int32]*roaring.Bitmap
	keys      []string // user id → key, captured under the lock for Users
	rows      []outRow
	warnings  []string
	approx    bool
	err       error
}

// outRow is a result row with the user set behind it, when it has one.
type outRow struct {
	Row
	set   *roaring.Bitmap
	gkey  string
	order int // series position, for sorting
}

// evaluate validates q and computes its rows with their user sets.
func (e *Engine) evaluate(ctx context.Context, q Query) (*evaluation, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	ev := &evaluation{
		ctx: ctx, e: e, q: q, today: dayOf(e.now(), e.loc), keys: e.userKeys,
		cache: map[*matcher]map[int32]map[string]*roaring.Bitmap{}, delCache: map[int32]*roaring.Bitmap{},
		minDay: q.From.num(), maxDay: q.From.num() - 1,
	}
	first := true
	for n := range e.days {
		if first || n < ev.minDay {
			ev.minDay = n
		}
		if first || n > ev.maxDay {
			ev.maxDay = n
		}
		first = false
	}
	for _, d := range q.GroupBy {
		ev.groupCols = append(ev.groupCols, int(d)-1)
	}
	if q.Metric == Summary && len(q.GroupBy) == 0 {
		ev.groupCols = []int{int(DimAppID) - 1, int(DimOS) - 1}
		ev.q.GroupBy = []Dimension{DimAppID, DimOS}
	}
	plain := q.Filter.IsAll() && len(ev.groupCols) == 0
	ev.activity = userPred{m: e.compile(And(q.Filter, activityFilter)), dropDeleted: true, plain: plain}
	ev.signIn = userPred{m: e.compile(And(q.Filter, userSignInFilter)), dropDeleted: true}
	ev.created = userPred{m: e.compile(And(q.Filter, createdFilter))}
	ev.buckets = buckets(q.From.num(), q.To.num(), q.Granularity, ev.q.WeekStart)
	if q.From.num() < e.horizon {
		ev.warnings = append(ev.warnings, fmt.Sprintf("days before %s were dropped by retention: the range is clipped there", dateOfNum(e.horizon)))
	}
	for k, d := range e.dims {
		if d.overflowed {
			ev.warnings = append(ev.warnings, fmt.Sprintf("dimension %s passed its cap of %d values: later values count as %q",
				Dimension(k+1), d.limit, OtherGroup))
		}
	}
	ev.run()
	if ev.err != nil {
		return nil, ev.err
	}
	ev.finish()
	return ev, nil
}

// check records ctx's error; callers stop when it returns false.
func (ev *evaluation) check() bool {
	if ev.err == nil {
		ev.err = ev.ctx.Err()
	}
	return ev.err == nil
}

// daySets returns the users of day n matching p, by group key. Shared
// with the cache: do not modify.
func (ev *evaluation) daySets(p userPred, n int32) map[string]*roaring.Bitmap {
	d := ev.day(n)
	if d == nil {
		return nil
	}
	byDay := ev.cache[p.m]
	if byDay == nil {
		byDay = map[int32]map[string]*roaring.Bitmap{}
		ev.cache[p.m] = byDay
	}
	if s, ok := byDay[n]; ok {
		return s
	}
	var sets map[string]*roaring.Bitmap
	if p.plain {
		sets = map[string]*roaring.Bitmap{"": d.active}
	} else {
		sets = usersByGroup(d, p.m.eval(d), ev.groupCols)
	}
	if del := ev.deletedBefore(n); p.dropDeleted && del != nil {
		for k, s := range sets {
			if s.Intersects(del) {
				sets[k] = roaring.AndNot(s, del)
			}
		}
	}
	byDay[n] = sets
	return sets
}

// day returns the sealed index of day n, nil if it has no data or could
// not be loaded (ev.err says why).
func (ev *evaluation) day(n int32) *day {
	if ev.err != nil {
		return nil
	}
	d, err := ev.e.sealedDay(ev.ctx, n)
	if err != nil {
		ev.err = err
	}
	return d
}

// deletedBefore returns the users deleted before day n, nil if none.
func (ev *evaluation) deletedBefore(n int32) *roaring.Bitmap {
	if ev.e.deletedU.IsEmpty() {
		return nil
	}
	if s, ok := ev.delCache[n]; ok {
		return s
	}
	s := roaring.New()
	it := ev.e.deletedU.Iterator()
	for it.HasNext() {
		if u := it.Next(); ev.e.deleted[u] < n {
			s.Add(u)
		}
	}
	if s.IsEmpty() {
		s = nil
	}
	ev.delCache[n] = s
	return s
}

// union returns the users matching p on any day of [from, to), by group.
func (ev *evaluation) union(p userPred, from, to int32) map[string]*roaring.Bitmap {
	lists := map[string][]*roaring.Bitmap{}
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		for k, s := range ev.daySets(p, n) {
			lists[k] = append(lists[k], s)
		}
	}
	out := make(map[string]*roaring.Bitmap, len(lists)+1)
	for k, l := range lists {
		out[k] = metrics.Union(l...)
	}
	if len(ev.groupCols) == 0 && out[""] == nil {
		out[""] = roaring.New() // an ungrouped query has a row for every bucket
	}
	return out
}

// counts returns the events matching m on the days of [from, to), by group.
func (ev *evaluation) counts(m *matcher, from, to int32) map[string]uint64 {
	out := map[string]uint64{}
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		if d := ev.day(n); d != nil {
			for k, c := range countsByGroup(d, m.eval(d), ev.groupCols) {
				out[k] += c
			}
		}
	}
	if len(ev.groupCols) == 0 {
		out[""] += 0 // an ungrouped query has a row for every bucket
	}
	return out
}

// MaxRows is the most rows a Result may hold; a larger answer is an
// error wrapping ErrInvalidQuery (narrow the range, coarsen the
// granularity or use Top).
const MaxRows = 1_000_000

// emit adds a row for bucket b.
func (ev *evaluation) emit(b bucket, series string, order int, gkey string, set *roaring.Bitmap, value float64) {
	if len(ev.rows) >= MaxRows {
		if ev.err == nil {
			ev.err = fmt.Errorf("%w: the result has more than %d rows", ErrInvalidQuery, MaxRows)
		}
		return
	}
	r := outRow{set: set, gkey: gkey, order: order}
	r.Start, r.End = dateOfNum(b.from), dateOfNum(b.to)
	r.Series, r.Value = series, value
	r.Partial = b.partial()
	r.Incomplete = b.from <= ev.today && ev.today < b.to
	ev.rows = append(ev.rows, r)
}

// emitSets adds one row per group of sets.
func (ev *evaluation) emitSets(b bucket, series string, order int, sets map[string]*roaring.Bitmap) {
	for k, s := range sets {
		ev.emit(b, series, order, k, s, float64(s.GetCardinality()))
	}
}

// run dispatches on the metric.
func (ev *evaluation) run() {
	q := ev.q
	if q.Approximate {
		if (q.Metric == ActiveUsers || q.Metric == RollingActiveUsers) && ev.activity.plain {
			ev.runApprox()
			return
		}
		ev.warnings = append(ev.warnings, "approximate mode answers activeUsers and rollingActiveUsers without filter or group-by; answered exactly")
	}
	if defs, ok := seriesDefs[q.Metric]; ok {
		ev.runSeries(defs)
		return
	}
	ev.runUserMetric()
}

// runApprox answers from the HyperLogLog sketches.
func (ev *evaluation) runApprox() {
	ev.approx = true
	for _, b := range ev.buckets {
		if !ev.check() {
			return
		}
		from, to := b.from, b.to
		if ev.q.Metric == RollingActiveUsers {
			from, to = b.to-int32(ev.q.Days), b.to
		}
		from, to = max(from, ev.minDay), min(to, ev.maxDay+1) // sketches exist only on days with data
		ev.emit(b, "", 0, "", nil, float64(ev.e.sketches.estimate(from, to)))
	}
}
