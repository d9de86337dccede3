package insights

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/axiomhq/hyperloglog"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// testKey is the user key of user i in tests that need many distinct keys.
func testKey(i int) string { return "user-" + strconv.Itoa(i) }

// TestSketchHashIndependentErrors: the approximate count of n users must
// err like HyperLogLog, independently from store to store, not by a
// function of n. Each trial is a store of n users with its own keys (a
// random prefix of 16 hexadecimal digits, then the user's number); the
// store numbers them 0 to n-1, as every store does. Over 40 trials at each size (precision 14,
// standard error 0.81%), the mean relative error must be within ±0.3%
// (2.3 standard errors of a mean of 40) and between 30% and 70% of the
// estimates above the truth. A hash of the dense id gave every trial the
// same estimate: +0.88% at 50,000 users, +2.28% at a million, all 40
// above. The estimates are the engine's (registersEstimate) on registers
// filled by the sketch library's own insertion path.
func TestSketchHashIndependentErrors(t *testing.T) {
	t.Parallel()
	const trials = 40
	sizes := []int{10_000, 50_000, 200_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:3]
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range sizes {
		var sum float64
		above := 0
		for range trials {
			prefix := fmt.Appendf(make([]byte, 0, 32), "%016x-", r.Uint64())
			sk, _ := hyperloglog.NewSketch(14, false)
			for i := range n {
				key := strconv.AppendInt(prefix, int64(i), 10) // in prefix's spare capacity
				// unsafe.String: no copy of 52 million keys (seconds under -race).
				sk.InsertHash(userHash(unsafe.String(&key[0], len(key))))
			}
			regs, _, _ := denseRegisters(sk, nil)
			e := float64(registersEstimate(regs, 14))/float64(n) - 1
			sum += e
			if e > 0 {
				above++
			}
		}
		mean, frac := sum/trials, float64(above)/trials
		t.Logf("%d users: mean error %+.3f%%, %d of %d above", n, 100*mean, above, trials)
		if mean < -0.003 || mean > 0.003 || frac < 0.3 || frac > 0.7 {
			t.Errorf("%d users: mean error %+.3f%% (want within ±0.3%%), %d of %d estimates above the truth (want 30%% to 70%%)",
				n, 100*mean, above, trials)
		}
	}
}

// TestUserHashIsTheSketchInsert: userHash is the hash Sketch.Insert
// applies to the key's bytes, so the engine's sketches are those of the
// library's documented insertion.
func TestUserHashIsTheSketchInsert(t *testing.T) {
	for i := range 1000 {
		k := fmt.Sprintf("%08x-user", i)
		a, _ := hyperloglog.NewSketch(14, false)
		b, _ := hyperloglog.NewSketch(14, false)
		a.Insert([]byte(k))
		b.InsertHash(userHash(k))
		ra, _, _ := denseRegisters(a, nil)
		rb, _, _ := denseRegisters(b, nil)
		if string(ra) != string(rb) {
			t.Fatalf("key %q: userHash differs from the library's Insert", k)
		}
	}
}

// TestOpenRehashesTheSketchesOfAnIDHashCatalog: a store whose catalog
// predates the sketch hash field (its sketches hashed dense ids), with
// events logged after it, opens with its sketches rebuilt from the day
// segments and the log replayed onto them: approximate answers equal
// those of a store built afresh from the same events. The next
// checkpoint writes the catalog back, even with nothing else to write,
// so a later Open rebuilds nothing.
func TestOpenRehashesTheSketchesOfAnIDHashCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := &Options{Now: func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }}
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(19, 14))
	var events []Event
	for d := range 60 {
		for range 800 {
			events = append(events, Event{Time: start.AddDate(0, 0, d), Kind: KindSignIn, UserKey: testKey(r.IntN(3000))})
		}
	}
	const checkpointed = 40 * 800 // the first 40 days; the last 20 are in the log

	fresh, err := Open(ctx, store.NewMemory(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Add(ctx, events...); err != nil {
		t.Fatal(err)
	}
	want := approximateAnswers(t, fresh)

	s := store.NewMemory()
	old, err := Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Add(ctx, events[:checkpointed]...); err != nil {
		t.Fatal(err)
	}
	if err := old.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	legacy := writeIDHashCatalog(t, old, s)
	if err := old.Add(ctx, events[checkpointed:]...); err != nil {
		t.Fatal(err)
	}
	// old is dropped without Close: the manifest names the legacy catalog.

	// Rehashed twice: with the log to replay onto the rebuilt sketches,
	// then with none, when only the rehashing makes Close checkpoint.
	for _, logged := range []int{len(events) - checkpointed, 0} {
		e, err := Open(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rec := e.Recovery(); rec.LogEvents != logged || !e.sketches.rehashed {
			t.Fatalf("Recovery %+v, rehashed %t: want %d events replayed onto rehashed sketches", rec, e.sketches.rehashed, logged)
		}
		if got := approximateAnswers(t, e); !reflect.DeepEqual(got, want) {
			t.Errorf("%d events logged: after rehashing, approximate answers\n got %v\nwant %v", logged, got, want)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if e, err = Open(ctx, s, opts); err != nil {
			t.Fatal(err)
		}
		if e.sketches.rehashed || e.catalog == legacy {
			t.Errorf("%d events logged: reopened, catalog %s, rehashed %t; want a catalog written with the key hash", logged, e.catalog, e.sketches.rehashed)
		}
		if got := approximateAnswers(t, e); !reflect.DeepEqual(got, want) {
			t.Errorf("%d events logged: reopened, approximate answers\n got %v\nwant %v", logged, got, want)
		}
		legacy = writeIDHashCatalog(t, e, s) // dropped without Close
	}
}

// approximateAnswers returns the rows of approximate active users per day,
// ISO week and month and in total, and of 7-day rolling active users, over
// January to March 2025.
func approximateAnswers(t *testing.T, e *Engine) [][]Row {
	t.Helper()
	var out [][]Row
	for _, q := range []Query{
		{Metric: ActiveUsers, Granularity: Day},
		{Metric: ActiveUsers, Granularity: Week},
		{Metric: ActiveUsers, Granularity: Month},
		{Metric: ActiveUsers, Granularity: Total},
		{Metric: RollingActiveUsers, Granularity: Day, Days: 7},
	} {
		q.From, q.To, q.Approximate = NewDate(2025, 1, 1), NewDate(2025, 4, 1), true
		res, err := e.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Approximate {
			t.Fatalf("%s by %s answered exactly: %v", q.Metric, q.Granularity, res.Warnings)
		}
		out = append(out, res.Rows)
	}
	return out
}

// writeIDHashCatalog rewrites the catalog of e's last checkpoint as it was
// written before the sketch hash field: without the field, and with day
// sketches of the SplitMix64 finalizer of the dense id. It checks that
// these sketches answer differently, and returns the catalog's key.
func writeIDHashCatalog(t *testing.T, e *Engine, s store.Store) string {
	t.Helper()
	idHash := func(uid uint32) uint64 {
		x := uint64(uid) + 0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		return x ^ x>>31
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := newSketches(e.precision)
	var from, to int32 = math.MaxInt32, math.MinInt32
	for n, ds := range e.days {
		var active *roaring.Bitmap
		if ds.sealed != nil {
			active = ds.sealed.ix.Active
		} else {
			d, _, err := e.loadDay(context.Background(), n, ds, lazySections)
			if err != nil {
				t.Fatal(err)
			}
			active = d.ix.Active
		}
		sk, _ := hyperloglog.NewSketch(e.precision, true)
		for it := active.Iterator(); it.HasNext(); {
			sk.InsertHash(idHash(it.Next()))
		}
		old.day[n] = sk
		from, to = min(from, n), max(to, n+1)
	}
	old.mergeAll()
	if old.estimate(from, to) == e.sketches.estimate(from, to) {
		t.Fatalf("days %d to %d: the id hash's sketches estimate what the key hash's do", from, to)
	}
	current := e.sketches
	e.sketches = old
	_, _, cat := testCatalog(t, e, keyGen(e.catalog)) // as written before the field: of version frame.Version
	e.sketches = current
	// Drop the sketch hash field (one byte, sketchHashKey) and the checksum.
	cat = frame.Seal(cat[:len(cat)-1-frame.Trailer])
	if err := s.Put(context.Background(), e.catalog, cat); err != nil {
		t.Fatal(err)
	}
	return e.catalog
}
