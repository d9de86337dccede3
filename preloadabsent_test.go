package insights

import (
	"context"
	"testing"
	"time"
)

// TestAddToADayCreatedAndEvictedBeforeItsApply: an Add of events on two
// days, one stored but not in memory and one that does not exist yet,
// waits in its preload for the first day's log; meanwhile another Add
// creates the second day, a checkpoint stores it and the memory limit
// evicts it. The first Add must then add to the stored day, not start it
// anew, empty, losing the other Add's event
// (TestStatsWhileAddsQueriesAndCheckpointsRun lost a batch so about 1 run
// in 130).
func TestAddToADayCreatedAndEvictedBeforeItsApply(t *testing.T) {
	ctx := context.Background()
	e, s, ev := staleReadSetup(t)
	e.mu.Lock()
	e.residents.limit = 1 // every day that can be is evicted
	e.mu.Unlock()
	later := func(i int) Event { // on 2025-03-12, a day not yet stored
		v := ev(i)
		v.Time = v.Time.AddDate(0, 0, 2)
		return v
	}
	done := make(chan error, 1)
	go func() { done <- e.Add(ctx, ev(1), later(2)) }()
	select {
	case <-s.blocked:
	case <-time.After(time.Minute): // a deadlock, not a timing
		t.Fatal("the stored day's log was never read")
	}
	if err := e.Add(ctx, later(3)); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A query of the first day holds it in memory: the second, stored and
	// closed, is evicted, unless the waiting Add has it pinned.
	if _, err := e.Query(ctx, Query{Metric: Requests, Granularity: Total, From: NewDate(2025, 3, 10), To: NewDate(2025, 3, 11)}); err != nil {
		t.Fatal(err)
	}
	close(s.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := func(e *Engine, when string) {
		t.Helper()
		for day, n := range map[Date]float64{NewDate(2025, 3, 10): 2, NewDate(2025, 3, 12): 2} {
			r, err := e.Query(ctx, Query{Metric: Requests, Granularity: Total, From: day, To: day.AddDays(1)})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Rows) != 1 || r.Rows[0].Value != n {
				t.Errorf("%s: %s: %+v, want %v events", when, day, r.Rows, n)
			}
		}
	}
	want(e, "in memory")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, s, &Options{Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want(e, "reopened")
}
