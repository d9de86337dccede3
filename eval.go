package insights

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

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
	byValue     bool // unfiltered activity grouped by one dimension: the day's cached per-value sets answer it
	logged      bool // the query's filter names log fields: read the days restricted to its events
	// key, for a filtered, ungrouped predicate the index answers, names it
	// in the days' kept blocks (blockfilter.go): its base and filter.
	key string
}

// evaluation is one query being answered, under the engine's read lock.
type evaluation struct {
	ctx        context.Context
	e          *Engine
	q          Query
	minDay     int32 // earliest day with data
	maxDay     int32 // latest day with data
	today      int32
	groupCols  []int
	buckets    []bucket
	activity   userPred
	everActive userPred // unfiltered, ungrouped activity: which combinations are activity
	signIn     userPred
	created    userPred
	cache      map[*matcher]map[int32]map[string]*roaring.Bitmap
	lists      map[*matcher]map[int32][]uint32 // prepareLists' cache
	dense      []uint64                        // unionLists' scratch: a bit per user, zero between calls
	deletions  []deletion                      // every deletion, by day; built on first use
	delCache   map[int]*roaring.Bitmap         // prefix length of deletions → its users
	prefixes   map[*matcher]*prefixUnion       // running unions from the first day, for as-of metrics
	keys       []string                        // user id → key, captured under the lock for Users
	filter     Filter                          // the part of the query's filter the index answers
	logged     map[int32]*day                  // with a log-field filter: each day restricted to the events it matches
	need       sectionSet                      // the sections of a day the query reads (queryNeeds)
	rows       []outRow
	dated      bucket     // the bucket of the last row emitted, whose dates are start and end
	start, end Date       // dated's
	codeKeys   []string   // group keys of codes, for aggregated counts (codeKey)
	countDays  []dayInput // the days of aggregated counts (emitCounts)
	warnings   []string
	approx     bool
	err        error
}

// outRow is a result row with the user set behind it, when it has one.
type outRow struct {
	Row
	set   *roaring.Bitmap
	gkey  string
	start int32 // Start's day number
	order int   // series position, for sorting
	rank  int   // with Top, the group's rank in its bucket ("(other)" last)
}

// evaluate validates q and computes its rows with their user sets, on a
// follower again after a refresh if it met a file its writer deleted.
func (e *Engine) evaluate(ctx context.Context, q Query) (*evaluation, error) {
	return fresh(ctx, e, func() (*evaluation, error) { return e.evaluateOnce(ctx, q) })
}

// evaluateOnce validates q and computes its rows with their user sets.
func (e *Engine) evaluateOnce(ctx context.Context, q Query) (*evaluation, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Approximate {
		if err := e.readFreshSketches(ctx); err != nil {
			return nil, err
		}
	} else {
		e.mu.RLock()
	}
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if q.Metric.perUser() {
		if err := e.loadUsers(ctx); err != nil {
			return nil, err
		}
	}
	ev := &evaluation{
		ctx: ctx, e: e, q: q, today: dayOf(e.now(), e.loc),
		cache: map[*matcher]map[int32]map[string]*roaring.Bitmap{}, delCache: map[int]*roaring.Bitmap{},
		lists:    map[*matcher]map[int32][]uint32{},
		prefixes: map[*matcher]*prefixUnion{},
		minDay:   q.From.num(), maxDay: q.From.num() - 1,
	}
	if e.usersReady() { // Users loaded them before
		ev.keys = e.userKeys
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
	ev.filter = q.Filter
	logged := q.Filter.NamesLogField()
	if logged {
		ev.filter, ev.logged = Filter{}, map[int32]*day{}
		ev.warnings = append(ev.warnings, "the filter names log fields: answered from the event log, slower than the index")
	}
	ev.need = queryNeeds(q.Metric, ev.filter, ev.groupCols, logged)
	key := func(b basePred) string {
		if q.Filter.IsAll() || logged || len(ev.groupCols) > 0 {
			return ""
		}
		return fmt.Sprintf("%d %s", b, q.Filter)
	}
	ev.activity = userPred{m: e.compileBase(ev.filter, activityFilter, baseActivity), dropDeleted: true, plain: plain,
		byValue: q.Filter.IsAll() && len(ev.groupCols) == 1, logged: logged, key: key(baseActivity)}
	ev.everActive = userPred{m: e.compileBase(Filter{}, activityFilter, baseActivity), dropDeleted: true, plain: true}
	ev.signIn = userPred{m: e.compileBase(ev.filter, userSignInFilter, baseSignIn), dropDeleted: true, logged: logged,
		key: key(baseSignIn)}
	ev.created = userPred{m: e.compileBase(ev.filter, createdFilter, baseCreated), logged: logged, key: key(baseCreated)}
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

// prepareSets computes and keeps the users matching p, by group key, of
// the days of [from, to) not yet in the cache, on up to the engine's
// parallelism goroutines.
func (ev *evaluation) prepareSets(p userPred, from, to int32) {
	byDay := ev.cache[p.m]
	if byDay == nil {
		byDay = map[int32]map[string]*roaring.Bitmap{}
		ev.cache[p.m] = byDay
	}
	in := ev.inputs(p, from, to, func(n int32) bool { _, ok := byDay[n]; return ok })
	out := make([]map[string]*roaring.Bitmap, len(in))
	workers := ev.e.parallelism
	if p.plain {
		workers = 1 // a day's active set, at hand: another goroutine would cost more
	}
	forEach(len(in), workers, func(i int) { out[i] = setsOf(in[i], p, ev.groupCols) })
	for i, x := range in {
		byDay[x.n] = out[i]
	}
}

// setsOf returns the users of x's day matching p, by group key. It reads
// only the day, which is immutable: safe to run concurrently.
func setsOf(x dayInput, p userPred, groupCols []int) map[string]*roaring.Bitmap {
	d := x.d
	var sets map[string]*roaring.Bitmap
	switch {
	case p.plain:
		sets = map[string]*roaring.Bitmap{"": x.active}
	case p.byValue:
		sets = map[string]*roaring.Bitmap{}
		for c, s := range d.ix.ActiveBy(groupCols[0], p.m) {
			if s != nil {
				sets[string(binary.LittleEndian.AppendUint32(nil, uint32(c)))] = s
			}
		}
	default:
		sets = usersByGroup(d, d.ix.Match(p.m), groupCols)
	}
	if x.del != nil {
		for k, s := range sets {
			if s.Intersects(x.del) {
				sets[k] = roaring.AndNot(s, x.del)
			}
		}
	}
	return sets
}

// day returns the sealed index of day n, nil if it has no data or could
// not be loaded (ev.err says why).
func (ev *evaluation) day(n int32) *day {
	if ev.err != nil {
		return nil
	}
	d, err := ev.e.sealedDay(ev.ctx, n, ev.need)
	if err != nil {
		ev.err = err
	}
	return d
}

// loggedDay returns day n restricted to the events matching the query's
// log-field filter: an index of only those events, on which the rest of
// the evaluation runs with no filter. Built once per query and day.
func (ev *evaluation) loggedDay(n int32) *day {
	if r, ok := ev.logged[n]; ok {
		return r
	}
	d := ev.day(n)
	if d == nil {
		return nil
	}
	l, err := d.events()
	if err != nil {
		ev.err = err
		return nil
	}
	match, err := ev.e.matchEntries(d, l, ev.q.Filter)
	if err != nil {
		ev.err = err
		return nil
	}
	if match == nil {
		match = roaring.New()
		match.AddRange(0, uint64(l.len()))
	}
	r := d.restrict(l, match, d.ix.Match(ev.everActive.m))
	ev.logged[n] = r
	return r
}

// deletion is one user's deletion day.
type deletion struct {
	day  int32
	user uint32
}

// deletedBefore returns the users deleted before day n, nil if none.
// Cost: one sort of the deletions per query, then one set per distinct
// number of deletions before the days asked for.
func (ev *evaluation) deletedBefore(n int32) *roaring.Bitmap {
	if ev.e.deletedU.IsEmpty() {
		return nil
	}
	if ev.deletions == nil {
		it := ev.e.deletedU.Iterator()
		for it.HasNext() {
			u := it.Next()
			ev.deletions = append(ev.deletions, deletion{ev.e.deletedDay(u), u})
		}
		slices.SortFunc(ev.deletions, func(a, b deletion) int { return cmp.Compare(a.day, b.day) })
	}
	i, _ := slices.BinarySearchFunc(ev.deletions, n, func(d deletion, n int32) int { return cmp.Compare(d.day, n) })
	if i == 0 {
		return nil
	}
	if s, ok := ev.delCache[i]; ok {
		return s
	}
	users := make([]uint32, i)
	for k, d := range ev.deletions[:i] {
		users[k] = d.user
	}
	s := roaring.BitmapOf(users...)
	ev.delCache[i] = s
	return s
}

// prefixUnion is the union of a predicate's day sets from the first day
// with data up to (not including) day upto, by group: buckets ascend, so
// as-of metrics extend it instead of re-reading all history per bucket.
type prefixUnion struct {
	upto int32
	sets map[string]*roaring.Bitmap
}

// since returns the users matching p on any day before to, by group. The
// sets are shared and change on the next call: use them before then, and
// never modify them.
func (ev *evaluation) since(p userPred, to int32) map[string]*roaring.Bitmap {
	pu := ev.prefixes[p.m]
	if pu == nil || to < pu.upto {
		pu = &prefixUnion{upto: ev.minDay, sets: map[string]*roaring.Bitmap{}}
		ev.prefixes[p.m] = pu
	}
	if to > pu.upto {
		for k, s := range ev.union(p, pu.upto, to) {
			if old := pu.sets[k]; old != nil {
				s.Or(old) // s is union's own result: safe to modify
			}
			pu.sets[k] = s
		}
		pu.upto = to
	}
	if len(ev.groupCols) == 0 && pu.sets[""] == nil {
		pu.sets[""] = roaring.New()
	}
	return pu.sets
}

// union returns the users matching p on any day of [from, to), by group.
// Over more than two days, unfiltered activity by one dimension and a
// filtered, ungrouped predicate union kept blocks (unionBlocks); over
// fewer, or with a log-field filter, a filtered, ungrouped predicate takes
// the days' user lists into one dense set (unionLists); the others union
// the days' sets.
func (ev *evaluation) union(p userPred, from, to int32) map[string]*roaring.Bitmap {
	return ev.unionTop(p, from, to, 0)
}

// unionTop is union for rows ranked by their number of users of which
// only the top (> 0) with the most are kept: over kept blocks by value it
// may leave out groups that cannot rank among them (topbound.go).
func (ev *evaluation) unionTop(p userPred, from, to int32, top int) map[string]*roaring.Bitmap {
	if (p.byValue || p.key != "") && min(to, ev.maxDay+1)-max(from, ev.minDay) > 2 {
		return ev.unionBlocks(p, from, to, top)
	}
	if !p.plain && !p.byValue && len(ev.groupCols) == 0 {
		return map[string]*roaring.Bitmap{"": ev.unionLists(p, from, to)}
	}
	ev.prepareSets(p, from, to)
	lists := map[string][]*roaring.Bitmap{}
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		for k, s := range ev.cache[p.m][n] {
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

// dayCounts returns, for each day of [from, to) with data, the events
// matching m by group, counting the days on up to the engine's
// parallelism goroutines.
func (ev *evaluation) dayCounts(m *matcher, from, to int32) map[int32]map[string]uint64 {
	in := ev.inputs(userPred{m: m, logged: ev.logged != nil}, from, to, nil)
	per := make([]map[string]uint64, len(in))
	forEach(len(in), ev.e.parallelism, func(i int) { per[i] = countsByGroup(in[i].d, in[i].d.ix.Match(m), ev.groupCols) })
	out := make(map[int32]map[string]uint64, len(in))
	for i, x := range in {
		out[x.n] = per[i]
	}
	return out
}

// sumDays adds up the counts of the days of [from, to), by group.
func (ev *evaluation) sumDays(days map[int32]map[string]uint64, from, to int32) map[string]uint64 {
	out := map[string]uint64{}
	for n := from; n < to; n++ {
		for k, c := range days[n] {
			out[k] += c
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
	r := outRow{set: set, gkey: gkey, order: order, start: b.from}
	if ev.dated != b || len(ev.rows) == 0 {
		ev.dated, ev.start, ev.end = b, dateOfNum(b.from), dateOfNum(b.to)
	}
	r.Start, r.End = ev.start, ev.end
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
	switch q.Metric {
	case RiskDetections, RiskyUsers:
		ev.runRisk()
		return
	}
	if policyGroups(q.Metric) > 0 {
		ev.runPolicies()
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
