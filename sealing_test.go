package insights

import (
	"context"
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
	now := func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
	s := &gatedStore{Memory: store.NewMemory(), gate: make(chan struct{}), blocked: make(chan struct{})}
	e, err := Open(ctx, s, &Options{Now: now, CheckpointBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(day int, user string) Event {
		return Event{Time: time.Date(2025, 2, day, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: user, AppID: "app",
			RequestID: user + "-" + string(rune('0'+day))}
	}
	first := []Event{signIn(1, "a"), signIn(2, "a")}
	for i := range 60 { // over CheckpointBytes of log: the Add starts a checkpoint
		first = append(first, signIn(3, "x"+strings.Repeat("y", i)))
	}
	if err := e.Add(ctx, first...); err != nil {
		t.Fatal(err)
	}
	<-s.blocked // day 3 sealed and being written; days 1 and 2 frozen
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
	if e, err = Open(ctx, s.Memory, &Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dau("after reopening", 1, 4, 2, 2, 60)
	add(0, signIn(2, "b"), signIn(2, "a"), signIn(1, "c"))
}
