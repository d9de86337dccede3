package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
)

// BenchmarkAdd times Engine.Add of batches of 1,000 sign-ins through
// PostgreSQL and through the directory store in the same run: one writer,
// then 8 concurrent writers (their batches share log writes: group
// commit). Each Add is acknowledged once its log record is committed;
// events/s is the figure to read:
//
//	INSIGHTS_TEST_POSTGRES=postgres://… go test -run '^$' -bench Add -benchtime 200x .
func BenchmarkAdd(b *testing.B) {
	ctx := context.Background()
	pool := testPool(b)
	stores := benchStores(pool)
	now := time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)
	for _, st := range stores {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", st.name, writers), func(b *testing.B) {
				e, err := insights.Open(ctx, st.open(b), &insights.Options{Now: func() time.Time { return now }})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				engines := make([]*insights.Engine, writers)
				for i := range engines {
					engines[i] = e
				}
				ingestBench(b, engines, benchBatches(now))
			})
		}
	}
}

// ingestBench times rounds in which each of engines (an engine may be
// listed more than once: concurrent writers of it) adds a new batch of
// batch, concurrently, and reports events/s over the whole run.
func ingestBench(b *testing.B, engines []*insights.Engine, batch func() []insights.Event) {
	ctx := context.Background()
	b.ReportAllocs()
	start, adds := time.Now(), 0
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, len(engines))
		for _, e := range engines {
			evs := batch()
			wg.Go(func() { errs <- e.Add(ctx, evs...) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		adds += len(engines)
	}
	b.ReportMetric(float64(adds*1000)/time.Since(start).Seconds(), "events/s")
}

// benchBatches returns a function that returns a new batch at each call,
// safe for concurrent use: 1,000 sign-ins of 100,000 users over the month
// before now.
func benchBatches(now time.Time) func() []insights.Event {
	var mu sync.Mutex
	next := 0
	return func() []insights.Event {
		mu.Lock()
		n := next
		next++
		mu.Unlock()
		evs := make([]insights.Event, 1000)
		for i := range evs {
			k := n*1000 + i
			evs[i] = insights.Event{Time: now.Add(-time.Duration(k%(30*86400)) * time.Second), Kind: insights.KindSignIn,
				UserKey: fmt.Sprintf("user-%06d", k*7919%100000), AppID: "portal", OS: "Windows 10", Country: "FR",
				IP: "192.0.2.10", RequestID: fmt.Sprintf("req-%d", k)}
		}
		return evs
	}
}
