package insights

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// gatedDayStore is a memory store (whole reads only) whose first Get of a
// key under prefix, once armed, waits until release is closed.
type gatedDayStore struct {
	m       *store.Memory
	prefix  string
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *gatedDayStore) Get(ctx context.Context, k string) ([]byte, error) {
	if strings.HasPrefix(k, s.prefix) && s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return s.m.Get(ctx, k)
}
func (s *gatedDayStore) Put(ctx context.Context, k string, v []byte) error { return s.m.Put(ctx, k, v) }
func (s *gatedDayStore) Delete(ctx context.Context, k string) error        { return s.m.Delete(ctx, k) }
func (s *gatedDayStore) List(ctx context.Context, p string) ([]string, error) {
	return s.m.List(ctx, p)
}

// TestPreloadRacesRetention: an Add of a late event to a day not in
// memory reads its segment holding no lock (preload); a checkpoint
// meanwhile drops the day by retention and deletes its segment. The Add
// must not report the missing segment as corruption (a review found it
// did): preload looks again and the event is applied as on a dropped day.
func TestPreloadRacesRetention(t *testing.T) {
	ctx := context.Background()
	now := atomic.Pointer[time.Time]{}
	t0 := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	now.Store(&t0)
	opts := &Options{Now: func() time.Time { return *now.Load() }, RetentionDays: 5}
	s := &gatedDayStore{m: store.NewMemory(), prefix: "days/2025-02-06/", entered: make(chan struct{}), release: make(chan struct{})}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 2, 6, 9, 0, 0, 0, time.UTC)
	if err := e.Add(ctx, Event{Time: day, Kind: KindSignIn, UserKey: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = Open(ctx, s, opts); err != nil { // the day is not in memory
		t.Fatal(err)
	}
	defer e.Close()
	s.armed.Store(true)
	done := make(chan error, 1)
	go func() { done <- e.Add(ctx, Event{Time: day.Add(time.Hour), Kind: KindSignIn, UserKey: "b"}) }()
	<-s.entered
	t1 := t0.AddDate(0, 0, 2) // 2025-02-06 is now past the horizon
	now.Store(&t1)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	close(s.release)
	if err := <-done; err != nil {
		t.Errorf("Add of an event on a day retention dropped meanwhile: %v", err)
	}
}
