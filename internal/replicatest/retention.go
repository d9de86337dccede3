package replicatest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// RunRetention tests retention on replicas, on s, a new store that
// implements store.Replicas: three replicas with RetentionDays 20, their
// clock on 21 January (nothing to drop), get the erasure tests' batches
// (days 1 to 20 of January) round the three; the clock moves to 28
// January and the lease holder checkpoints, dropping the days before the
// 8th. Every replica
// (they load the holder's checkpoint), and one opened then, answers as
// one engine that got the same batches and checkpoint; and batches added
// after, old days among them, are treated alike.
func RunRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Date(2025, time.January, 21, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	opts := func(replica bool) *insights.Options {
		return &insights.Options{Now: clock, RetentionDays: 20, Replica: replica, CheckpointBytes: 4 << 10,
			LeaseTTL: time.Hour, RefreshInterval: -1}
	}
	open := func() *insights.Engine {
		t.Helper()
		e, err := insights.Open(ctx, s, opts(true))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	ref, err := insights.Open(ctx, store.NewMemory(), opts(false))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	reps := []*insights.Engine{open(), open(), open()}
	if err := reps[0].Flush(ctx); err != nil { // replica 0 takes the lease, for an hour
		t.Fatal(err)
	}
	add := func(from, to int) {
		t.Helper()
		for b := from; b < to; b++ {
			if err := reps[b%3].Add(ctx, erBatch(b)...); err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			if err := ref.Add(ctx, erBatch(b)...); err != nil {
				t.Fatalf("reference, batch %d: %v", b, err)
			}
		}
	}
	var before string
	check := func(when string, extra ...*insights.Engine) {
		t.Helper()
		want, err := erAnswers(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if before == "" {
			before = want
		} else if want == before {
			t.Fatalf("%s: the reference answers as before retention: nothing to compare", when)
		}
		m := map[string]*insights.Engine{}
		for i, e := range append(append([]*insights.Engine(nil), reps...), extra...) {
			m[fmt.Sprintf("%s, replica %d", when, i)] = e
		}
		erCheck(t, want, m)
		warned := func(e *insights.Engine) string { // the horizon's warning
			res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, time.January, 1),
				To: insights.NewDate(2025, time.February, 1), Granularity: insights.Total})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(res.Warnings)
		}
		for name, e := range m {
			if got, want := warned(e), warned(ref); got != want {
				t.Fatalf("%s warns %s, want %s", name, got, want)
			}
		}
	}

	add(0, 40)
	check("before retention")
	now.Store(time.Date(2025, time.January, 28, 0, 0, 0, 0, time.UTC).UnixNano())
	for _, e := range []*insights.Engine{reps[0], ref} {
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := reps[0].Stats(); got.Days == 0 {
		t.Fatalf("the holder keeps no day: %+v", got)
	}
	check("after the holder's checkpoint", open())
	add(40, 60)                                          // days 1 to 20 again, the dropped ones among them
	for _, e := range []*insights.Engine{reps[0], ref} { // and dropped again
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check("after more batches", open())
}
