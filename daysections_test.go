package insights

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/store"
)

// TestLazySectionCorrupt: a flipped byte in a column section that a
// query does not need leaves that query's answer as before; the queries
// that need the column report ErrCorrupt naming the segment, every time,
// and the others still answer.
func TestLazySectionCorrupt(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	opts := &Options{Now: func() time.Time { return time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC) }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	var evs []Event
	for i := range 400 {
		evs = append(evs, Event{Time: at.Add(time.Duration(i) * time.Second), Kind: KindSignIn, UserKey: "u" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			AppID: []string{"A", "B", "C"}[i%3], OS: []string{"iOS", "Windows", "Android", ""}[i%4],
			Country: []string{"US", "DE", "FR", "JP", "BR"}[i%5], RequestID: "r" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	day := Date{Year: 2025, Month: time.January, Day: 2}
	byOS := Query{Metric: ActiveUsers, From: day, To: Date{Year: 2025, Month: time.January, Day: 3}, Filter: Eq(DimOS, "iOS")}
	byCountry := byOS
	byCountry.Filter = Eq(DimCountry, "DE")
	grouped := byOS
	grouped.Filter, grouped.GroupBy = Filter{}, []Dimension{DimCountry}
	want, err := e.Query(ctx, byOS)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	keys, err := s.List(ctx, "days/2025-01-02/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("segments of the day: %v, %v", keys, err)
	}
	key := keys[0]
	seg, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	_, g, err := segment.ReadRanged(ctx, s, key, day.num(), &segment.Limits{Users: 1 << 30}) // where the sections lie
	if err != nil {
		t.Fatal(err)
	}
	col := int(DimCountry) - 1
	seg[g.At[col]+g.Dir.Lens[col]/2] ^= 0x10
	if err := s.Put(ctx, key, seg); err != nil {
		t.Fatal(err)
	}

	e, err = Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for range 2 {
		got, err := e.Query(ctx, byOS)
		if err != nil {
			t.Fatalf("a query not reading the damaged column: %v", err)
		}
		if got.Rows[0].Value != want.Rows[0].Value {
			t.Fatalf("a query not reading the damaged column: %v users, want %v", got.Rows[0].Value, want.Rows[0].Value)
		}
		for _, q := range []Query{byCountry, grouped} {
			if _, err := e.Query(ctx, q); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
				t.Fatalf("a query reading the damaged column: %v, want ErrCorrupt naming %s", err, key)
			}
		}
	}
}

// TestLazySectionBytes: a day read by ranges counts in its size
// (memBytes, what Options.MemoryLimit bounds) the sections it has decoded,
// and, once it has them all, the size of the same day read whole.
func TestLazySectionBytes(t *testing.T) {
	ctx := context.Background()
	e, seg, n, lim, whole := segmentFixture(t)
	s := store.NewMemory()
	if err := s.Put(ctx, "seg", seg); err != nil {
		t.Fatal(err)
	}
	d, err := rangedIndex(ctx, s, "seg", n, lim, e.zdec, 0)
	if err != nil {
		t.Fatal(err)
	}
	head := d.memBytes()
	if err := d.need(ctx, 1<<secUsers); err != nil {
		t.Fatal(err)
	}
	if got, want := d.memBytes(), head+4*int64(len(d.ix.Offs)+len(d.ix.Users)); got != want || len(d.ix.Users) == 0 {
		t.Fatalf("with its users: %d bytes, want %d", got, want)
	}
	if err := d.need(ctx, lazySections); err != nil {
		t.Fatal(err)
	}
	if !sameIndex(d, whole) || d.memBytes() != whole.memBytes() {
		t.Fatalf("every section decoded: %d bytes, the day read whole %d (same index: %v)", d.memBytes(), whole.memBytes(), sameIndex(d, whole))
	}
}

// TestCheckpointMissingSegment: a day rewritten by a checkpoint (it left
// the dedupe horizon) whose index a query read in part, and whose segment
// is then gone, fails the checkpoint with ErrCorrupt naming the segment.
func TestCheckpointMissingSegment(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	at := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	now := at
	opts := &Options{Now: func() time.Time { return now }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ev := Event{Time: at.Add(time.Duration(i) * time.Minute), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%7), AppID: fmt.Sprintf("app-%d", i%3), RequestID: fmt.Sprintf("r%d", i)}
		if err := e.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	now = at.AddDate(0, 0, 5)
	e, err = Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	date := Date{Year: 2025, Month: time.January, Day: 6}
	q := Query{Metric: ActiveUsers, From: date, To: Date{Year: 2025, Month: time.January, Day: 7}, Granularity: Day, Filter: Eq(DimAppID, "app-1")}
	if _, err := e.Query(ctx, q); err != nil {
		t.Fatal(err)
	}
	keys, err := s.List(ctx, "days/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("segments %v (%v), want one", keys, err)
	}
	if _, pending := PendingSections(e); pending == 0 {
		t.Fatal("the day's index was read whole")
	}
	if err := s.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), keys[0]) {
		t.Fatalf("Flush with the day's segment gone: %v, want ErrCorrupt naming %s", err, keys[0])
	}
}

// TestEraseMeasuresSections: Erase decodes every section of the days it
// scans; those that do not hold the user count them in MemoryLimit at
// once (hold), not at their next use.
func TestEraseMeasuresSections(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	at := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	now := at.AddDate(0, 0, 5)
	opts := &Options{Now: func() time.Time { return now }}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		ev := Event{Time: at.Add(time.Duration(i) * 30 * time.Minute), Kind: KindSignIn, UserKey: fmt.Sprintf("u%d", i%7), AppID: fmt.Sprintf("app-%d", i%3),
			OS: fmt.Sprintf("os-%d", i%5), Country: fmt.Sprintf("c%d", i%4), RequestID: fmt.Sprintf("r%d", i)}
		if i == 0 {
			ev.UserKey = "target" // on the first day only
		}
		if err := e.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	now = at.AddDate(0, 0, 10)
	e, err = Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	q := Query{Metric: ActiveUsers, From: Date{Year: 2025, Month: time.January, Day: 6}, To: Date{Year: 2025, Month: time.January, Day: 11},
		Granularity: Day, Filter: Eq(DimAppID, "app-1")}
	if _, err := e.Query(ctx, q); err != nil {
		t.Fatal(err)
	}
	before := map[*dayState]int64{}
	for _, ds := range e.days {
		if ds.sealed != nil && !ds.sealed.whole() {
			before[ds] = ds.bytes
		}
	}
	if len(before) < 3 {
		t.Fatalf("%d days read in part, want the query's 4 or 5", len(before))
	}
	if _, err := e.Erase(ctx, "target"); err != nil {
		t.Fatal(err)
	}
	for ds, b := range before {
		if ds.open == nil && ds.sealed != nil && (!ds.sealed.whole() || ds.bytes <= b) {
			t.Errorf("a day not holding the user: %d bytes counted after Erase (whole: %v), %d before", ds.bytes, ds.sealed.whole(), b)
		}
	}
}
