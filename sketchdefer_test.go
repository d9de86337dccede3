package insights

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestDeferredSketches: after a reopen the catalog's day sketches stay
// undecoded until the first approximate query, and what happens to them
// meanwhile (sign-ins on their days and on new ones, a late deletion that
// makes some stale, a checkpoint that saves them merged with their
// undecoded bytes, another reopen) leaves approximate answers equal to the
// exact ones. Forty users or fewer a day: the sparse sketches count
// exactly.
func TestDeferredSketches(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	opts := &Options{Now: func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }}
	open := func() *Engine {
		t.Helper()
		e, err := Open(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	signIns := func(e *Engine, users []int, days ...int) {
		t.Helper()
		var evs []Event
		for _, u := range users {
			for _, d := range days {
				evs = append(evs, Event{Time: time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: fmt.Sprintf("u%02d", u)})
			}
		}
		if err := e.Add(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	users := func(from, to int) []int {
		var u []int
		for i := from; i < to; i++ {
			u = append(u, i)
		}
		return u
	}
	check := func(e *Engine, when string) {
		t.Helper()
		for _, g := range []Granularity{Day, Week, Month, Total} {
			q := Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 2, 1), Granularity: g}
			exact, err := e.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			q.Approximate = true
			approx, err := e.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range exact.Rows {
				if a := approx.Rows[i]; a.Value != r.Value {
					t.Errorf("%s, %s from %s: approximately %v, exactly %v", when, g, r.Start, a.Value, r.Value)
				}
			}
		}
	}
	deferred := func(e *Engine, when string) {
		t.Helper()
		e.mu.RLock()
		defer e.mu.RUnlock()
		if !e.sketches.lazy || len(e.sketches.raw) == 0 {
			t.Fatalf("%s: sketches lazy %t with %d undecoded days; want them deferred", when, e.sketches.lazy, len(e.sketches.raw))
		}
	}

	e := open()
	signIns(e, users(0, 20), 3, 10, 12)
	signIns(e, users(50, 60), 25) // the 25th is written to no more, and is not stale: deferred until the end
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open()
	deferred(e, "reopened")
	signIns(e, users(15, 35), 3, 12, 20) // on deferred days (new users and old ones) and a new day
	if err := e.Add(ctx, Event{Time: time.Date(2025, 1, 5, 9, 0, 0, 0, time.UTC), Kind: KindUserDeleted, UserKey: "u01"}); err != nil {
		t.Fatal(err) // active on the 10th and 12th, deleted before: those days are stale
	}
	if err := e.Flush(ctx); err != nil { // the catalog merges the deferred bytes with the insertions
		t.Fatal(err)
	}
	deferred(e, "after a checkpoint")
	check(e, "reopened, written to, checkpointed")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open()
	defer e.Close()
	deferred(e, "reopened again")
	signIns(e, users(30, 40), 10)
	check(e, "reopened again")
}

// TestDeferredSketchCorrupt: a catalog whose sketch bytes cannot be
// decoded opens (exact queries answer), and the first approximate query
// fails with ErrCorrupt naming the catalog.
func TestDeferredSketchCorrupt(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	opts := &Options{Now: func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, Event{Time: time.Date(2025, 1, 3, 12, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.sketches.deferDay(NewDate(2025, 1, 4).num(), []byte{0xff, 0x01, 0x02}, "") // written back as they are
	cat, err := e.encodeCatalog()
	key := e.catalog
	e.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key, cat); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, s, opts)
	if err != nil {
		t.Fatalf("Open: %v; want the sketches' bytes read at the first approximate query", err)
	}
	defer e.Close()
	q := Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 2, 1), Granularity: Total}
	if res, err := e.Query(ctx, q); err != nil || res.Rows[0].Value != 1 {
		t.Fatalf("exact query: %v, %v", res, err)
	}
	q.Approximate = true
	if _, err := e.Query(ctx, q); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "2025-01-04") {
		t.Fatalf("approximate query: %v; want ErrCorrupt naming %s and the day", err, key)
	}
}
