package pgstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/pgstore"
)

// BenchmarkReplicas measures replicas on one schema, with the default
// RefreshInterval (500 ms) and CheckpointBytes:
//
//   - ingest/replicas=N: each of N replicas adds a batch of 1,000
//     sign-ins per iteration, concurrently (events/s over all);
//
//   - visible: one replica adds an event, and another is queried every
//     millisecond until its event log shows it: the delay from the
//     Add's return (p50 and p99 over the iterations, in ms), each Add
//     at a random moment of the poll's period.
//
//   - catchup/events=N: one replica adds N events in batches of 1,000,
//     with a checkpoint (Flush) after 90% of them, so that a log tail of
//     10% is left, as between two checkpoints in production; then
//     each iteration starts another replica on the schema and times Open
//     until its first answer counts every event (a total of requests over
//     the month, which reads every day). The first replica keeps the
//     lease (LeaseTTL of an hour), so that the others' Close, untimed,
//     writes no checkpoint: every iteration catches up from the same
//     checkpoint and log tail (tail-events: the events replayed from the
//     log, the rest coming from the checkpoint).
//
//     INSIGHTS_TEST_POSTGRES=postgres://… go test -run '^$' -bench Replicas -benchtime 40x .
func BenchmarkReplicas(b *testing.B) {
	ctx := context.Background()
	pool := testPool(b)
	now := time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)
	opts := insights.Options{Now: func() time.Time { return now }, Replica: true}
	open := func(b *testing.B, schema string, n int) []*insights.Engine {
		es := make([]*insights.Engine, n)
		for i := range es {
			e, err := insights.Open(ctx, pgstore.New(pool, schema), &opts)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { e.Close() })
			es[i] = e
		}
		return es
	}
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("ingest/replicas=%d", n), func(b *testing.B) {
			es := open(b, newSchema(b, pool), n)
			ingestBench(b, es, benchBatches(now))
		})
	}
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("catchup/events=%d", n), func(b *testing.B) {
			schema := newSchema(b, pool)
			batch := benchBatches(now)
			held := opts
			held.LeaseTTL = time.Hour
			w, err := insights.Open(ctx, pgstore.New(pool, schema), &held)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			for i := range n / 1000 {
				if i == n/1000*9/10 {
					// A checkpoint of 90% of the events, which takes the
					// lease; the rest is the log tail.
					if err := w.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Add(ctx, batch()...); err != nil {
					b.Fatal(err)
				}
			}
			q := insights.Query{Metric: insights.Requests, Granularity: insights.Total,
				From: insights.NewDate(2025, time.January, 30), To: insights.NewDate(2025, time.March, 2)}
			b.ReportAllocs()
			tail := 0
			for b.Loop() {
				e, err := insights.Open(ctx, pgstore.New(pool, schema), &held)
				if err != nil {
					b.Fatal(err)
				}
				res, err := e.Query(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if got := res.Rows[0].Value; got != float64(n) {
					b.Fatalf("the new replica counts %v requests, want %d", got, n)
				}
				b.StopTimer()
				tail = e.Recovery().LogEvents
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(tail), "tail-events")
		})
	}
	b.Run("visible", func(b *testing.B) {
		es := open(b, newSchema(b, pool), 2)
		var delays []time.Duration
		i, rng := 0, rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		for b.Loop() {
			req := fmt.Sprintf("seen-%d", i)
			ev := insights.Event{Time: now.Add(time.Duration(i-1e6) * time.Second), Kind: insights.KindSignIn,
				UserKey: "watched", RequestID: req}
			i++
			// Out of step with the poll, which the loop would otherwise
			// follow: each Add lands just after a refresh.
			time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
			if err := es[0].Add(ctx, ev); err != nil {
				b.Fatal(err)
			}
			acked := time.Now()
			for {
				p, err := es[1].Log(ctx, insights.LogQuery{Limit: 1})
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Entries) == 1 && p.Entries[0].RequestID == req {
					break
				}
				time.Sleep(time.Millisecond)
			}
			delays = append(delays, time.Since(acked))
		}
		slices.Sort(delays)
		ms := func(q float64) float64 {
			return float64(delays[int(q*float64(len(delays)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(ms(0.5), "p50-ms")
		b.ReportMetric(ms(0.99), "p99-ms")
	})
}
