package insights

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// gatedStore holds every segment Put until its gate opens.
type gatedStore struct {
	*store.Memory
	gate    chan struct{}
	blocked chan struct{} // receives when a Put first waits
	once    sync.Once
}

func (s *gatedStore) Put(ctx context.Context, key string, v []byte) error {
	if strings.HasPrefix(key, "days/") {
		s.once.Do(func() { close(s.blocked) })
		<-s.gate
	}
	return s.Memory.Put(ctx, key, v)
}

// TestAddsGoOnWhileACheckpointWrites blocks a checkpoint in the middle of
// writing its segments: Adds and queries must go on meanwhile, and an
// Add to a day the checkpoint is writing must survive the checkpoint's
// commit, a Flush that drops the log, and a reopen.
func TestAddsGoOnWhileACheckpointWrites(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
	s := &gatedStore{Memory: store.NewMemory(), gate: make(chan struct{}), blocked: make(chan struct{})}
	e, err := Open(ctx, s, &Options{Now: now, CheckpointBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(day int, user string) Event {
		return Event{Time: time.Date(2025, 2, day, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: user, AppID: "app"}
	}
	first := []Event{signIn(1, "a"), signIn(2, "a")}
	for i := range 60 { // over CheckpointBytes of log: the Add starts a checkpoint
		first = append(first, signIn(3, "x"+strings.Repeat("y", i)))
	}
	if err := e.Add(ctx, first...); err != nil {
		t.Fatal(err)
	}
	<-s.blocked
	for i, user := range []string{"b", "c", "d"} {
		if err := e.Add(ctx, signIn(1+i%2, user)); err != nil {
			t.Fatalf("Add while a checkpoint writes: %v", err)
		}
	}
	res, err := e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 2, 1), To: NewDate(2025, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := []float64{res.Rows[0].Value, res.Rows[1].Value}; !slices.Equal(got, []float64{3, 2}) {
		t.Errorf("daily active users while a checkpoint writes: %v, want [3 2]", got)
	}
	close(s.gate)
	AwaitCheckpoint(e)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if logs, _ := s.List(ctx, "wal/"); len(logs) != 0 {
		t.Fatalf("log records after Flush: %q", logs)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, s.Memory, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 2, 1), To: NewDate(2025, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := []float64{res.Rows[0].Value, res.Rows[1].Value}; !slices.Equal(got, []float64{3, 2}) {
		t.Errorf("daily active users after reopening: %v, want [3 2]", got)
	}
}
