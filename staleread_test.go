package insights

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// staleReadSetup returns an engine on a getGate holding one event on
// 2025-03-10, reopened so that the day is not in memory, and the event
// maker: the clock is in April, so the day's segment keeps no request ids
// beside its log (insideDedupeHorizon) and an Add to it reads that log.
func staleReadSetup(t *testing.T) (*Engine, *getGate, func(i int) Event) {
	t.Helper()
	ctx := context.Background()
	s := &getGate{Memory: store.NewMemory()}
	now := time.Date(2025, 4, 15, 12, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return now }}
	ev := func(i int) Event {
		return Event{Time: time.Date(2025, 3, 10, 8, i, 0, 0, time.UTC), Kind: KindSignIn,
			UserKey: fmt.Sprint("u", i), RequestID: fmt.Sprint("r", i)}
	}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, ev(0)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = Open(ctx, s, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	s.mu.Lock()
	// The first whole Get of the day's segment (store.Memory reads
	// ranges: the index is read by ranges, the segment whole for its log).
	s.prefix, s.blockAt, s.blocked, s.release = "days/2025-03-10/", 1, make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
	return e, s, ev
}

// rewriteDuringRead waits for the gated read of the day's log, then adds
// ev to the day and checkpoints: the checkpoint writes the day's segment
// anew and deletes the one the gated read is about to read. Then it calls
// before, and lets that read go on.
func rewriteDuringRead(t *testing.T, e *Engine, s *getGate, ev Event, before func()) {
	t.Helper()
	select {
	case <-s.blocked:
	case <-time.After(time.Minute): // a deadlock, not a timing
		t.Fatal("the day's log was never read")
	}
	if err := e.Add(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	before()
	close(s.release)
}

// wantRequests checks that the day holds n events and n users.
func wantRequests(t *testing.T, e *Engine, n int) {
	t.Helper()
	for _, m := range []Metric{Requests, ActiveUsers} {
		r, err := e.Query(context.Background(), Query{Metric: m, Granularity: Total, From: NewDate(2025, 3, 10), To: NewDate(2025, 3, 11)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Rows) != 1 || r.Rows[0].Value != float64(n) {
			t.Errorf("%v: %+v, want %d", m, r.Rows, n)
		}
	}
}

// TestAddReadsALogACheckpointDeletes: an Add to a day not in memory reads
// the day's log for its request ids holding no lock (preload); another
// Add to the day and a checkpoint meanwhile write the day's segment anew
// and delete the one being read. The first Add must look again, not
// report a healthy store as corrupt ("named by the manifest but
// missing": TestConcurrentAddQuery failed so 1 run in 10 to 30).
func TestAddReadsALogACheckpointDeletes(t *testing.T) {
	e, s, ev := staleReadSetup(t)
	done := make(chan error, 1)
	go func() { done <- e.Add(context.Background(), ev(1)) }()
	rewriteDuringRead(t, e, s, ev(2), func() {})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantRequests(t, e, 3)
	if err := e.Add(context.Background(), ev(1)); err != nil { // a copy: its request id is known
		t.Fatal(err)
	}
	wantRequests(t, e, 3)
}

// TestRiskRebuildReadsALogACheckpointDeletes: the risk rebuild reads a
// day's log holding no lock; an Add to the day and a checkpoint meanwhile
// write the day's segment anew and delete the one being read. The read
// that waits for the rebuild must get the detections of a rebuild that
// starts again (fresh), not ErrCorrupt, even if it started after the
// checkpoint: the engine's generation has not moved since, yet the
// rebuild it waited for read an earlier one. The read that started the
// rebuild gives up before (its context is cancelled), so that the later
// one alone meets the failed rebuild.
func TestRiskRebuildReadsALogACheckpointDeletes(t *testing.T) {
	e, s, ev := staleReadSetup(t)
	first, cancel := context.WithCancel(context.Background())
	defer cancel()
	gaveUp, done := make(chan error, 1), make(chan error, 1)
	go func() { _, err := e.Detections(first, DetectionQuery{}); gaveUp <- err }()
	f := &e.risk.feed
	waitFor := func(n int) { // readers waiting for the rebuild
		for waiting := -1; waiting != n; runtime.Gosched() {
			f.dmu.Lock()
			waiting = f.waiters
			f.dmu.Unlock()
		}
	}
	rewriteDuringRead(t, e, s, ev(1), func() {
		go func() { _, err := e.Detections(context.Background(), DetectionQuery{}); done <- err }()
		waitFor(2)
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Fatalf("the first read: %v, want it cancelled", err)
		}
		waitFor(1)
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantRequests(t, e, 2)
}

// TestWriterMissingSegmentIsCorrupt: on the writer, a missing segment is
// stale only if a manifest of a later generation no longer names it. One
// that the store's manifest names, or with the manifest gone too, is
// corruption: an Add that needs it reports ErrCorrupt, not a retry.
func TestWriterMissingSegmentIsCorrupt(t *testing.T) {
	ctx := context.Background()
	e, s, ev := staleReadSetup(t)
	keys, err := s.List(ctx, "days/2025-03-10/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("%v, %v: want the day's segment", keys, err)
	}
	for _, k := range []string{keys[0], manifestKey} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := e.Add(ctx, ev(1)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Add with %s deleted: %v, want ErrCorrupt", k, err)
		}
	}
}
