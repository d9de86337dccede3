package insights_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// TestFollowerOracle runs a writer and two followers on one directory:
// the writer adds the oracle's events in small batches, checkpointing
// every 64 KiB of log (so that its garbage collection deletes segments and
// log records under the followers); one follower refreshes in a loop, and
// after each Refresh its answers (metrics, sign-in log pages) must equal
// those of a reference engine fed exactly the batches it has applied, which
// must include every batch acknowledged before the Refresh began; the
// other polls every millisecond while a goroutine queries it. Both keep
// little in memory, so that days are evicted and read again from segments
// the writer may have deleted. At the end both must equal the brute-force
// oracle over every event.
//
// By default it runs the first 80 batches of one seed (some 12,000
// events, a dozen checkpoints); -follow.all runs every batch (some 500 a
// seed) of three seeds.
func TestFollowerOracle(t *testing.T) {
	t.Parallel()
	loc := mustZone(t, orZone)
	seeds, batches := []uint64{1}, 80
	if insights.RaceEnabled {
		batches = 40 // the README's second command runs all 80 without it
	}
	if *followAllFlag {
		seeds, batches = []uint64{1, 2, 3}, math.MaxInt
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { followRun(t, seed, loc, batches) })
	}
}

var followAllFlag = flag.Bool("follow.all", false, "TestFollowerOracle: every batch of three seeds, not the first 80 of one")

// followBatches cuts the oracle's stream of seed (its batches, in order)
// into batches of 1 to 300 events.
func followBatches(seed uint64, loc *time.Location) [][]insights.Event {
	evs := orGenerate(seed, loc)
	orDisplayNames(evs)
	var flat []insights.Event
	for _, b := range orBatches(seed, evs) {
		flat = append(flat, b...)
	}
	r := rand.New(rand.NewPCG(seed, 0xf011))
	var out [][]insights.Event
	for len(flat) > 0 {
		n := min(len(flat), 1+r.IntN(300))
		out = append(out, flat[:n])
		flat = flat[n:]
	}
	return out
}

// followQueries are what the followers are asked between batches.
func followQueries() []insights.Query {
	to := orD(2025, 3, 26)
	return []insights.Query{
		{Metric: insights.ActiveUsers, From: orStart, To: to, Granularity: insights.Day},
		{Metric: insights.NewUsers, From: orStart, To: to, Granularity: insights.Week, Filter: insights.Eq(insights.DimAppID, "mail")},
		{Metric: insights.Authentications, From: orStart, To: to, Granularity: insights.Week},
		{Metric: insights.InactiveUsers, From: orStart, To: to, Granularity: insights.Month, Days: 30},
		{Metric: insights.Requests, From: orStart, To: to, Granularity: insights.Day, GroupBy: []insights.Dimension{insights.DimCountry}},
	}
}

// followLogQueries are the sign-in log pages they are asked for.
func followLogQueries() []insights.LogQuery {
	return []insights.LogQuery{
		{Limit: 50},
		{Limit: 30, Filter: insights.And(insights.Eq(insights.DimAppID, "crm"), insights.Eq(insights.DimStatus, "failure"))},
		{Limit: 40, From: orD(2024, 11, 2), To: orD(2024, 11, 9)},
	}
}

// followAnswers returns e's answers to followQueries and
// followLogQueries, spelled out.
func followAnswers(ctx context.Context, e *insights.Engine) ([]string, error) {
	var out []string
	for _, q := range followQueries() {
		res, err := e.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", orDescribe(q), err)
		}
		out = append(out, fmt.Sprintf("%s: %v", orDescribe(q), res.Rows))
	}
	for _, q := range followLogQueries() {
		p, err := e.SignIns(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("sign-ins %+v: %w", q, err)
		}
		var b strings.Builder
		for _, en := range p.Entries {
			fmt.Fprintf(&b, "%s %d %s %s %s %s|", en.ID, en.Time.UnixNano(), en.UserKey, en.RequestID, en.Status, en.IP)
		}
		out = append(out, fmt.Sprintf("sign-ins %+v: %s next %q", q, b.String(), p.Next))
	}
	return out, nil
}

func followRun(t *testing.T, seed uint64, loc *time.Location, maxBatches int) {
	ctx := context.Background()
	now := time.Date(2025, time.March, 25, 15, 0, 0, 0, loc)
	clock := func() time.Time { return now }
	y, m, d := now.Date()
	today := orCivil(y, m, d)
	dir := t.TempDir()
	ws, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	w, err := insights.Open(ctx, ws, &insights.Options{Zone: orZone, Now: clock, CheckpointBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	follower := func(interval time.Duration, memory int64) *insights.Engine {
		fs, err := store.Dir(dir, &store.DirOptions{Follow: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		return openFollower(t, fs, &insights.Options{Zone: orZone, Now: clock, RefreshInterval: interval, MemoryLimit: memory})
	}
	f := follower(-1, 256<<10)
	p := follower(time.Millisecond, 64<<10)
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: orZone, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()

	batches := followBatches(seed, loc)
	batches = batches[:min(len(batches), maxBatches)]
	var acked atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the writer
		defer wg.Done()
		defer close(done)
		for i, b := range batches {
			if err := w.Add(ctx, b...); err != nil {
				t.Errorf("Add batch %d: %v", i, err)
				return
			}
			acked.Store(int64(i + 1))
		}
	}()
	go func() { // queries on the polling follower
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := followAnswers(ctx, p); err != nil {
				t.Errorf("the polling follower: %v", err)
				return
			}
		}
	}()

	fed, rounds, skipped := 0, 0, 0
	for writing := true; writing; rounds++ {
		select {
		case <-done:
			writing = false
		default:
		}
		before := acked.Load()
		refresh(t, f)
		k := insights.AppliedLog(f)
		if int64(k) < before || int(k) > len(batches) {
			t.Fatalf("round %d: the follower applied %d batches; %d were acknowledged before its Refresh, %d exist", rounds, k, before, len(batches))
		}
		got, err := followAnswers(ctx, f)
		if err != nil {
			t.Fatalf("round %d: %v", rounds, err)
		}
		if insights.AppliedLog(f) != k { // a query met a collected file and refreshed
			skipped++
			continue
		}
		for ; fed < int(k); fed++ {
			if err := ref.Add(ctx, batches[fed]...); err != nil {
				t.Fatal(err)
			}
		}
		want, err := followAnswers(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d, after %d batches:\n got  %.400s\n want %.400s", rounds, k, got[i], want[i])
			}
		}
	}
	wg.Wait()
	t.Logf("seed %d: %d batches, %d rounds (%d skipped: the follower moved on during the round), writer %+v",
		seed, len(batches), rounds, skipped, w.Stats().Checkpoints)
	if rounds-skipped < 2 {
		t.Errorf("only %d rounds compared", rounds-skipped)
	}

	// Every event: both followers against the oracle.
	var all []insights.Event
	for _, b := range batches {
		all = append(all, b...)
	}
	o := orBuild(all, loc, today)
	queries, _ := orQueries()
	for name, e := range map[string]*insights.Engine{"refreshed": f, "polling": p} {
		refresh(t, e)
		if k := insights.AppliedLog(e); int(k) != len(batches) {
			t.Errorf("%s follower: %d batches applied at the end, want %d", name, k, len(batches))
		}
		for i, oq := range queries {
			if i%4 == 0 {
				orCheck(t, ctx, e, o, fmt.Sprintf("seed %d %s follower query %d", seed, name, i), oq)
			}
		}
		for _, c := range []struct {
			f     orF
			limit int
		}{{orF{}, 200}, {fEq(insights.DimCity, "Lyon"), 77}} {
			want := o.listing(c.f, "", insights.Date{}, insights.Date{})
			if got := orEntries(t, e, insights.LogQuery{Filter: c.f.api(), Limit: c.limit}); !slices.Equal(got, want) {
				t.Errorf("%s follower: the log listing %s has %d entries, want %d", name, c.f.api(), len(got), len(want))
			}
		}
	}
}
