package insights

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestMemoryLimitBoundsTheDaysInMemory queries 60 stored days one by one
// under a limit that holds a few of them: the days in memory stay within
// the limit (but for the one in use), and every answer is the one an
// engine without a limit gives.
func TestMemoryLimitBoundsTheDaysInMemory(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }
	s := store.NewMemory()
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for d := range 60 {
		for u := range 200 {
			evs = append(evs, Event{Time: time.Date(2025, 1, 1+d, 9, 0, u, 0, time.UTC), Kind: KindSignIn,
				UserKey: fmt.Sprintf("u%d", (u*7+d)%500), AppID: fmt.Sprintf("app%d", u%5)})
		}
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ask := func(e *Engine, d int) *Result {
		day := NewDate(2025, 1, 1).AddDays(d)
		res, err := e.Query(ctx, Query{Metric: ActiveUsers, From: day, To: day.AddDays(1), Filter: Eq(DimAppID, "app2"), GroupBy: []Dimension{DimAppID}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	all, err := Open(ctx, s, &Options{Now: now, MemoryLimit: 1 << 40, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var dayBytes int64
	for d := range 60 {
		ask(all, d)
		dayBytes = max(dayBytes, all.Memory().Bytes/int64(d+1))
	}
	limit := 5 * dayBytes
	bounded, err := Open(ctx, s, &Options{Now: now, MemoryLimit: limit, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for d := range 60 {
		if got, want := ask(bounded, d), ask(all, d); !reflect.DeepEqual(got, want) {
			t.Fatalf("day %d: %+v under the limit, %+v without", d, got, want)
		}
		if m := bounded.Memory(); m.Bytes > limit+2*dayBytes {
			t.Fatalf("after day %d: %+v, over the limit of %d by more than a day (%d bytes)", d, m, limit, dayBytes)
		}
	}
	if m := bounded.Memory(); m.Evictions < 50 || m.Days > 7 {
		t.Errorf("%+v: want at least 50 evictions and at most 7 days in memory", m)
	}
	if m := all.Memory(); m.Evictions != 0 || m.Days != 60 {
		t.Errorf("without a limit: %+v, want 60 days and no eviction", m)
	}
	if _, err := Open(ctx, s, &Options{MemoryLimit: -1}); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("MemoryLimit -1: %v, want ErrInvalidQuery", err)
	}
}

// TestEvictionWhileLateEventsArrive adds late events to stored days, one
// day an Add, while readers query every day under a memory limit of one
// byte: days are evicted and read back between an Add's preload and its
// apply (the pins keep them), and no event may be lost.
func TestEvictionWhileLateEventsArrive(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 4, 15, 0, 0, 0, 0, time.UTC) }
	e, err := Open(ctx, store.NewMemory(), &Options{Now: now, MemoryLimit: 1, CheckpointBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const days, first, late = 30, 40, 8 // users a day at first, late rounds
	signIn := func(d int, user string) Event {
		return Event{Time: time.Date(2025, 3, 1+d, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: user, AppID: "app"}
	}
	var evs []Event
	for d := range days {
		for u := range first {
			evs = append(evs, signIn(d, fmt.Sprintf("u%d-%d", d, u)))
		}
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	month := Query{Metric: ActiveUsers, Granularity: Day, From: NewDate(2025, 3, 1), To: NewDate(2025, 3, 31)}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := e.Query(ctx, month); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for r := range late {
		for d := range days {
			if err := e.Add(ctx, signIn(d, fmt.Sprintf("late%d-%d", d, r))); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := e.Query(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Rows {
		if row.Value != first+late {
			t.Errorf("%s: %v active users, want %d", row.Start, row.Value, first+late)
		}
	}
	if m := e.Memory(); m.Evictions == 0 {
		t.Errorf("no day was evicted: %+v", m)
	}
}
