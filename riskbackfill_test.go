package insights

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// rebuildCounter counts the engine's "rebuilt from the event log" records.
type rebuildCounter struct{ n *atomic.Int64 }

func (h rebuildCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h rebuildCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "rebuilt from the event log") {
		h.n.Add(1)
	}
	return nil
}
func (h rebuildCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h rebuildCounter) WithGroup(string) slog.Handler      { return h }

// TestRiskBackfillRebuildsOnce (review S4): after a risk read, a backfill
// of last month, one event per Add, with no read meanwhile, costs no
// rebuild per late event: the first too-late event leaves the feed
// dormant, and the next read rebuilds once; its detections are a fresh
// engine's (the backfill holds a brute force).
func TestRiskBackfillRebuildsOnce(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64
	now := time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return now }, Logger: slog.New(rebuildCounter{&n})}
	e, err := Open(ctx, store.NewMemory(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	evs := []Event{{Time: now.Add(-time.Hour), Kind: KindSignIn, UserKey: "x", RequestID: "today"}}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Detections(ctx, DetectionQuery{}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		ev := Event{Time: t0.Add(time.Duration(i) * 20 * time.Second), Kind: KindSignIn, UserKey: fmt.Sprint("u", i%3),
			ErrorCode: 50126, RequestID: fmt.Sprint("b", i)}
		evs = append(evs, ev)
		if err := e.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the detector's goroutine folds meanwhile
	}
	time.Sleep(50 * time.Millisecond)
	if got := n.Load(); got > 1 {
		t.Fatalf("%d rebuilds from the log during a backfill with no risk read; want the first read's only", got)
	}
	got, err := e.Detections(ctx, DetectionQuery{Limit: MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Open(ctx, store.NewMemory(), &Options{Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if err := ref.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	want, err := ref.Detections(ctx, DetectionQuery{Limit: MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Detections) == 0 || fmt.Sprint(got.Detections) != fmt.Sprint(want.Detections) {
		t.Fatalf("after the backfill, detections\n%v\nwant a fresh engine's\n%v", got.Detections, want.Detections)
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("%d rebuilds, want 2: the first read's and the one after the backfill", got)
	}
}
