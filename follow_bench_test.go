package insights_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// BenchmarkFollowerRefresh measures a follower's Refresh on a directory
// that a writer in the same process writes, holding 30 days of 2,000
// users: with nothing new (the poll of every RefreshInterval), after one
// new log record of 100 events, and after a checkpoint that rewrote one
// day (the follower's days in memory but that one are kept). The writer's
// Add and Flush run with the timer stopped.
func BenchmarkFollowerRefresh(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	ws, err := store.Dir(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	now := fixed(time.Date(2025, 4, 15, 12, 0, 0, 0, time.UTC))
	w, err := insights.Open(ctx, ws, &insights.Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for d := range 30 {
		evs := make([]insights.Event, 2000)
		for u := range evs {
			evs[u] = signIn(fmt.Sprintf("user-%d", u), time.Date(2025, 3, 1+d, 9, u%60, 0, 0, time.UTC))
		}
		if err := w.Add(ctx, evs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	fs, err := store.Dir(dir, &store.DirOptions{Follow: true})
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	f, err := insights.Open(ctx, fs, &insights.Options{Now: now, Follow: true, RefreshInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	month := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 4, 1), Granularity: insights.Day}
	if _, err := f.Query(ctx, month); err != nil { // every day in memory
		b.Fatal(err)
	}
	n := 0
	late := func(k int) []insights.Event {
		evs := make([]insights.Event, k)
		for i := range evs {
			evs[i] = signIn(fmt.Sprintf("late-%d", n), time.Date(2025, 3, 31, 10, 0, 0, 0, time.UTC))
			n++
		}
		return evs
	}
	b.Run("nothing new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := f.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one log record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if err := w.Add(ctx, late(100)...); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := f.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("a checkpoint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if err := w.Add(ctx, late(1)...); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := f.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
