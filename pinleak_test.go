package insights

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// flakyStore is a memory store (whole reads only) that, while failing is
// set, fails every third Put of a log record and every third Get of a
// day segment.
type flakyStore struct {
	m       *store.Memory
	failing atomic.Bool
	puts    atomic.Int64
	gets    atomic.Int64
}

var errFlaky = errors.New("flaky store")

func (s *flakyStore) Get(ctx context.Context, k string) ([]byte, error) {
	if s.failing.Load() && strings.HasPrefix(k, "days/") && s.gets.Add(1)%3 == 0 {
		return nil, errFlaky
	}
	return s.m.Get(ctx, k)
}
func (s *flakyStore) Put(ctx context.Context, k string, v []byte) error {
	if s.failing.Load() && strings.HasPrefix(k, "wal/") && s.puts.Add(1)%3 == 0 {
		return errFlaky
	}
	return s.m.Put(ctx, k, v)
}
func (s *flakyStore) Delete(ctx context.Context, k string) error { return s.m.Delete(ctx, k) }
func (s *flakyStore) List(ctx context.Context, p string) ([]string, error) {
	return s.m.List(ctx, p)
}

// pinsHeld returns the events pinned to days (preload) and those counted
// as waiting for an absent day, which must both be 0 once no Add runs.
func pinsHeld(e *Engine) (pinned, absent int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ds := range e.days {
		pinned += ds.pins
	}
	for _, a := range e.absent {
		absent += a.events
	}
	return pinned, absent
}

// TestNoPinOutlivesItsAdd: concurrent Adds to stored days that the memory
// limit evicts, to days not created yet and as copies, while the store
// fails some log writes and segment reads, leave no day pinned once they
// return, failed or not: a pin left behind would keep its day in memory
// for good, above the limit.
func TestNoPinOutlivesItsAdd(t *testing.T) {
	ctx := context.Background()
	s := &flakyStore{m: store.NewMemory()}
	t0 := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return t0 }, MemoryLimit: 1}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ev := func(g, i int) Event {
		return Event{Time: t0.AddDate(0, 0, -(i % 15)), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%40),
			RequestID: fmt.Sprintf("r%d-%d", g, i%25)}
	}
	for i := range 30 { // stored days, then evicted
		if err := e.Add(ctx, ev(0, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.failing.Store(true)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 30 {
				batch := []Event{ev(g, round), ev(g, round+7), ev(g, round+16)}
				if round%5 == 0 { // a day no Add created yet
					batch = append(batch, Event{Time: t0.AddDate(0, 0, -20-round/5), Kind: KindSignIn, UserKey: "late"})
				}
				if err := e.Add(ctx, batch...); err != nil {
					failed.Add(1)
				}
				if round%10 == 9 {
					_ = e.Flush(ctx) // may fail: the store is flaky
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() == 0 {
		t.Fatal("no Add failed: the flaky store did not fail any")
	}
	if pinned, absent := pinsHeld(e); pinned != 0 || absent != 0 {
		t.Fatalf("after every Add returned (%d failed), %d events still pin their day and %d wait for an absent one", failed.Load(), pinned, absent)
	}
}
