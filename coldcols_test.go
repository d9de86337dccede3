package insights_test

// Cold filtered queries decode only the sections of a day's index they
// need (daysections.go): after a fresh Open of a store that reads ranges,
// queries naming different columns, counts and users in turn hit the same
// days, which decode more of their sections each time (or, under a small
// memory limit, are evicted and read again in part); every answer is the
// oracle's, also when they run concurrently. Their days are read ahead,
// on QueryParallelism goroutines (prefetchDays).

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// coldFixture is the oracle's traffic of seed 1, each user event with a
// display name, fed through an engine now closed: the store it left, the
// options it was opened with (to open it again cold), the oracle of that
// traffic, and the display names that engine gave for up to 40 users.
type coldFixture struct {
	store *store.Memory
	opts  insights.Options
	o     *orOracle
	keys  []string
	names map[string]string
}

// coldFixtureOnce feeds the traffic once per test binary: it is most of
// these tests' time, above all under the race detector.
var coldFixtureOnce = sync.OnceValues(func() (*coldFixture, error) {
	ctx := context.Background()
	loc, err := time.LoadLocation(orZone)
	if err != nil {
		return nil, err
	}
	now := time.Date(2025, time.March, 25, 15, 0, 0, 0, loc)
	y, m, d := now.Date()
	f := &coldFixture{store: store.NewMemory(), opts: insights.Options{Zone: orZone, Now: func() time.Time { return now }}}
	e, err := insights.Open(ctx, f.store, &f.opts)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	seen := map[string]bool{}
	var fed []insights.Event
	for i, b := range orBatches(1, orGenerate(1, loc)) {
		for j := range b {
			if k := b[j].UserKey; k != "" {
				b[j].UserDisplayName = fmt.Sprintf("%s at %d", k, i)
				if !seen[k] && len(f.keys) < 40 {
					seen[k] = true
					f.keys = append(f.keys, k)
				}
			}
		}
		if err := e.Add(ctx, b...); err != nil {
			return nil, fmt.Errorf("Add batch %d: %w", i, err)
		}
		fed = append(fed, b...)
	}
	if f.names, err = e.DisplayNames(ctx, f.keys); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	f.o = orBuild(fed, loc, orCivil(y, m, d))
	return f, nil
})

// coldStore returns a copy of the cold fixture's store, which the caller
// may change, and the fixture.
func coldStore(t *testing.T) (*store.Memory, insights.Options, *coldFixture) {
	t.Helper()
	f, err := coldFixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := f.store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewMemory()
	for _, k := range keys {
		v, err := f.store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	return s, f.opts, f
}

func TestColdColumnsOracle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, opts, f := coldStore(t)
	o := f.o
	opts.QueryParallelism = 4

	from, to := orD(2024, 11, 1), orD(2025, 3, 1)
	q := func(m insights.Metric, g insights.Granularity, f orF, groupBy ...insights.Dimension) orQuery {
		return orQuery{insights.Query{Metric: m, From: from, To: to, Granularity: g, GroupBy: groupBy}, f}
	}
	// Each names columns the ones before it did not.
	queries := []orQuery{
		q(insights.ActiveUsers, insights.Week, fEq(insights.DimAppID, "portal")),
		q(insights.ActiveUsers, insights.Month, fIn(insights.DimCountry, "US", "DE"), insights.DimOS),
		q(insights.Requests, insights.Week, fNot(fEq(insights.DimOSFamily, "iOS")), insights.DimBrowser),
		q(insights.ActiveUsers, insights.Day, fEq(insights.DimAppID, "crm"), insights.DimOSFamily, insights.DimCountry),
		q(insights.MFAChallenges, insights.Month, orF{}, insights.DimMFAMethod),
		q(insights.SigningInUsers, insights.Week, fPre(insights.DimOS, "Windows"), insights.DimReason),
		q(insights.Authentications, insights.Total, fEq(insights.DimStatus, "failure"), insights.DimErrorCode),
		q(insights.ActiveUsers, insights.Week, fEq(insights.DimAppID, "portal")),
	}
	for _, limit := range []int64{0, 64 << 10} {
		opts.MemoryLimit = limit
		e, err := insights.Open(ctx, s, &opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, oq := range queries {
			orCheck(t, ctx, e, o, fmt.Sprintf("limit %d, query %d", limit, i), oq)
			if days, pending := insights.PendingSections(e); i == 0 && limit == 0 && (days == 0 || pending < days*20) {
				t.Fatalf("after a query naming one column, %d days in memory have %d sections undecoded, want most of their 29", days, pending)
			}
			if n := insights.PrefetchedDays(e); i == 1 && limit == 0 && n < 200 {
				t.Fatalf("after two queries over 120 days naming different columns, %d days or sections of days read ahead", n)
			}
		}
		if mem := e.Memory(); limit != 0 && mem.Evictions == 0 {
			t.Errorf("no day was evicted under a limit of %d bytes: %+v", limit, mem)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Concurrent first queries naming different columns of the same days.
	e, err := insights.Open(ctx, s, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var wg sync.WaitGroup
	for i, oq := range queries {
		wg.Go(func() { orCheck(t, ctx, e, o, fmt.Sprintf("concurrent query %d", i), oq) })
	}
	wg.Wait()
}

// TestPrefetchDaysUnderLimit: under a MemoryLimit smaller than a cold
// query's days, reading them ahead on 4 goroutines loads no day index more
// often than reading them as the query goes (prefetchDays stops at half
// the limit); with room for them all, each day loads once, read ahead.
func TestPrefetchDaysUnderLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, opts, f := coldStore(t)
	o := f.o
	oq := orQuery{insights.Query{Metric: insights.ActiveUsers, From: orD(2024, 11, 1), To: orD(2025, 3, 1), Granularity: insights.Month}, fEq(insights.DimAppID, "portal")}
	loads := func(limit int64, parallelism int) (index, prefetched int64) {
		opts.MemoryLimit, opts.QueryParallelism = limit, parallelism
		e, err := insights.Open(ctx, s, &opts)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		orCheck(t, ctx, e, o, fmt.Sprintf("limit %d, parallelism %d", limit, parallelism), oq)
		index, _ = insights.SegmentLoads(e)
		return index, insights.PrefetchedDays(e)
	}
	serial, _ := loads(64<<10, 1)
	if ahead, _ := loads(64<<10, 4); ahead > serial {
		t.Errorf("limit 64 KiB: %d day indexes loaded reading ahead on 4 goroutines, %d reading as the query goes", ahead, serial)
	}
	all, _ := loads(0, 1)
	if ahead, prefetched := loads(0, 4); ahead != all || prefetched < all-1 {
		t.Errorf("no limit: %d day indexes loaded (%d read ahead) on 4 goroutines, %d on one", ahead, prefetched, all)
	}
}

// TestDisplayNamesLeaveSectionsPending: DisplayNames on a cold engine
// decodes the event counts and users of the days it reads, not their
// code columns, and answers as the engine that wrote them.
func TestDisplayNamesLeaveSectionsPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, opts, f := coldStore(t)
	keys, want := f.keys, f.names
	if len(want) == 0 {
		t.Fatal("no display names to compare")
	}
	e, err := insights.Open(ctx, s, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := e.DisplayNames(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cold DisplayNames %v, want %v", got, want)
	}
	if days, pending := insights.PendingSections(e); days == 0 || pending < days*20 {
		t.Fatalf("after DisplayNames, %d days in memory have %d sections undecoded, want most of their 29", days, pending)
	}
}
