package insights

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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

// TestDeferredSketchCorrupt: a catalog whose sketch bytes for a day do
// not decode opens; the day's sketch is rebuilt from its exact set, with
// a warning in the log, when a checkpoint must write it (the day was
// written to since) and when the first approximate query needs it; every
// checkpoint goes on succeeding, and approximate answers equal exact ones.
func TestDeferredSketchCorrupt(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	var logged bytes.Buffer
	opts := &Options{Now: func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	on := func(day int, user string) Event {
		return Event{Time: time.Date(2025, 1, day, 12, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: user}
	}
	if err := e.Add(ctx, on(3, "u"), on(4, "u"), on(4, "w")); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	for _, n := range []int32{NewDate(2025, 1, 3).num(), NewDate(2025, 1, 4).num()} {
		delete(e.sketches.day, n)
		e.sketches.deferDay(n, []byte{0xff, 0x01, 0x02}, "") // written back as they are
	}
	gen := keyGen(e.catalog)
	cat, users, _ := testCatalog(t, e, gen)
	e.mu.Unlock()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	putCatalog(t, s, gen, cat, users)
	e, err = Open(ctx, s, opts)
	if err != nil {
		t.Fatalf("Open: %v; want the sketches' bytes read when needed", err)
	}
	defer e.Close()
	if err := e.Add(ctx, on(3, "v")); err != nil { // the 3rd is written to: the checkpoint needs its sketch
		t.Fatal(err)
	}
	for i := range 2 {
		if err := e.Flush(ctx); err != nil {
			t.Fatalf("checkpoint %d: %v", i, err)
		}
	}
	if !strings.Contains(logged.String(), "2025-01-03") || strings.Contains(logged.String(), "2025-01-04") {
		t.Fatalf("log %q: want a warning for the 3rd only, before the first approximate query", logged.String())
	}
	for _, approximate := range []bool{false, true} {
		q := Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 2, 1), Granularity: Day, Approximate: approximate}
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatalf("approximately %t: %v", approximate, err)
		}
		if got := [2]float64{res.Rows[2].Value, res.Rows[3].Value}; got != [2]float64{2, 2} {
			t.Fatalf("approximately %t: the 3rd and 4th %v, want 2 each", approximate, got)
		}
	}
	if !strings.Contains(logged.String(), "2025-01-04") {
		t.Fatalf("log %q: want a warning for the 4th after the approximate query", logged.String())
	}
}
