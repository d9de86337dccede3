package insights_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// A writer and a follower on one store: the follower's answers after a
// Refresh, and after the writer's garbage collection deleted what it was
// about to read.

// hookStore is a Store whose Get calls beforeGet first, if set: a test
// makes the writer act between a follower's listing and its read.
type hookStore struct {
	store.Store
	mu        sync.Mutex
	beforeGet func(key string)
}

func (h *hookStore) Get(ctx context.Context, key string) ([]byte, error) {
	h.mu.Lock()
	f := h.beforeGet
	h.mu.Unlock()
	if f != nil {
		f(key)
	}
	return h.Store.Get(ctx, key)
}

// hook sets the function that the next Get of a key starting with prefix
// runs, once.
func (h *hookStore) hook(prefix string, f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.beforeGet = func(key string) {
		if !strings.HasPrefix(key, prefix) {
			return
		}
		h.mu.Lock()
		h.beforeGet = nil
		h.mu.Unlock()
		f()
	}
}

// openFollower opens a follower on s that refreshes only when told.
func openFollower(t *testing.T, s store.Store, opts *insights.Options) *insights.Engine {
	t.Helper()
	var o insights.Options
	if opts != nil {
		o = *opts
	}
	o.Follow = true
	if o.RefreshInterval == 0 {
		o.RefreshInterval = -1
	}
	if o.Now == nil {
		o.Now = fixed(clock)
	}
	f, err := insights.Open(context.Background(), s, &o)
	if err != nil {
		t.Fatalf("Open the follower: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// openWriter opens an engine on s that the test closes, or the cleanup.
func openWriter(t *testing.T, s store.Store) *insights.Engine {
	t.Helper()
	w, err := insights.Open(context.Background(), s, &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatalf("Open the writer: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// addUsers adds sign-ins of users from to to-1 ("u<i>") on 3 March 2025.
func addUsers(t *testing.T, w *insights.Engine, from, to int) {
	t.Helper()
	var evs []insights.Event
	for i := from; i < to; i++ {
		e := signIn(fmt.Sprintf("u%d", i), utc(3, 3, 9, i%60))
		e.RequestID = fmt.Sprintf("r%d", i)
		evs = append(evs, e)
	}
	add(t, w, evs...)
}

// flush writes the writer's checkpoint.
func flush(t *testing.T, w *insights.Engine) {
	t.Helper()
	if err := w.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// activeInMarch returns e's active users over March 2025.
func activeInMarch(e *insights.Engine) (float64, error) {
	res, err := e.Query(context.Background(), insights.Query{Metric: insights.ActiveUsers,
		From: date(2025, 3, 1), To: date(2025, 4, 1), Granularity: insights.Total})
	if err != nil {
		return 0, err
	}
	return res.Rows[0].Value, nil
}

// wantActive fails the test unless e counts want active users in March.
func wantActive(t *testing.T, e *insights.Engine, want float64, when string) {
	t.Helper()
	got, err := activeInMarch(e)
	if err != nil || got != want {
		t.Errorf("%s: active users %v, %v; want %v", when, got, err, want)
	}
}

// refresh refreshes the follower f.
func refresh(t *testing.T, f *insights.Engine) {
	t.Helper()
	if err := f.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
}

func TestFollowerTailsTheLogAndMovesToCheckpoints(t *testing.T) {
	mem := store.NewMemory()
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	f := openFollower(t, mem, nil)
	wantActive(t, f, 10, "at Open, from the log")
	addUsers(t, w, 10, 15)
	wantActive(t, f, 10, "before a Refresh")
	refresh(t, f)
	wantActive(t, f, 15, "after the log grew")
	flush(t, w)
	addUsers(t, w, 15, 20)
	refresh(t, f)
	wantActive(t, f, 20, "after a checkpoint and more log")
	refresh(t, f)
	wantActive(t, f, 20, "after a Refresh with nothing new")

	// The writer down: the follower answers with what it acknowledged,
	// and picks up the checkpoint of its Close and a new writer's log.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	refresh(t, f)
	wantActive(t, f, 20, "after the writer closed")
	w2 := openWriter(t, mem)
	addUsers(t, w2, 20, 25)
	refresh(t, f)
	wantActive(t, f, 25, "after a new writer added")
	if s := f.Stats(); s.Refreshed.IsZero() || s.Users != 25 {
		t.Errorf("Stats after refreshes: Refreshed %v, Users %d", s.Refreshed, s.Users)
	}
}

func TestFollowerWritesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ws, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	w := openWriter(t, ws)
	addUsers(t, w, 0, 10)
	flush(t, w)
	addUsers(t, w, 10, 12)
	fs, err := store.Dir(dir, &store.DirOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	before, err := ws.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// Over a plain store, not a read-only one: the engine itself must not write.
	f := openFollower(t, &hookStore{Store: fs}, nil)
	for name, err := range map[string]error{
		"Add":   f.Add(ctx, signIn("x", utc(3, 3, 9, 0))),
		"Flush": f.Flush(ctx),
		"Erase": func() error { _, err := f.Erase(ctx, "u1"); return err }(),
	} {
		if !errors.Is(err, insights.ErrReadOnly) {
			t.Errorf("%s on a follower: %v, want ErrReadOnly", name, err)
		}
	}
	if err := w.Refresh(ctx); !errors.Is(err, insights.ErrInvalidQuery) {
		t.Errorf("Refresh on a writer: %v, want ErrInvalidQuery", err)
	}
	wantActive(t, f, 12, "the follower")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := ws.List(ctx, ""); err != nil || !slices.Equal(before, after) {
		t.Errorf("the follower changed the store: %q, then %q (%v)", before, after, err)
	}
	if err := f.Refresh(ctx); !errors.Is(err, insights.ErrClosed) {
		t.Errorf("Refresh after Close: %v, want ErrClosed", err)
	}
}

// A day the follower had not loaded, whose segment the writer replaced
// and deleted, is read from the newer checkpoint; so is a day's log read
// after its segment was deleted.
func TestFollowerReloadsADayTheWriterCollected(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	flush(t, w)
	f := openFollower(t, mem, nil) // the day named, not loaded
	addUsers(t, w, 10, 20)
	flush(t, w) // replaces the day's segment, deletes the old one
	wantActive(t, f, 20, "a query loading a collected segment")

	addUsers(t, w, 20, 30)
	flush(t, w) // deletes the segment the follower loaded, whose log it has not read
	page, err := f.SignIns(ctx, insights.LogQuery{Limit: 100})
	if err != nil || len(page.Entries) != 30 {
		n := -1
		if page != nil {
			n = len(page.Entries)
		}
		t.Errorf("the sign-in log after its segment was collected: %d entries, %v; want 30", n, err)
	}
}

// A log record listed, then deleted by the writer's checkpoint before the
// follower reads it.
func TestFollowerLogRecordGoneBetweenListAndGet(t *testing.T) {
	mem := store.NewMemory()
	hs := &hookStore{Store: mem}
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10) // wal/…0
	f := openFollower(t, hs, nil)
	addUsers(t, w, 10, 20) // wal/…1
	ran := false
	hs.hook("wal/", func() { flush(t, w); ran = true })
	refresh(t, f)
	if !ran {
		t.Fatal("the follower read no log record")
	}
	wantActive(t, f, 20, "after the record it listed was collected")
}

// The store's manifest moves on while the follower loads the one it read:
// the catalog it names is gone.
func TestFollowerManifestMovesMidRefresh(t *testing.T) {
	mem := store.NewMemory()
	hs := &hookStore{Store: mem}
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	flush(t, w)
	f := openFollower(t, hs, nil)
	addUsers(t, w, 10, 20)
	flush(t, w)
	ran := false
	hs.hook("catalog/", func() { addUsers(t, w, 20, 30); flush(t, w); ran = true })
	refresh(t, f)
	if !ran {
		t.Fatal("the follower read no catalog")
	}
	wantActive(t, f, 30, "after a manifest newer than the one it read")
}

// A gap in the log: the follower applies nothing past it, and goes on
// once the record is there.
func TestFollowerStopsAtALogGap(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	f := openFollower(t, mem, nil)
	addUsers(t, w, 10, 15) // wal/…1
	addUsers(t, w, 15, 20) // wal/…2
	const k = "wal/0000000000000001"
	rec, err := mem.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	refresh(t, f)
	wantActive(t, f, 10, "with wal/…1 missing")
	if err := mem.Put(ctx, k, rec); err != nil {
		t.Fatal(err)
	}
	refresh(t, f)
	wantActive(t, f, 20, "with wal/…1 back")
}

// A file the follower's manifest names, missing while that manifest is
// still the store's, is corruption.
func TestFollowerMissingSegmentIsCorrupt(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	flush(t, w)
	f := openFollower(t, mem, nil)
	keys, err := mem.List(ctx, "days/")
	if err != nil || len(keys) != 1 {
		t.Fatalf("segments %q, %v", keys, err)
	}
	if err := mem.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := activeInMarch(f); !errors.Is(err, insights.ErrCorrupt) || !strings.Contains(err.Error(), keys[0]) {
		t.Errorf("a query reading a missing segment: %v, want ErrCorrupt naming %s", err, keys[0])
	}
}

func TestFollowerOfAStoreNotYetCreated(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	f := openFollower(t, mem, &insights.Options{Zone: "Europe/Paris"})
	wantActive(t, f, 0, "an empty store")
	if keys, err := mem.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("the follower wrote %q (%v) in an empty store", keys, err)
	}
	w := openWriter(t, mem) // in UTC
	addUsers(t, w, 0, 10)
	if err := f.Refresh(ctx); !errors.Is(err, insights.ErrInvalidQuery) || !strings.Contains(err.Error(), "Europe/Paris") {
		t.Errorf("a follower in another zone than the store's writer: %v, want ErrInvalidQuery naming the zones", err)
	}
	g := openFollower(t, mem, nil)
	wantActive(t, g, 10, "a follower in the writer's zone")
}

// The follower refreshes by itself every RefreshInterval.
func TestFollowerPolls(t *testing.T) {
	mem := store.NewMemory()
	w := openWriter(t, mem)
	f := openFollower(t, mem, &insights.Options{RefreshInterval: time.Millisecond})
	addUsers(t, w, 0, 10)
	flush(t, w)
	addUsers(t, w, 10, 20)
	deadline := time.Now().Add(time.Minute) // a bound against a hang, not a timing assertion
	for {
		n, err := activeInMarch(f)
		if err != nil {
			t.Fatal(err)
		}
		if n == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute the follower counts %v active users, want 20", n)
		}
		time.Sleep(time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The writer's checkpoint collects the catalog a follower's Open was
// about to read: Open starts again from the newer manifest.
func TestFollowerOpensWhileTheWriterCollects(t *testing.T) {
	mem := store.NewMemory()
	hs := &hookStore{Store: mem}
	w := openWriter(t, mem)
	addUsers(t, w, 0, 10)
	flush(t, w)
	ran := false
	hs.hook("catalog/", func() { addUsers(t, w, 10, 20); flush(t, w); ran = true })
	f := openFollower(t, hs, nil)
	if !ran {
		t.Fatal("the follower's Open read no catalog")
	}
	wantActive(t, f, 20, "a follower opened across a checkpoint")
	if s := f.Stats(); s.LogBytes != 0 || s.Recovery.Checkpoint != 2 {
		t.Errorf("Stats of a follower opened on checkpoint 2 with no log: LogBytes %d, Recovery %+v", s.LogBytes, s.Recovery)
	}
}

// TestFollowerDetections: a follower's risk detections follow its
// writer's, through log records and across a checkpoint, which gives the
// follower a new state whose detections it rebuilds.
func TestFollowerDetections(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	w := openWriter(t, mem)
	f := openFollower(t, mem, nil)
	bruteForce := func(user string, hour int) {
		var evs []insights.Event
		for i := range 10 {
			e := signIn(user, utc(3, 3, hour, i))
			e.ErrorCode, e.RequestID = 50126, fmt.Sprintf("%s-%d-%d", user, hour, i)
			evs = append(evs, e)
		}
		add(t, w, evs...)
	}
	same := func(when string, want int) {
		t.Helper()
		refresh(t, f)
		wp, err := w.Detections(ctx, insights.DetectionQuery{})
		if err != nil {
			t.Fatal(err)
		}
		fp, err := f.Detections(ctx, insights.DetectionQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(wp.Detections) != want || !reflect.DeepEqual(fp.Detections, wp.Detections) {
			t.Errorf("%s: follower %v, writer %v; want %d detections", when, fp.Detections, wp.Detections, want)
		}
	}
	bruteForce("alice", 9)
	same("from the log", 1)
	bruteForce("bob", 10) // the follower's detector takes it from the log record
	same("after a log record", 2)
	flush(t, w)
	bruteForce("carol", 11)
	same("after a checkpoint", 3)
}

// listHookStore runs beforeList, if set, once, at the next List or
// ListFrom but the first skip.
type listHookStore struct {
	*store.Memory
	skip       int
	beforeList func()
}

func (h *listHookStore) hook() {
	if f := h.beforeList; f != nil {
		if h.skip > 0 {
			h.skip--
			return
		}
		h.beforeList = nil
		f()
	}
}

func (h *listHookStore) List(ctx context.Context, prefix string) ([]string, error) {
	h.hook()
	return h.Memory.List(ctx, prefix)
}

func (h *listHookStore) ListFrom(ctx context.Context, prefix, from string) ([]string, error) {
	h.hook()
	return h.Memory.ListFrom(ctx, prefix, from)
}

// putHookMemory runs beforeCatalog, if set, once, before the next Put of
// a catalog: in a checkpoint, after its days are sealed and before its
// manifest commits.
type putHookMemory struct {
	*store.Memory
	beforeCatalog func()
}

func (h *putHookMemory) Put(ctx context.Context, key string, value []byte) error {
	if f := h.beforeCatalog; f != nil && strings.HasPrefix(key, "catalog/") {
		h.beforeCatalog = nil
		f()
	}
	return h.Memory.Put(ctx, key, value)
}

// A checkpoint may cover less than a follower applied: replica A seals
// its days, replica B adds a record, the follower applies it, then A
// commits. The follower's refresh lists the log from the new manifest's
// first sequence, not only past its own, and keeps B's events; and when
// A's next checkpoint collects that record (and the catalog before it)
// while the follower lists it, the follower moves on to that checkpoint
// rather than fall behind.
func TestFollowerBehindACheckpointThatCoversLess(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	opts := &insights.Options{Now: fixed(clock), Replica: true, RefreshInterval: -1}
	ah := &putHookMemory{Memory: mem}
	a, err := insights.Open(ctx, ah, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := insights.Open(ctx, mem, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := &listHookStore{Memory: mem}
	f := openFollower(t, h, nil)
	addUsers(t, a, 0, 10)
	refresh(t, f)
	ah.beforeCatalog = func() {
		addUsers(t, b, 10, 20)
		refresh(t, f)
	}
	flush(t, a)
	h.skip, h.beforeList = 1, func() { flush(t, a) } // at the second listing of the next refresh
	refresh(t, f)
	wantActive(t, f, 20, "after checkpoints that covered less than the follower applied")
}

// A refresh that the writer's checkpoint overtakes, committed and its log
// deleted between the follower's reads, still answers with every event
// acknowledged before it began: read after the manifest, the shorter
// listing would have left it with the old checkpoint and none of the
// records the new one covers, and no gap to tell it.
func TestFollowerRefreshOvertakenByACheckpoint(t *testing.T) {
	s := store.NewMemory()
	w := openWriter(t, s)
	h := &listHookStore{Memory: s}
	f := openFollower(t, h, nil)
	addUsers(t, w, 0, 10)
	refresh(t, f)
	addUsers(t, w, 10, 20)
	h.beforeList = func() { flush(t, w) }
	refresh(t, f)
	wantActive(t, f, 20, "after a refresh that a checkpoint overtook")
}
