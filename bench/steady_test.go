package main

import (
	"context"
	"flag"
	"os"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

var (
	steadyUsers   = flag.Int("steady.users", 0, "TestQueriesSteady: registered users (0 skips the test)")
	steadyDays    = flag.Int("steady.days", 60, "TestQueriesSteady: days of traffic; the queries cover the last 30")
	steadyRuns    = flag.Int("steady.runs", 15, "TestQueriesSteady: timed runs of each query after its first")
	steadyProfile = flag.String("steady.cpuprofile", "", "TestQueriesSteady: write a CPU profile of the timed runs of -steady.query to this file")
	steadyQuery   = flag.String("steady.query", "mau_by_country_top10", "TestQueriesSteady: the query -steady.cpuprofile profiles")
)

// TestQueriesSteady times the engine's queries as the harness's engine
// phase leaves it (a memory store, every day sealed and checkpointed, the
// default MemoryLimit), without DuckDB: each query's first run, then the
// median, least and most of -steady.runs runs, and the days in memory and
// evictions after them. The harness's median of 5 runs after one warm-up
// hides how a query settles; this shows it, cheaply:
//
//	go test -run TestQueriesSteady -v -timeout 60m -steady.users 1000000 -steady.runs 300 -steady.cpuprofile top10.pprof
func TestQueriesSteady(t *testing.T) {
	if *steadyUsers == 0 {
		t.Skip("-steady.users not set")
	}
	ctx := context.Background()
	days := *steadyDays
	g := newGenerator(genConfig{Users: *steadyUsers, Days: days, Seed: 1})
	eng, err := openEngine(ctx, store.NewMemory(), days, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var buf []ev
	for d := range days {
		buf = g.day(d, buf)
		if _, err := addBatches(ctx, eng, g.dayEvents(d, buf, nil), 1000); err != nil {
			t.Fatal(err)
		}
	}
	if err := sealAll(ctx, eng, days); err != nil {
		t.Fatal(err)
	}
	if err := eng.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("after the load: %+v", eng.Memory())
	w := window{max(0, days-30), days}
	for _, s := range specs(g) {
		q := s.engineQuery(w)
		t0 := time.Now()
		if _, err := eng.Query(ctx, q); err != nil {
			t.Fatal(err)
		}
		first := time.Since(t0)
		if s.name == *steadyQuery && *steadyProfile != "" {
			f, err := os.Create(*steadyProfile)
			if err != nil {
				t.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				t.Fatal(err)
			}
			defer f.Close()
		}
		ts := make([]time.Duration, 0, *steadyRuns)
		for range max(1, *steadyRuns) {
			t0 := time.Now()
			if _, err := eng.Query(ctx, q); err != nil {
				t.Fatal(err)
			}
			ts = append(ts, time.Since(t0))
		}
		if s.name == *steadyQuery && *steadyProfile != "" {
			pprof.StopCPUProfile()
		}
		runs := slices.Clone(ts[:min(5, len(ts))])
		slices.Sort(ts)
		t.Logf("%-28s first %12v median %12v least %12v most %12v; first runs %v; %+v",
			s.name, first, ts[len(ts)/2], ts[0], ts[len(ts)-1], runs, eng.Memory())
	}
}
