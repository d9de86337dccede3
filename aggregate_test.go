package insights

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// aggOracle answers the queries of TestPreAggregatesFollowChanges by
// brute force over the events added.
type aggOracle struct {
	events  []Event
	erased  map[string]bool
	horizon int32 // days before it were dropped by retention
	mu      sync.Mutex
	now     time.Time // the engine's clock (openAggEngine)
}

// openAggEngine opens an engine on a clock the oracle moves (retain),
// with 80 days of retention, small checkpoints and the memory limit.
func openAggEngine(t *testing.T, limit int64) (*Engine, *aggOracle) {
	t.Helper()
	o := &aggOracle{erased: map[string]bool{}, now: time.Date(2025, 5, 20, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { o.mu.Lock(); defer o.mu.Unlock(); return o.now }
	e, err := Open(context.Background(), store.NewMemory(), &Options{Now: clock, MemoryLimit: limit, RetentionDays: 80, CheckpointBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, o
}

// add adds evs to e and to the oracle's events.
func (o *aggOracle) add(t *testing.T, e *Engine, evs ...Event) {
	t.Helper()
	if err := e.Add(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	o.events = append(o.events, evs...)
}

// addDays adds perDay events made by event on each of the 70 days from
// 1 March 2025, each by one of 60 users drawn by r.
func (o *aggOracle) addDays(t *testing.T, e *Engine, perDay int, r *rand.Rand, event func(day, user int) Event) {
	t.Helper()
	var evs []Event
	for d := range 70 {
		for range perDay {
			evs = append(evs, event(d, r.IntN(60)))
		}
	}
	o.add(t, e, evs...)
}

// erase erases user key from e and from the oracle's answers.
func (o *aggOracle) erase(t *testing.T, e *Engine, key string) {
	t.Helper()
	if _, err := e.Erase(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	o.erased[key] = true
}

// retain moves the clock 9 days on and erases u08: that erasure's
// checkpoint drops the days before 10 March.
func (o *aggOracle) retain(t *testing.T, e *Engine) {
	t.Helper()
	o.mu.Lock()
	o.now = o.now.AddDate(0, 0, 9)
	o.mu.Unlock()
	o.erase(t, e, "u08")
	o.horizon = NewDate(2025, 3, 10).num()
}

func (o *aggOracle) day(ev Event) int32 { return DateOf(ev.Time, time.UTC).num() }

// deleted returns each user's deletion day: the earliest, after which
// nothing the user does counts (SPEC §2).
func (o *aggOracle) deleted() map[string]int32 {
	out := map[string]int32{}
	for _, ev := range o.events {
		if ev.Kind == KindUserDeleted {
			if d, ok := out[ev.UserKey]; !ok || o.day(ev) < d {
				out[ev.UserKey] = o.day(ev)
			}
		}
	}
	return out
}

// authByOS: Authentications by OS, per day (dated) or over the range.
func (o *aggOracle) authByOS(from, to int32, dated bool) map[string]float64 {
	out := map[string]float64{}
	for _, ev := range o.events {
		n := o.day(ev)
		if ev.Kind != KindSignIn || n < from || n >= to || n < o.horizon {
			continue
		}
		k := ev.OS
		if dated {
			k = dateOfNum(n).String() + "|" + k
		}
		out[k+"|attempts"]++
		switch ev.Status {
		case StatusSuccess:
			out[k+"|successes"]++
		case StatusFailure:
			out[k+"|failures"]++
		case StatusInterrupted:
			out[k+"|interrupts"]++
		}
	}
	return out
}

// activeByCountry: distinct active users by country over the range; with
// top, the top largest (ties by name).
func (o *aggOracle) activeByCountry(from, to int32, top int) map[string]float64 {
	del := o.deleted()
	sets := map[string]map[string]bool{}
	for _, ev := range o.events {
		n := o.day(ev)
		if n < from || n >= to || n < o.horizon || o.erased[ev.UserKey] || ev.Status != StatusSuccess {
			continue
		}
		if ev.Kind != KindSignIn && ev.Kind != KindSignUp {
			continue
		}
		if d, ok := del[ev.UserKey]; ok && n > d {
			continue
		}
		if sets[ev.Country] == nil {
			sets[ev.Country] = map[string]bool{}
		}
		sets[ev.Country][ev.UserKey] = true
	}
	out := map[string]float64{}
	for c, s := range sets {
		out[c] = float64(len(s))
	}
	if top > 0 {
		keys := make([]string, 0, len(out))
		for k := range out {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if out[a] != out[b] {
				return int(out[b] - out[a])
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys[min(top, len(keys)):] {
			delete(out, k)
		}
	}
	return out
}

// rowsOf returns a result's non-zero rows by group values (and date, and
// series when there are several).
func rowsOf(res *Result, dated, series bool) map[string]float64 {
	out := map[string]float64{}
	for _, r := range res.Rows {
		if r.Value == 0 {
			continue
		}
		k := strings.Join(r.Groups, "|")
		if dated {
			k = r.Start.String() + "|" + k
		}
		if series {
			k += "|" + r.Series
		}
		out[k] = r.Value
	}
	return out
}

// TestPreAggregatesFollowChanges checks the per-day count arrays and the
// cached block unions (aggregate.go, blocks.go) against brute force after
// each change that replaces a sealed day: late events for days the cached
// answers cover, a deletion, an erasure, retention dropping days, and, with
// a memory limit of one byte, eviction and reload between queries.
func TestPreAggregatesFollowChanges(t *testing.T) {
	for _, limit := range []int64{0, 1} {
		t.Run(fmt.Sprintf("MemoryLimit=%d", limit), func(t *testing.T) { testPreAggregates(t, limit) })
	}
}

func testPreAggregates(t *testing.T, limit int64) {
	ctx := context.Background()
	e, o := openAggEngine(t, limit)
	r := rand.New(rand.NewPCG(7, 11))
	oses := []string{"Windows", "iOS", "Android", "MacOs"}
	countries := []string{"US", "DE", "FR", "JP", "BR"}
	statuses := []Status{StatusSuccess, StatusSuccess, StatusSuccess, StatusFailure, StatusInterrupted}
	event := func(day, user int) Event {
		ev := Event{Time: time.Date(2025, 3, 1+day, 1+r.IntN(22), r.IntN(60), 0, 0, time.UTC), Kind: KindSignIn,
			UserKey: fmt.Sprintf("u%02d", user), AppID: "app", OS: oses[r.IntN(len(oses))],
			Country: countries[min(r.IntN(len(countries)), r.IntN(len(countries)))], Status: statuses[r.IntN(len(statuses))],
			SignInType: SignInInteractiveUser}
		if ev.Status == StatusFailure {
			ev.ErrorCode = 50126
		}
		return ev
	}
	o.addDays(t, e, 30, r, event)

	from, to := NewDate(2025, 3, 3), NewDate(2025, 4, 4)     // 32 days: a span
	mid, midTo := NewDate(2025, 3, 8), NewDate(2025, 3, 29)  // 21 days: two spans of 16
	all, allTo := NewDate(2025, 2, 20), NewDate(2025, 5, 10) // the 70 days with data: aligned blocks
	check := func(step string) {
		t.Helper()
		queries := []struct {
			q             Query
			dated, series bool
			want          map[string]float64
		}{
			{Query{Metric: Authentications, Granularity: Day, GroupBy: []Dimension{DimOS}, From: from, To: to}, true, true,
				o.authByOS(from.num(), to.num(), true)},
			{Query{Metric: Authentications, Granularity: Total, GroupBy: []Dimension{DimOS}, From: from, To: to}, false, true,
				o.authByOS(from.num(), to.num(), false)},
			{Query{Metric: ActiveUsers, Granularity: Total, GroupBy: []Dimension{DimCountry}, From: from, To: to}, false, false,
				o.activeByCountry(from.num(), to.num(), 0)},
			{Query{Metric: ActiveUsers, Granularity: Total, GroupBy: []Dimension{DimCountry}, From: mid, To: midTo, Top: 3}, false, false,
				o.activeByCountry(mid.num(), midTo.num(), 3)},
			{Query{Metric: ActiveUsers, Granularity: Total, GroupBy: []Dimension{DimCountry}, From: all, To: allTo}, false, false,
				o.activeByCountry(all.num(), allTo.num(), 0)},
		}
		for _, c := range queries {
			res, err := e.Query(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if got := rowsOf(res, c.dated, c.series); !maps.Equal(got, c.want) {
				t.Errorf("%s: %s %s: got %v, want %v", step, c.q.Metric, c.q.Granularity, got, c.want)
			}
		}
	}
	check("first")
	check("again, from the caches")

	// Late events for sealed days inside cached blocks, a new country and
	// a new OS among them.
	late := []Event{event(5, 1), event(12, 61), event(20, 62), event(20, 3)}
	late[1].Country, late[2].OS, late[3].Status = "NZ", "Linux", StatusSuccess
	o.add(t, e, late...)
	check("late events")

	// A user active through the month is deleted in its middle.
	o.add(t, e, event(4, 5), event(25, 5), Event{Time: time.Date(2025, 3, 16, 12, 0, 0, 0, time.UTC), Kind: KindUserDeleted, UserKey: "u05"})
	check("deletion")

	o.erase(t, e, "u07")
	check("erasure")
	o.retain(t, e)
	check("retention")
}

// TestSpansPerDayAreBounded: ranges ending on one day with many lengths
// and group-by columns (a rolling dashboard makes the same over time)
// keep at most maxSpans spans on the day that holds them, and answer as
// brute force does while spans are dropped and rebuilt.
func TestSpansPerDayAreBounded(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	o := &aggOracle{erased: map[string]bool{}}
	r := rand.New(rand.NewPCG(3, 5))
	var evs []Event
	for d := range 70 {
		for range 20 {
			evs = append(evs, Event{Time: time.Date(2025, 3, 1+d, 12, 0, 0, 0, time.UTC), Kind: KindSignIn, Status: StatusSuccess,
				UserKey: fmt.Sprintf("u%02d", r.IntN(50)), Country: []string{"US", "DE", "FR"}[r.IntN(3)],
				OS: []string{"iOS", "Android"}[r.IntN(2)], AppID: []string{"a", "b"}[r.IntN(2)], Browser: "Edge 120"})
		}
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	o.events = evs
	to := NewDate(2025, 4, 27) // odd: every range below ends in spans, held by 26 April
	for round := range 2 {
		for _, dim := range []Dimension{DimCountry, DimOS, DimOSFamily, DimAppID, DimBrowser, DimBrowserFamily} {
			for _, days := range []int{3, 5, 7, 11, 13, 19, 23, 37, 41} {
				q := Query{Metric: ActiveUsers, Granularity: Total, GroupBy: []Dimension{dim}, From: to.AddDays(-days), To: to}
				res, err := e.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if dim == DimCountry {
					if got, want := rowsOf(res, false, false), o.activeByCountry(q.From.num(), to.num(), 0); !maps.Equal(got, want) {
						t.Errorf("round %d, %d days: got %v, want %v", round, days, got, want)
					}
				}
			}
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	d := e.days[to.num()-1].sealed
	spans := 0
	for k := range d.blocks {
		if k.span {
			spans++
		}
	}
	if spans == 0 || spans > maxSpans {
		t.Errorf("26 April keeps %d spans, want 1 to %d", spans, maxSpans)
	}
}
