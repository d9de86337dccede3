package insights

import (
	"context"
	"hash/fnv"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestDuplicatesRefusedAtEveryAge: a copy of an event (its request id, on
// its day) is refused inside the dedupe horizon, where the segment keeps
// every request id, and beyond it, where the segment keeps only those of
// erased users' events and the others are read from the log; after a
// reopen, and after the clock moves the recent days out of the horizon
// (their segments are then rewritten without the ids the log holds).
//
// On a store that reads ranges, and on one that does not (read whole).
func TestDuplicatesRefusedAtEveryAge(t *testing.T) {
	t.Run("ranges", func(t *testing.T) { testDuplicatesRefused(t, store.NewMemory()) })
	t.Run("whole", func(t *testing.T) { testDuplicatesRefused(t, struct{ store.Store }{store.NewMemory()}) }) // hides GetRange
}

func testDuplicatesRefused(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return now }}
	days := []int{10, 9, 3} // today, yesterday (inside the horizon), a week before (outside)
	var evs []Event
	for _, d := range days {
		at := time.Date(2025, 3, d, 8, 0, 0, 0, time.UTC)
		for i, u := range []string{"ann", "bob", "gone"} {
			evs = append(evs, Event{Time: at.Add(time.Duration(i) * time.Minute), Kind: KindSignIn, UserKey: u,
				RequestID: u + "-" + at.Format(time.DateOnly)})
		}
	}
	e, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.AddCount(ctx, evs...); err != nil || n != len(evs) {
		t.Fatalf("AddCount = %d, %v; want %d", n, err, len(evs))
	}
	if _, err := e.Erase(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	stored := func(d int) ([]uint64, bool) { // the request ids day d's segment keeps
		t.Helper()
		n := dayOf(time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC), time.UTC)
		e.mu.RLock()
		sd, _, err := e.loadDay(ctx, n, e.days[n], lazySections)
		e.mu.RUnlock()
		if err != nil {
			t.Fatal(err)
		}
		return sd.requestIDs, sd.fullIDs
	}
	hashes := func(ids ...string) []uint64 {
		var h []uint64
		for _, id := range ids {
			h = append(h, requestIDHash(id))
		}
		slices.Sort(h)
		return h
	}
	for _, d := range days[:2] {
		date := time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if ids, full := stored(d); !full || !slices.Equal(ids, hashes("ann-"+date, "bob-"+date, "gone-"+date)) {
			t.Errorf("2025-03-%02d, inside the horizon: segment keeps %x (complete %v), want every request id", d, ids, full)
		}
	}
	if ids, full := stored(3); full || !slices.Equal(ids, hashes("gone-2025-03-03")) {
		t.Errorf("2025-03-03, outside the horizon: segment keeps %x (complete %v), want only the erased user's", ids, full)
	}
	copies := func(when string) {
		t.Helper()
		if n, err := e.AddCount(ctx, evs...); err != nil || n != 0 {
			t.Errorf("%s: AddCount of copies = %d, %v; want 0", when, n, err)
		}
		fresh := Event{Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "ann", RequestID: "new-" + when}
		if n, err := e.AddCount(ctx, fresh); err != nil || n != 1 {
			t.Errorf("%s: AddCount of a new request id = %d, %v; want 1", when, n, err)
		}
	}
	copies("open")
	reopen := func() {
		t.Helper()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if e, err = Open(ctx, s, opts); err != nil {
			t.Fatal(err)
		}
	}
	reopen()
	copies("reopened")
	now = now.AddDate(0, 0, 10) // every day leaves the horizon
	reopen()
	copies("a week later")
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range days[:2] {
		if ids, full := stored(d); full || !slices.Equal(ids, hashes("gone-"+time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))) {
			t.Errorf("2025-03-%02d, out of the horizon: segment keeps %x (complete %v), want only the erased user's", d, ids, full)
		}
	}
	reopen()
	copies("rewritten")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRequestIDHashIsFNV1a: the hash is the 64-bit FNV-1a the segments of
// format v1 hold, of strings and bytes alike.
func TestRequestIDHashIsFNV1a(t *testing.T) {
	for _, id := range []string{"", "r", "8f14e45f-ceea-467f-a0e6-0123456789ab", "\xff\x00é"} {
		h := fnv.New64a()
		h.Write([]byte(id))
		if got, want := requestIDHash(id), h.Sum64(); got != want || requestIDHash([]byte(id)) != want {
			t.Errorf("requestIDHash(%q) = %x, want %x", id, got, want)
		}
	}
}

// gatedGetStore holds the first Get of one key until its gate opens.
type gatedGetStore struct {
	*store.Memory
	key     string
	gate    chan struct{}
	blocked chan struct{} // closed when that Get waits
	once    sync.Once
}

func (s *gatedGetStore) Get(ctx context.Context, key string) ([]byte, error) {
	if key == s.key {
		first := false
		s.once.Do(func() { first = true; close(s.blocked) })
		if first {
			<-s.gate
		}
	}
	return s.Memory.Get(ctx, key)
}

// TestLateCopyReadsTheDayWithoutTheLock: an Add to a day beyond the dedupe
// horizon that is not in memory reads the day's segment and request ids
// holding no lock, so a query goes on while that read waits; the day
// changes meanwhile (the query loads it, another Add thaws it), and
// copies of its events are still refused, a new one counted, once.
func TestLateCopyReadsTheDayWithoutTheLock(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	opts := &Options{Now: func() time.Time { return time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC) }}
	at := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC) // a week before: outside the horizon
	signIn := func(user string) Event {
		return Event{Time: at, Kind: KindSignIn, UserKey: user, RequestID: user + "-3"}
	}
	e, err := Open(ctx, mem, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, signIn("ann"), signIn("bob")); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s := &gatedGetStore{Memory: mem, gate: make(chan struct{}), blocked: make(chan struct{})}
	if e, err = Open(ctx, s, opts); err != nil { // the day stays in its segment, which keeps none of its ids
		t.Fatal(err)
	}
	defer e.Close()
	n := dayOf(at, time.UTC)
	e.mu.RLock()
	s.key = e.days[n].segKey
	e.mu.RUnlock()
	late := make(chan int)
	go func() {
		added, err := e.AddCount(ctx, signIn("ann"))
		if err != nil {
			t.Error(err)
		}
		late <- added
	}()
	<-s.blocked // the late copy's Add reads the segment
	dau := func(want float64) {
		t.Helper()
		res, err := e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 3, 3), To: NewDate(2025, 3, 4)})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0].Value; got != want {
			t.Errorf("active users on 2025-03-03: %v, want %v", got, want)
		}
	}
	dau(2) // loads the day, without its request ids
	e.mu.RLock()
	loaded := e.days[n].sealed
	e.mu.RUnlock()
	if loaded == nil || loaded.idsAtHand() {
		t.Fatal("the query did not load the day without its request ids")
	}
	if added, err := e.AddCount(ctx, signIn("cat"), signIn("bob")); err != nil || added != 1 {
		t.Errorf("AddCount of a new event and a copy = %d, %v; want 1", added, err)
	}
	close(s.gate)
	if added := <-late; added != 0 {
		t.Errorf("AddCount of a copy, its read held up = %d; want 0", added)
	}
	dau(3)
}
