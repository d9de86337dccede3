package main

import (
	"context"
	"flag"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// TestHarnessSmall runs the whole harness on a small data set and requires
// every answer of the engine, DuckDB (both tables) and the scan to be equal.
func TestHarnessSmall(t *testing.T) {
	o := options{users: 2000, days: 10, seed: 1, runs: 1, batch: 1000, duckMem: "1GB", duckThreads: 2,
		tmp: t.TempDir(), approxUsers: 2000, approxDays: 180, ingestEvents: 5000,
		phases: map[string]bool{"queries": true, "approx": true, "ingest": true, "disk": true}, log: io.Discard}
	if testing.Verbose() {
		o.log = os.Stderr
	}
	r, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Queries) != 10 {
		t.Fatalf("%d queries, want 10", len(r.Queries))
	}
	for _, q := range r.Queries {
		if !q.Equal {
			t.Errorf("%s: answers differ: %s", q.Name, q.Mismatch)
		}
		if q.Keys == 0 && q.Name != "inactive_30d" {
			t.Errorf("%s: empty answer: the query tests nothing", q.Name)
		}
	}
	if r.Events == 0 || r.IngestEventsPerSec <= 0 || r.DiskBytesPerEvent <= 0 || r.ReopenNs <= 0 {
		t.Errorf("missing measurements: %+v", r)
	}
	if r.LogDiskBytesPerEvent <= 0 || r.LogWithColumnsBytesPerEvent <= r.LogDiskBytesPerEvent ||
		r.SegmentBytesPerEvent <= r.LogWithColumnsBytesPerEvent || r.LogParquetBytesPerEvent <= 0 {
		t.Errorf("missing or inconsistent log measurements: log %.2f, with columns %.2f, segments %.2f, parquet %.2f",
			r.LogDiskBytesPerEvent, r.LogWithColumnsBytesPerEvent, r.SegmentBytesPerEvent, r.LogParquetBytesPerEvent)
	}
}

// TestHarnessInactive runs past 30 days so that inactive users exist.
func TestHarnessInactive(t *testing.T) {
	o := options{users: 1000, days: 45, seed: 7, runs: 1, batch: 500, duckMem: "1GB", duckThreads: 2,
		tmp: t.TempDir(), phases: map[string]bool{"queries": true}, log: io.Discard}
	r, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range r.Queries {
		if !q.Equal {
			t.Errorf("%s: answers differ: %s", q.Name, q.Mismatch)
		}
		if q.Keys == 0 {
			t.Errorf("%s: empty answer", q.Name)
		}
	}
}

// TestGeneratorDeterministic: the same seed gives the same events.
func TestGeneratorDeterministic(t *testing.T) {
	a := newGenerator(genConfig{Users: 500, Days: 3, Seed: 42})
	b := newGenerator(genConfig{Users: 500, Days: 3, Seed: 42})
	for d := range 3 {
		ea, eb := a.day(d, nil), b.day(d, nil)
		if len(ea) != len(eb) {
			t.Fatalf("day %d: %d and %d events", d, len(ea), len(eb))
		}
		for i := range ea {
			if ea[i] != eb[i] {
				t.Fatalf("day %d event %d differs", d, i)
			}
		}
	}
	if a.userKeys[7] != b.userKeys[7] || len(a.userKeys[7]) != 36 {
		t.Fatalf("user keys: %q %q", a.userKeys[7], b.userKeys[7])
	}
}

// The benchmark fixture: -bench.users users over 30 days in the engine and
// the scan copy, built once; DuckDB's copy is loaded on first use.
var fixture struct {
	once     sync.Once
	duckOnce sync.Once
	err      error
	g        *generator
	eng      *insights.Engine
	dk       *duck
	sc       *scanDB
	w        window
}

// benchUsers sizes the fixture: go test -run NONE -bench Insights/mau_30d_filtered
// -bench.users 100000 -cpuprofile cpu.out profiles one query at 100,000 users.
var benchUsers = flag.Int("bench.users", 5000, "registered users of the query benchmarks' fixture (30 days)")

// benchPar is the fixture engine's Options.QueryParallelism.
var benchPar = flag.Int("bench.parallelism", 0, "goroutines one engine query may use (0: GOMAXPROCS)")

const benchDays = 30

func loadFixture(b *testing.B) {
	fixture.once.Do(func() {
		ctx := context.Background()
		g := newGenerator(genConfig{Users: *benchUsers, Days: benchDays, Seed: 1})
		eng, err := openEngine(ctx, store.NewMemory(), benchDays, *benchPar)
		if err != nil {
			fixture.err = err
			return
		}
		sc := newScanDB(*benchUsers, benchDays)
		var buf []ev
		var evs []insights.Event
		for d := range benchDays {
			buf = g.day(d, buf)
			evs = g.dayEvents(d, buf, evs)
			if _, err := addBatches(ctx, eng, evs, 1000); err != nil {
				fixture.err = err
				return
			}
			sc.addDay(d, buf)
		}
		if err := sealAll(ctx, eng, benchDays); err != nil {
			fixture.err = err
			return
		}
		fixture.g, fixture.eng, fixture.sc, fixture.w = g, eng, sc, window{0, benchDays}
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
}

// loadDuck loads the fixture's events into DuckDB, once.
func loadDuck(b *testing.B) {
	loadFixture(b)
	fixture.duckOnce.Do(func() {
		ctx := context.Background()
		dk, err := openDuck(ctx, os.TempDir(), "2GB", 2)
		if err != nil {
			fixture.err = err
			return
		}
		var buf []ev
		for d := range benchDays {
			buf = fixture.g.day(d, buf)
			if err := dk.appendDay(fixture.g, d, buf); err != nil {
				fixture.err = err
				return
			}
		}
		if err := dk.finishLoad(ctx); err != nil {
			fixture.err = err
			return
		}
		fixture.dk = dk
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dk != nil {
		fixture.dk.close()
	}
	os.Exit(code)
}

func benchSpec(b *testing.B, name string) spec {
	loadFixture(b)
	for _, s := range specs(fixture.g) {
		if s.name == name {
			return s
		}
	}
	b.Fatalf("no query %s", name)
	return spec{}
}

var benchQueries = []string{"dau_30d", "mau_30d", "mau_30d_filtered", "new_users_30d", "inactive_30d",
	"auth_by_os_30d", "mfa_failures_by_reason_30d", "mau_by_country_top10"}

func BenchmarkInsights(b *testing.B) {
	for _, name := range benchQueries {
		b.Run(name, func(b *testing.B) {
			s := benchSpec(b, name)
			q := s.engineQuery(fixture.w)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fixture.eng.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDuckDB(b *testing.B) {
	for _, table := range []string{tableGUID, tableInt} {
		for _, name := range benchQueries {
			b.Run(table+"/"+name, func(b *testing.B) {
				s := benchSpec(b, name)
				loadDuck(b)
				q := s.sqlFor(table, fixture.w, fixture.g)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := fixture.dk.query(ctx, q, s.multi); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkScan(b *testing.B) {
	for _, name := range benchQueries {
		b.Run(name, func(b *testing.B) {
			s := benchSpec(b, name)
			b.ReportAllocs()
			for b.Loop() {
				s.scan(fixture.sc, fixture.w)
			}
		})
	}
}

// BenchmarkIngest adds one day of traffic (5,000 users) to a fresh engine per iteration.
func BenchmarkIngest(b *testing.B) {
	g := newGenerator(genConfig{Users: 5000, Days: 2, Seed: 1})
	buf := g.day(1, nil)
	evs := g.dayEvents(1, buf, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		eng, err := openEngine(ctx, store.NewMemory(), 2, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := addBatches(ctx, eng, evs, 1000); err != nil {
			b.Fatal(err)
		}
		eng.Close()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkUserSignIns asks one user's last week of sign-ins, cycling
// through the sample of user_week_signins.
func BenchmarkUserSignIns(b *testing.B) {
	loadFixture(b)
	week := weekOf(fixture.w)
	users := sampleUsers(fixture.sc, week, userWeekSample)
	ctx := context.Background()
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		if _, err := fixture.eng.UserSignIns(ctx, fixture.g.userKeys[users[k%len(users)]], date(week.from), date(week.to)); err != nil {
			b.Fatal(err)
		}
		k++
	}
}

// TestHarnessRisk runs the risk phase on a small data set: both loads
// measured, detection on against off.
func TestHarnessRisk(t *testing.T) {
	o := options{users: 2000, days: 5, seed: 1, runs: 1, batch: 1000, riskEvents: 20000, riskRuns: 1,
		phases: map[string]bool{"risk": true}, log: io.Discard}
	r, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	rr := r.Risk
	if rr == nil || int64(rr.Events) != min(r.Events, 20000) || rr.Runs != 1 || rr.OffEventsPerSec <= 0 || rr.OnEventsPerSec <= 0 ||
		len(rr.DetectionsByLevel) != 3 {
		t.Fatalf("risk phase: %+v", rr)
	}
	if rr.RebuildNs <= 0 || rr.Detections == 0 || rr.Detections != rr.DetectionsByLevel[0]+rr.DetectionsByLevel[1]+rr.DetectionsByLevel[2] {
		t.Errorf("risk phase: %d detections, by level %v", rr.Detections, rr.DetectionsByLevel)
	}
}
