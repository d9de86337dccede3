package insights

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestAddsAndQueriesGoOnWhileACheckpointSeals blocks a checkpoint after
// it sealed its latest day, with the two before still frozen for it to
// seal: an Add to a frozen day must go on, deduplicated against the
// frozen builder; a query of another day must go on without touching the
// frozen ones; a query of a frozen day must see the Add; and everything
// must survive the checkpoint, a Flush and a reopen.
func TestAddsAndQueriesGoOnWhileACheckpointSeals(t *testing.T) {
	ctx := context.Background()
	e, s, now := startGatedCheckpoint(t) // day 3 sealed and being written; days 1 and 2 frozen
	signIn := gatedSignIn
	deferred := func(day int) int {
		t.Helper()
		e.mu.RLock()
		defer e.mu.RUnlock()
		j := e.days[dayOf(time.Date(2025, 2, day, 0, 0, 0, 0, time.UTC), time.UTC)].sealing
		if j == nil {
			t.Fatalf("2025-02-%02d is not frozen", day)
		}
		return len(j.deferred)
	}
	deferred(1)
	deferred(2)
	add := func(want int, evs ...Event) {
		t.Helper()
		if n, err := e.AddCount(ctx, evs...); err != nil || n != want {
			t.Fatalf("AddCount = %d, %v; want %d", n, err, want)
		}
	}
	add(2, signIn(2, "b"), signIn(2, "a"), signIn(1, "c")) // a's on day 2 is a copy
	if got := []int{deferred(1), deferred(2)}; !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("events kept aside on the frozen days: %v, want [1 1]", got)
	}
	dau := func(when string, from, to int, want ...float64) {
		t.Helper()
		res, err := e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 2, from), To: NewDate(2025, 2, to)})
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		for _, r := range res.Rows {
			got = append(got, r.Value)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: daily active users from 2025-02-%02d to %02d: %v, want %v", when, from, to, got, want)
		}
	}
	dau("while the checkpoint seals", 3, 4, 60)
	deferred(1) // the query of day 3 left them frozen
	deferred(2)
	dau("while the checkpoint seals", 1, 3, 2, 2) // unfreezes them
	add(0, signIn(2, "b"), signIn(1, "c"))
	close(s.gate)
	AwaitCheckpoint(e)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dau("after the checkpoint", 1, 4, 2, 2, 60)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, s.Memory, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dau("after reopening", 1, 4, 2, 2, 60)
	add(0, signIn(2, "b"), signIn(2, "a"), signIn(1, "c"))
}

// TestFrozenDayKeepsEventsAsideInOrder: events added to a frozen day come
// back, added aside (addAside, each once) and then at the unfreeze, at the
// log positions add returned (the risk feed's references to them), after
// the frozen builder's; the frozen builder is sealed as it was when
// frozen; and a copy of an event kept aside, or of one in the frozen
// builder, is refused, before, between and after the additions.
func TestFrozenDayKeepsEventsAsideInOrder(t *testing.T) {
	ds := &dayState{open: newDayBuilder()}
	add := func(uid uint32, rid string) (uint32, bool) {
		if !ds.firstCopy(rid) {
			return 0, false
		}
		return ds.add(combo{}, uid, true, true, int64(uid), rid, rid), true
	}
	for uid, rid := range []string{"r0", "r1"} {
		if seq, ok := add(uint32(uid), rid); !ok || seq != uint32(uid) {
			t.Fatalf("add before the freeze: %d, %v; want %d, true", seq, ok, uid)
		}
	}
	j := ds.freeze()
	for _, c := range []struct {
		uid  uint32
		rid  string
		seq  uint32
		kept bool
	}{{2, "r2", 2, true}, {9, "r1", 0, false}, {3, "r3", 3, true}, {9, "r2", 0, false}} {
		if seq, ok := add(c.uid, c.rid); ok != c.kept || seq != c.seq {
			t.Errorf("add of %s to the frozen day: %d, %v; want %d, %v", c.rid, seq, ok, c.seq, c.kept)
		}
	}
	if n := j.b.log.len(); n != 2 {
		t.Fatalf("the frozen builder holds %d events, want 2", n)
	}
	j.sealed()
	ds.publish()
	j.addAside(j.deferred[:1]) // as the checkpoint does holding no lock: r2's
	j.addAside(j.deferred[:1]) // again: nothing more
	if ds.sealing == nil || ds.sealed != j.d || j.d.ix.EventCount() != 2 || !ds.dirty {
		t.Fatalf("after a chunk: frozen %v, sealed %v with %d events, dirty %v; want frozen, the frozen builder's 2, dirty",
			ds.sealing != nil, ds.sealed == j.d, j.d.ix.EventCount(), ds.dirty)
	}
	if seq, ok := add(4, "r4"); !ok || seq != 4 {
		t.Errorf("add of r4 between chunks: %d, %v; want 4, true", seq, ok)
	}
	for _, rid := range []string{"r2", "r3"} {
		if _, ok := add(9, rid); ok {
			t.Errorf("a copy of %s counted between chunks", rid)
		}
	}
	if ds.unfreeze(false); ds.sealing != nil {
		t.Fatal("unfreeze of every event kept aside left the builder frozen")
	}
	if got := ds.open.log.users; !slices.Equal(got, []uint32{0, 1, 2, 3, 4}) {
		t.Errorf("the day's log after the unfreeze: users %v, want [0 1 2 3 4]", got)
	}
	for _, rid := range []string{"r0", "r3", "r4"} {
		if _, ok := add(7, rid); ok {
			t.Errorf("a copy of %s counted after the unfreeze", rid)
		}
	}
}

// addingAside reports, holding the read lock, whether day n is still
// frozen for j, whether a checkpoint is adding j's events kept aside to
// its builder (addAside holds j.mu; nothing else takes it without the
// write lock while no query or erasure runs), and how many it added.
func addingAside(e *Engine, n int32, j *sealJob) (frozen, adding bool, merged int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if ds := e.days[n]; ds == nil || ds.sealing != j {
		return false, false, 0
	}
	if !j.mu.TryLock() {
		return true, true, 0
	}
	defer j.mu.Unlock()
	return true, false, j.merged
}

// TestManyEventsKeptAsideComeBack: more than unfreezeChunk events kept
// aside for the frozen days, the checkpoint adds them back holding no lock
// (addAside) while Adds to those days and queries of them go on: every
// event counts once, as an engine that never froze a day counts them,
// before and after a reopen. The queries start only once the checkpoint
// is adding day 2's events aside, or added some, or unfroze the day
// itself: whatever they unfreeze, addAside ran for day 2 first.
func TestManyEventsKeptAsideComeBack(t *testing.T) {
	ctx := context.Background()
	e, s, now := startGatedCheckpoint(t) // day 3 sealed and being written; days 1 and 2 frozen
	want, err := Open(ctx, store.NewMemory(), &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	evs := []Event{gatedSignIn(1, "a"), gatedSignIn(2, "a")}
	for i := range 60 {
		evs = append(evs, gatedSignIn(3, "x"+strings.Repeat("y", i)))
	}
	batch := func(from, n int) []Event {
		var b []Event
		for i := from; i < from+n; i++ {
			b = append(b, gatedSignIn(1+i%2, fmt.Sprintf("u%d", i/3))) // users on both days, a copy now and then
		}
		return b
	}
	add := func(b []Event) error {
		for _, x := range []*Engine{e, want} {
			if err := x.Add(ctx, b...); err != nil {
				return err
			}
		}
		return nil
	}
	if err := want.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := add(batch(0, 6000)); err != nil {
		t.Fatal(err)
	}
	day2 := dayOf(time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC), time.UTC)
	e.mu.RLock()
	j := e.days[day2].sealing
	kept := len(j.deferred)
	e.mu.RUnlock()
	if kept <= unfreezeChunk {
		t.Fatalf("%d events kept aside on 2025-02-02, want more than %d", kept, unfreezeChunk)
	}
	close(s.gate)
	adds := make(chan error)
	go func() {
		var err error
		for i := range 5 {
			if err = add(batch(6000+i*500, 500)); err != nil {
				break
			}
		}
		adds <- err
	}()
	for {
		frozen, adding, merged := addingAside(e, day2, j)
		if !frozen || adding || merged > 0 {
			break
		}
		runtime.Gosched()
	}
	queries := make(chan error)
	go func() {
		var err error
		for range 20 {
			if _, err = e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 2, 1), To: NewDate(2025, 2, 4)}); err != nil {
				break
			}
		}
		queries <- err
	}()
	for _, c := range []chan error{adds, queries} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	AwaitCheckpoint(e)
	same := func(when string, x *Engine) {
		t.Helper()
		for _, m := range []Metric{ActiveUsers, Requests} {
			q := Query{Metric: m, From: NewDate(2025, 2, 1), To: NewDate(2025, 2, 4)}
			got, err := x.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			exp, err := want.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Rows) != fmt.Sprint(exp.Rows) {
				t.Errorf("%s: %s %v, want %v", when, m, got.Rows, exp.Rows)
			}
		}
	}
	same("after the checkpoint", e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, s.Memory, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	same("after reopening", again)
}
