package insights

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestNewDayHasTheRoomOfTheDayBefore: the builder of a day opened while
// the day before is open has room for as many log entries, record bytes,
// combinations and request ids as that day holds, and then holds only its
// own events: what they index and log is as if it had started empty.
func TestNewDayHasTheRoomOfTheDayBefore(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return day1.AddDate(0, 0, 2) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var evs []Event
	for i := range 300 {
		ev := Event{Time: day1.Add(time.Duration(i) * time.Minute), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%70),
			Status: StatusSuccess, AppID: fmt.Sprintf("app%d", i%9), RequestID: fmt.Sprintf("r%d", i), City: "Oslo"}
		evs = append(evs, ev)
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	next := evs[0]
	next.Time, next.RequestID = day1.AddDate(0, 0, 1), "next"
	if err := e.Add(ctx, next); err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	prev, b := e.days[dayOf(day1, time.UTC)].open, e.days[dayOf(next.Time, time.UTC)].open
	if cap(b.log.times) < prev.log.len() || cap(b.log.users) < prev.log.len() || cap(b.log.combos) < prev.log.len() ||
		cap(b.log.offs) < prev.log.len()+1 || cap(b.log.recs) < len(prev.log.recs) {
		t.Errorf("log room: %d entries, %d record bytes; the day before holds %d and %d",
			cap(b.log.times), cap(b.log.recs), prev.log.len(), len(prev.log.recs))
	}
	if cap(b.combos) < len(prev.combos) || cap(b.counts) < len(prev.combos) || cap(b.users) < len(prev.combos) {
		t.Errorf("room for %d combinations; the day before holds %d", cap(b.combos), len(prev.combos))
	}
	if b.log.len() != 1 || len(b.log.offs) != 2 || len(b.combos) != 1 || len(b.seen) != 1 || b.active.GetCardinality() != 1 ||
		b.counts[0] != 1 || len(b.users[0].ids) != 1 {
		t.Errorf("the new day holds %d entries, %d offsets, %d combinations, %d request ids, %d active users",
			b.log.len(), len(b.log.offs), len(b.combos), len(b.seen), b.active.GetCardinality())
	}
}
