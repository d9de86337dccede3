package prometheus_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/insightslab/insights"
	insightsprom "github.com/insightslab/insights/prometheus"
	"github.com/insightslab/insights/store"
)

// moving is a clock the test sets.
type moving struct{ t atomic.Pointer[time.Time] }

func (m *moving) now() time.Time  { return *m.t.Load() }
func (m *moving) set(t time.Time) { m.t.Store(&t) }
func at(d, h, min int) time.Time  { return time.Date(2025, 3, d, h, min, 0, 0, time.UTC) }
func signIn(t time.Time, user, app string, code int) insights.Event {
	return insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: user, AppID: app, ErrorCode: code}
}

// answers are what the engine itself says of the aggregates.
type answers struct {
	active      float64
	activeByApp map[string]float64
	failedToday map[string]float64 // failed sign-ins today, by app (Authentications)
}

// ask asks e for the collector's aggregates through Query, for the clock's date.
func ask(t *testing.T, e *insights.Engine, top int) answers {
	t.Helper()
	ctx := context.Background()
	today := insights.DateOf(e.Now(), e.Zone())
	q := insights.Query{Metric: insights.ActiveUsers, From: today, To: today.AddDays(1)}
	res, err := e.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	a := answers{activeByApp: map[string]float64{}, failedToday: map[string]float64{}}
	for _, r := range res.Rows {
		a.active += r.Value
	}
	q.GroupBy, q.Top, q.Other = []insights.Dimension{insights.DimAppID}, top, true
	if res, err = e.Query(ctx, q); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		a.activeByApp[r.Groups[0]] = r.Value
	}
	q = insights.Query{Metric: insights.Authentications, From: today, To: today.AddDays(1), GroupBy: []insights.Dimension{insights.DimAppID}}
	if res, err = e.Query(ctx, q); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Series == "failures" && r.Value > 0 {
			a.failedToday[r.Groups[0]] = r.Value
		}
	}
	return a
}

// exposition writes the aggregates in Prometheus' text format.
func exposition(a answers, failed map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP insights_active_users_today Users active today (the clock's date in the store's zone).\n"+
		"# TYPE insights_active_users_today gauge\ninsights_active_users_today %v\n", a.active)
	if len(a.activeByApp) > 0 {
		fmt.Fprintf(&b, "# HELP insights_active_users_today_by_app Users active today by application (appId), the 2 largest and (other).\n"+
			"# TYPE insights_active_users_today_by_app gauge\n")
	}
	for app, v := range a.activeByApp {
		fmt.Fprintf(&b, "insights_active_users_today_by_app{app=%q} %v\n", app, v)
	}
	fmt.Fprintf(&b, "# HELP insights_failed_signins_last_hour Failed sign-ins in the hour up to the engine's clock by application (appId), the 2 largest and (other).\n"+
		"# TYPE insights_failed_signins_last_hour gauge\n")
	for app, v := range failed {
		fmt.Fprintf(&b, "insights_failed_signins_last_hour{app=%q} %v\n", app, v)
	}
	return b.String()
}

// TestCollectorGivesTheEnginesAnswers scrapes the collector at two times
// of the clock and compares its aggregates with the engine's Query
// answers, and its Stats metrics with Engine.Stats.
func TestCollectorGivesTheEnginesAnswers(t *testing.T) {
	ctx := context.Background()
	var clock moving
	clock.set(at(5, 12, 0))
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var evs []insights.Event
	for u := range 12 { // yesterday: neither today nor the last hour
		evs = append(evs, signIn(at(4, 11, 30), fmt.Sprintf("u%d", u), "mail", 50126))
	}
	apps := []string{"portal", "mail", "hr", "crm"}
	for u := range 20 { // today before 11:00: active, not failing in the last hour
		evs = append(evs, signIn(at(5, 9, u), fmt.Sprintf("u%d", u), apps[u%4], 0))
	}
	for u := range 10 { // the last hour: 3 apps failing, portal most
		evs = append(evs, signIn(at(5, 11, 5*u+2), fmt.Sprintf("u%d", u), apps[u%3/2], 50126))
		evs = append(evs, signIn(at(5, 11, 5*u+3), fmt.Sprintf("u%d", u), apps[u%3], 50126))
	}
	evs = append(evs, signIn(at(5, 12, 30), "u1", "crm", 50126)) // after the clock: not in the last hour
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}

	c := insightsprom.NewCollector(e, &insightsprom.Options{TopApps: 2})
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(c)
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}

	// 12:00: the last hour is 11:00-12:00 today.
	a := ask(t, e, 2)
	failed := map[string]float64{}
	for app, v := range a.failedToday {
		failed[app] = v
	}
	failed["crm"]-- // the one after the clock
	// the two largest (portal 11, mail 6), hr's 3 under (other)
	failed[insights.OtherGroup] = failed["hr"] + failed["crm"]
	delete(failed, "hr")
	delete(failed, "crm")
	if failed["portal"] != 11 || failed["mail"] != 6 || failed[insights.OtherGroup] != 3 || a.active != 20 || a.activeByApp[insights.OtherGroup] == 0 {
		t.Fatalf("the engine answers %+v; the test's events are not what it meant", a)
	}
	want := exposition(a, failed)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"insights_active_users_today", "insights_active_users_today_by_app", "insights_failed_signins_last_hour"); err != nil {
		t.Error("at 12:00:", err)
	}

	// 00:30 the next day: the last hour reaches into yesterday, where
	// a failure at 23:45 counts; nobody is active yet today.
	if err := e.Add(ctx, signIn(at(5, 23, 45), "u3", "hr", 50126), signIn(at(5, 23, 15), "u3", "hr", 50126)); err != nil {
		t.Fatal(err)
	}
	clock.set(at(6, 0, 30))
	a = ask(t, e, 2)
	want = exposition(a, map[string]float64{"hr": 1})
	if a.active != 0 || len(a.activeByApp) != 0 {
		t.Fatalf("the engine answers %+v at 00:30, want nobody active", a)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"insights_active_users_today", "insights_active_users_today_by_app", "insights_failed_signins_last_hour"); err != nil {
		t.Error("at 00:30:", err)
	}

	// The Stats metrics, against Engine.Stats (its counters do not move
	// between the two: the collector's queries are counted by both, and
	// the durations are left out).
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s := e.Stats()
	for name, want := range map[string]float64{
		"insights_events_added_total":     float64(s.Events),
		"insights_events_duplicate_total": float64(s.Duplicates),
		"insights_users":                  float64(s.Users),
		"insights_day_indexes":            float64(s.Days),
		"insights_day_segments":           float64(s.DaysStored),
		"insights_day_indexes_resident":   float64(s.Memory.Days),
		"insights_memory_limit_bytes":     float64(s.Memory.Limit),
		"insights_checkpoints_total":      float64(s.Checkpoints),
		"insights_wal_bytes":              float64(s.LogBytes),
	} {
		if got := testutil.ToFloat64(only{c, name}); got != want {
			t.Errorf("%s = %v, Stats says %v", name, got, want)
		}
	}
	if s.Events != uint64(len(evs)+2) || s.Checkpoints != 1 || s.Days != 2 {
		t.Errorf("Stats %+v: want %d events, 2 days (yesterday, today), one checkpoint", s, len(evs)+2)
	}
	before := e.Stats().Queries
	testutil.CollectAndCount(c)
	if got := e.Stats().Queries - before; got != 2 {
		t.Errorf("one collection made %d queries, want 2 (active users today, in all and by app)", got)
	}
}

// only is a Collector of one metric of c, for testutil.ToFloat64.
type only struct {
	c    prom.Collector
	name string
}

func (o only) Describe(ch chan<- *prom.Desc) { o.c.Describe(ch) }

func (o only) Collect(ch chan<- prom.Metric) {
	all := make(chan prom.Metric)
	go func() {
		o.c.Collect(all)
		close(all)
	}()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+o.name+`"`) {
			ch <- m
		}
	}
}

// TestCollectorCapsItsScan reads at most MaxScan failed sign-ins: the
// counts are then lower bounds, and the truncation gauge says so.
func TestCollectorCapsItsScan(t *testing.T) {
	ctx := context.Background()
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return at(5, 12, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var evs []insights.Event
	for u := range 50 {
		evs = append(evs, signIn(at(5, 11, u+1), fmt.Sprintf("u%d", u), "portal", 50126))
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max             int
		count, truncate float64
	}{{10, 10, 1}, {50, 50, 0}, {0, 50, 0}} {
		c := insightsprom.NewCollector(e, &insightsprom.Options{MaxScan: tc.max})
		if got := testutil.ToFloat64(only{c, "insights_failed_signins_last_hour"}); got != tc.count {
			t.Errorf("MaxScan %d: %v failed sign-ins, want %v", tc.max, got, tc.count)
		}
		if got := testutil.ToFloat64(only{c, "insights_failed_signins_last_hour_truncated"}); got != tc.truncate {
			t.Errorf("MaxScan %d: truncated %v, want %v", tc.max, got, tc.truncate)
		}
	}
}

// TestCollectWhileAdding scrapes while events arrive, under -race; after
// Close the aggregates are reported as errors, the Stats still gathered.
func TestCollectWhileAdding(t *testing.T) {
	ctx := context.Background()
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return at(5, 12, 0) }, CheckpointBytes: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(insightsprom.NewCollector(e, nil))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 50 {
				if err := e.Add(ctx, signIn(at(5, 11, i), fmt.Sprintf("w%d-%d", w, i), "portal", 50126*(i%2))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP insights_failed_signins_last_hour Failed sign-ins in the hour up to the engine's clock by application (appId), the 10 largest and (other).
# TYPE insights_failed_signins_last_hour gauge
insights_failed_signins_last_hour{app="portal"} 50
`), "insights_failed_signins_last_hour"); err != nil {
		t.Error(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), insights.ErrClosed.Error()) {
		t.Errorf("gathering a closed engine: %v, want ErrClosed", err)
	}
	if len(mfs) == 0 {
		t.Error("gathering a closed engine gave no Stats")
	}
}

// TestCollectorOfAFollower: a follower's refreshes are exported as
// Stats gives them; an engine that is not one exports 0.
func TestCollectorOfAFollower(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	now := func() time.Time { return time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC) }
	w, err := insights.Open(ctx, st, &insights.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := insights.Open(ctx, st, &insights.Options{Now: now, Follow: true, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := w.Add(ctx, insights.Event{Time: now(), Kind: insights.KindSignIn, UserKey: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s := f.Stats()
	if s.Refreshed.IsZero() {
		t.Fatal("Stats.Refreshed is zero after a Refresh")
	}
	for _, c := range []struct {
		e    *insights.Engine
		want float64
	}{{f, float64(s.Refreshed.UnixNano()) / 1e9}, {w, 0}} {
		col := insightsprom.NewCollector(c.e, nil)
		if got := testutil.ToFloat64(only{col, "insights_refreshed_timestamp_seconds"}); got != c.want {
			t.Errorf("insights_refreshed_timestamp_seconds = %v, want %v", got, c.want)
		}
		if got := testutil.ToFloat64(only{col, "insights_refresh_failures_total"}); got != 0 {
			t.Errorf("insights_refresh_failures_total = %v, want 0", got)
		}
	}
}
