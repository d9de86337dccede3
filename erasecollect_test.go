package insights_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// deleteFails is a memory store whose next fail Deletes fail.
type deleteFails struct {
	*store.Memory
	fail atomic.Int32
}

func (f *deleteFails) Delete(ctx context.Context, key string) error {
	if f.fail.Add(-1) >= 0 {
		return fmt.Errorf("injected: delete %s", key)
	}
	return f.Memory.Delete(ctx, key)
}

// slowCommit is a memory store whose manifest commits reply late, once
// slow is set: a network round trip, during which a replica's own
// refresh loads the manifest its checkpoint just committed.
type slowCommit struct {
	*store.Memory
	slow atomic.Bool
}

func (s *slowCommit) PutLeased(ctx context.Context, holder, key string, value []byte, ttl time.Duration) error {
	err := s.Memory.PutLeased(ctx, holder, key, value, ttl)
	if s.slow.Load() {
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// eraseCollectEvents: the victim and two others on five days.
func eraseCollectEvents() []insights.Event {
	var evs []insights.Event
	for d := 1; d <= 5; d++ {
		for _, u := range []string{"victim", "u1", "u2"} {
			evs = append(evs, insights.Event{Time: time.Date(2025, 1, d, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: u})
		}
	}
	return evs
}

// eraseReturnsCollected erases the victim on e, which must return well
// before a generous deadline (it waited for ever before the fix), and
// then no key of m may hold the victim's key.
func eraseReturnsCollected(t *testing.T, e *insights.Engine, m *store.Memory) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Erase(ctx, "victim"); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	keys, err := m.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if v, _ := m.Get(context.Background(), k); strings.Contains(string(v), "victim") {
			t.Errorf("after Erase returned, %s holds the erased user", k)
		}
	}
}

// TestReplicaEraseAfterAFailedDelete: the lease holder's checkpoint that
// covers the erase record commits, but a Delete of what it replaced fails;
// the holder checkpoints again to collect it (checkpointIfDue), and the
// erasing replica's Erase returns once the store holds the user nowhere.
func TestReplicaEraseAfterAFailedDelete(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	faulty := &deleteFails{Memory: m}
	opts := &insights.Options{Now: durClock, Replica: true, LeaseTTL: time.Hour, RefreshInterval: 20 * time.Millisecond, CheckpointBytes: 1 << 30}
	holder, err := insights.Open(ctx, faulty, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	eraser, err := insights.Open(ctx, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer eraser.Close()
	if err := holder.Add(ctx, eraseCollectEvents()...); err != nil {
		t.Fatal(err)
	}
	if err := holder.Flush(ctx); err != nil { // it holds the lease
		t.Fatal(err)
	}
	faulty.fail.Store(1)
	eraseReturnsCollected(t, eraser, m)
}

// TestReplicaEraseOvertakenByItsRefresh: a lone replica erases; its own
// background refresh loads the manifest of the checkpoint that covers the
// erase record before the checkpoint's step after the commit, which then
// leaves the deletions to the next checkpoint: Erase writes it.
func TestReplicaEraseOvertakenByItsRefresh(t *testing.T) {
	ctx := context.Background()
	s := &slowCommit{Memory: store.NewMemory()}
	e, err := insights.Open(ctx, s, &insights.Options{Now: durClock, Replica: true, LeaseTTL: time.Hour,
		RefreshInterval: 5 * time.Millisecond, CheckpointBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Add(ctx, eraseCollectEvents()...); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.slow.Store(true)
	eraseReturnsCollected(t, e, s.Memory)
}
