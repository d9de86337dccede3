package insights

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestNewDayHasTheRoomOfTheDayBefore: the builder of a day opened while
// the day before is open, or frozen by a checkpoint (a history imported
// in order: the checkpoint often seals the day that the next follows),
// has room for as many log entries, record bytes, combinations and
// request ids as that day holds (as it was frozen:
// TestNewDayBesideAFrozenDayHasItsRoomAsFrozen), and then holds only its
// own events: what they index and log is as if it had started empty.
func TestNewDayHasTheRoomOfTheDayBefore(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		t.Run(fmt.Sprintf("the day before frozen %t", frozen), func(t *testing.T) {
			ctx := context.Background()
			day1 := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
			e := openDaysBefore(t, day1)
			var evs []Event
			for i := range 300 {
				ev := Event{Time: day1.Add(time.Duration(i) * time.Minute), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%70),
					Status: StatusSuccess, AppID: fmt.Sprintf("app%d", i%9), RequestID: fmt.Sprintf("r%d", i), City: "Oslo"}
				evs = append(evs, ev)
			}
			if err := e.Add(ctx, evs...); err != nil {
				t.Fatal(err)
			}
			e.mu.Lock()
			ds := e.days[dayOf(day1, time.UTC)]
			if frozen {
				ds.freeze() // as a checkpoint does
			}
			e.mu.Unlock()
			next := addNextDay(t, e, evs[0])
			e.mu.Lock()
			defer e.mu.Unlock()
			defer ds.unfreeze(true)
			prev, b := ds.open, e.days[next].open
			if cap(b.log.times) < prev.log.len() || cap(b.log.users) < prev.log.len() || cap(b.log.combos) < prev.log.len() ||
				cap(b.log.offs) < prev.log.len()+1 || recordRoom(&b.log) < prev.log.recordBytes() {
				t.Errorf("log room: %d entries, %d record bytes; the day before holds %d and %d",
					cap(b.log.times), recordRoom(&b.log), prev.log.len(), prev.log.recordBytes())
			}
			if b.index.Room() < prev.index.Len() {
				t.Errorf("room for %d combinations; the day before holds %d", b.index.Room(), prev.index.Len())
			}
			if b.log.len() != 1 || len(b.log.offs) != 2 || b.index.Len() != 1 || len(b.seen) != 1 || b.index.Active().GetCardinality() != 1 {
				t.Errorf("the new day holds %d entries, %d offsets, %d combinations, %d request ids, %d active users",
					b.log.len(), len(b.log.offs), b.index.Len(), len(b.seen), b.index.Active().GetCardinality())
			}
		})
	}
}

// TestNewDayBesideAFrozenDayHasItsRoomAsFrozen: the room a new day takes
// beside a frozen day is that day's as it was frozen, not its builder as
// the events kept aside grow it once sealed (addAside, holding no engine
// lock: reading the builder then would race with it).
func TestNewDayBesideAFrozenDayHasItsRoomAsFrozen(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	e := openDaysBefore(t, day1)
	evs := busyDay(day1)
	if err := e.Add(ctx, evs[:300]...); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	ds := e.days[dayOf(day1, time.UTC)]
	j := ds.freeze() // as a checkpoint does
	e.mu.Unlock()
	if err := e.Add(ctx, evs[300:]...); err != nil { // kept aside
		t.Fatal(err)
	}
	j.sealed()
	e.mu.Lock()
	ds.publish()
	pending := j.deferred
	e.mu.Unlock()
	j.addAside(pending) // the frozen builder grows, holding no engine lock
	next := addNextDay(t, e, evs[0])
	e.mu.Lock()
	defer e.mu.Unlock()
	defer ds.unfreeze(true)
	grown, b := j.b, e.days[next].open
	if grown.log.len() != len(evs) || len(grown.log.chunks[0]) <= j.room.chunkBytes {
		t.Fatalf("the frozen builder did not grow: %d entries, first chunk %d bytes; %d at the freeze", grown.log.len(), len(grown.log.chunks[0]), j.room.chunkBytes)
	}
	if cap(b.log.times) < 300 || cap(b.log.times) >= grown.log.len() || recordRoom(&b.log) >= len(grown.log.chunks[0]) {
		t.Errorf("room for %d entries and %d record bytes: the day before as grown (%d, %d), not as frozen (300, %d)",
			cap(b.log.times), recordRoom(&b.log), grown.log.len(), len(grown.log.chunks[0]), j.room.chunkBytes)
	}
}

// openDaysBefore opens an engine on a new memory store, its clock two
// days after day (day and the next are not ahead of it), closed when t
// ends.
func openDaysBefore(t *testing.T, day time.Time) *Engine {
	t.Helper()
	e, err := Open(context.Background(), store.NewMemory(), &Options{Now: func() time.Time { return day.AddDate(0, 0, 2) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// addNextDay adds ev to e as on the day after its own (UTC), with request
// id "next", and returns that day's number.
func addNextDay(t *testing.T, e *Engine, ev Event) int32 {
	t.Helper()
	ev.Time, ev.RequestID = ev.Time.AddDate(0, 0, 1), "next"
	if err := e.Add(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	return dayOf(ev.Time, time.UTC)
}

// TestDayAheadOfTheClockStartsSmall: one event on the day after the
// clock's, beside a large open day, opens a builder of the default size,
// not with that day's room, which MemoryLimit would not see (a review
// measured 55 MB held for one event after 300,000).
func TestDayAheadOfTheClockStartsSmall(t *testing.T) {
	ctx := context.Background()
	today := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return today.Add(20 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	evs := busyDay(today)
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	early := evs[0]
	early.Time, early.RequestID = today.Add(26*time.Hour), "early" // 6 hours ahead of the clock, accepted
	if err := e.Add(ctx, early); err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	wantSmall(t, "a day ahead of the clock", e.days[dayOf(early.Time, time.UTC)].open)
}

// TestDayBesideAThawedDayStartsSmall: a day opened beside one thawed by a
// late event (its request ids the whole day's, its log only the late
// event) opens with the default room, not the thawed day's room for its
// request ids and combinations.
func TestDayBesideAThawedDayStartsSmall(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s := store.NewMemory()
	opts := &Options{Now: func() time.Time { return day1.AddDate(0, 0, 3) }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	evs := busyDay(day1)
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = Open(ctx, s, opts); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	late, next := evs[0], evs[0]
	late.RequestID = "late"
	next.Time, next.RequestID = day1.AddDate(0, 0, 1), "next"
	if err := e.Add(ctx, late); err != nil { // thaws the stored day
		t.Fatal(err)
	}
	if err := e.Add(ctx, next); err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if thawed := e.days[dayOf(day1, time.UTC)].open; thawed == nil || thawed.logBase == nil || len(thawed.seen) < 3000 {
		t.Fatalf("the day before was not thawed with its request ids: %+v", thawed)
	}
	wantSmall(t, "a day beside a thawed one", e.days[dayOf(next.Time, time.UTC)].open)
}

// busyDay returns 3,000 sign-ins on the day starting at day, one a
// second, by 70 users on 200 applications: 200 combinations.
func busyDay(day time.Time) []Event {
	var evs []Event
	for i := range 3000 {
		evs = append(evs, Event{Time: day.Add(time.Duration(i) * time.Second), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%70),
			Status: StatusSuccess, AppID: fmt.Sprintf("app%d", i%200), RequestID: fmt.Sprintf("r%d", i)})
	}
	return evs
}

// wantSmall fails unless b, a builder holding one event, has about the
// room of a new one: not a busy day's log entries, record bytes or
// combinations.
func wantSmall(t *testing.T, what string, b *dayBuilder) {
	t.Helper()
	small := newDayBuilder()
	if cap(b.log.times) > max(cap(small.log.times), 64) || recordRoom(&b.log) > 4096 || b.index.Room() > max(small.index.Room(), 64) {
		t.Errorf("%s opened with room for %d entries, %d record bytes and %d combinations, for 1 event", what, cap(b.log.times), recordRoom(&b.log), b.index.Room())
	}
}

// recordRoom returns the room of a plain log's first chunk of records:
// what a new day's log is given for them (newDayBuilderLike).
func recordRoom(l *eventLog) int {
	if len(l.chunks) == 0 {
		return 0
	}
	return cap(l.chunks[0])
}
