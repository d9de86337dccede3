package insights

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// getGate is a memory store whose blockAt-th Get of a key with prefix
// waits until release is closed, after closing blocked.
type getGate struct {
	*store.Memory
	mu      sync.Mutex
	prefix  string
	calls   int
	blockAt int
	blocked chan struct{}
	release chan struct{}
}

func (s *getGate) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	hit := false
	if s.prefix != "" && strings.HasPrefix(key, s.prefix) {
		s.calls++
		hit = s.calls == s.blockAt
	}
	s.mu.Unlock()
	if hit {
		close(s.blocked)
		<-s.release
	}
	return s.Memory.Get(ctx, key)
}

// TestRiskListsChangedDuringARebuild (review S3): SetRiskLists returns,
// then an event from a newly listed address is added, while the rebuild
// is reading an earlier day: the event must be checked against the new
// lists (the rebuild starts again with them), as a rescan does. Before
// the fix the rebuild read the event with the old lists and the fold
// skipped it.
func TestRiskListsChangedDuringARebuild(t *testing.T) {
	ctx := context.Background()
	s := &getGate{Memory: store.NewMemory()}
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return now }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx,
		Event{Time: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "a", IP: "1.1.1.1", RequestID: "r1"},
		Event{Time: time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "b", IP: "1.1.1.2", RequestID: "r2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = Open(ctx, s, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s.mu.Lock()
	// The first Get: store.Memory reads ranges, so the day's index is read
	// by ranges and the whole segment only for its log, by the rebuild.
	s.prefix, s.blockAt, s.blocked, s.release = "days/2025-03-01/", 1, make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() { _, err := e.Detections(ctx, DetectionQuery{}); done <- err }()
	select {
	case <-s.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("rebuild never read day 1's log")
	}
	e.SetRiskLists(nil, []netip.Prefix{netip.MustParsePrefix("5.5.5.0/24")})
	if err := e.Add(ctx, Event{Time: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "c", IP: "5.5.5.5", RequestID: "r3"}); err != nil {
		t.Fatal(err)
	}
	close(s.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	count := func() int {
		p, err := e.Detections(ctx, DetectionQuery{Types: []DetectionType{DetectMaliciousIP}})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Detections)
	}
	live := count()
	if err := e.RescanRisk(ctx, Date{}, Date{}); err != nil {
		t.Fatal(err)
	}
	rescan := count()
	t.Logf("maliciousIP detections: live %d, after RescanRisk %d", live, rescan)
	if live != rescan {
		t.Errorf("event added after SetRiskLists returned was checked against the old lists: live %d, rescan %d", live, rescan)
	}
}
