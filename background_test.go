package insights

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/faultfs"
	"github.com/insightslab/insights/store"
)

// gatedStore holds every segment Put until its gate opens; while fail
// is set, the held Puts then fail (faultfs.ErrInjected).
type gatedStore struct {
	*store.Memory
	gate    chan struct{}
	blocked chan struct{} // receives when a Put first waits
	once    sync.Once
	fail    atomic.Bool
}

func (s *gatedStore) Put(ctx context.Context, key string, v []byte) error {
	if strings.HasPrefix(key, "days/") {
		s.once.Do(func() { close(s.blocked) })
		<-s.gate
		if s.fail.Load() {
			return faultfs.ErrInjected
		}
	}
	return s.Memory.Put(ctx, key, v)
}

// gatedNow is the clock of startGatedCheckpoint's engine.
func gatedNow() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }

// gatedSignIn is a sign-in by user on day of February 2025, with a
// request id of its own.
func gatedSignIn(day int, user string) Event {
	return Event{Time: time.Date(2025, 2, day, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: user, AppID: "app",
		RequestID: fmt.Sprintf("%s-%d", user, day)}
}

// startGatedCheckpoint opens an engine on a gatedStore, its clock at
// gatedNow, and adds sign-ins by "a" on February 1 and 2 and by 60 users
// on February 3: over CheckpointBytes of log, so a checkpoint starts. It
// returns once the checkpoint's first segment Put waits.
func startGatedCheckpoint(t *testing.T) (*Engine, *gatedStore, func() time.Time) {
	t.Helper()
	s := &gatedStore{Memory: store.NewMemory(), gate: make(chan struct{}), blocked: make(chan struct{})}
	e, err := Open(context.Background(), s, &Options{Now: gatedNow, CheckpointBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	evs := []Event{gatedSignIn(1, "a"), gatedSignIn(2, "a")}
	for i := range 60 {
		evs = append(evs, gatedSignIn(3, "x"+strings.Repeat("y", i)))
	}
	if err := e.Add(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	<-s.blocked
	return e, s, gatedNow
}

// TestAddsGoOnWhileACheckpointWrites blocks a checkpoint in the middle of
// writing its segments: Adds and queries must go on meanwhile, and an
// Add to a day the checkpoint is writing must survive the checkpoint's
// commit, a Flush that drops the log, and a reopen.
func TestAddsGoOnWhileACheckpointWrites(t *testing.T) {
	ctx := context.Background()
	e, s, now := startGatedCheckpoint(t)
	signIn := gatedSignIn
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
