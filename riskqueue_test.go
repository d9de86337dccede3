package insights

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestRiskQueueIsBounded holds the detector so that it folds nothing: Add
// returns while observations queue, then, with riskQueueCap of them
// queued, waits (here until its context ends) rather than queue more;
// once the detector goes on, Add and a read-your-writes risk read do.
func TestRiskQueueIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Detections(ctx, DetectionQuery{}); err != nil { // starts the detector
		t.Fatal(err)
	}
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	batch := func(size int) []Event {
		evs := make([]Event, size)
		for i := range evs {
			n++
			evs[i] = Event{Time: t0.Add(time.Duration(n) * 100 * time.Millisecond), Kind: KindSignIn, UserKey: fmt.Sprint("u", n%50),
				AppID: "portal", ErrorCode: 50126, RequestID: fmt.Sprint("r", n)}
		}
		return evs
	}
	f := &e.risk.feed
	queued := func() int { f.qmu.Lock(); defer f.qmu.Unlock(); return len(f.queue) }
	f.dmu.Lock() // the detector stops at its next fold
	held := true
	defer func() {
		if held {
			f.dmu.Unlock()
		}
	}()
	for queued() < riskQueueCap {
		if err := e.Add(ctx, batch(1000)...); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := e.Add(short, batch(1)...); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Add with %d observations queued: %v, want it to wait until its context ends", queued(), err)
	}
	f.dmu.Unlock()
	held = false
	if err := e.Add(ctx, batch(1)...); err != nil {
		t.Fatal(err)
	}
	p, err := e.Detections(ctx, DetectionQuery{Types: []DetectionType{DetectBruteForce}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Detections) == 0 {
		t.Fatal("no brute force among the queued failures: the read did not wait for them")
	}
}
