package insights

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/faultfs"
	"github.com/insightslab/insights/store"
)

// storeFiles returns the catalog and segment files under dir, as keys.
func storeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	for _, sub := range []string{"catalog", "days"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				keys = append(keys, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	slices.Sort(keys)
	return keys
}

// manifestFiles returns the catalog and segments that the manifest in s names.
func manifestFiles(t *testing.T, s store.Store) []string {
	t.Helper()
	b, err := s.Get(context.Background(), manifestKey)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if m.catalog != "" {
		keys = append(keys, m.catalog, m.usersKey())
	}
	for _, k := range m.segments {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestFailedCheckpointsRemoveTheirFiles fills the disk in the middle of
// checkpoints: each failed attempt must leave only the files the committed
// manifest names, so that freeing a little space is enough for a retry,
// and Flush must report that attempt's failure alone.
func TestFailedCheckpointsRemoveTheirFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ffs := faultfs.New(store.OSFS())
	ds, err := store.Dir(dir, &store.DirOptions{FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	now := func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
	e, err := Open(ctx, ds, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for i := range 3000 {
		evs = append(evs, Event{Time: time.Date(2025, 2, 1+i%20, 9, 0, i, 0, time.UTC), Kind: KindSignIn,
			UserKey: "user-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)), AppID: "app"})
	}
	if err := e.Add(ctx, evs[:100]...); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, evs[100:]...); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		ffs.LimitSpace(int64(attempt) << 10) // a few segments fit, not the checkpoint
		err := e.Flush(ctx)
		ffs.LimitSpace(-1)
		if err == nil {
			t.Fatalf("attempt %d: Flush succeeded on a full disk", attempt)
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
			t.Errorf("attempt %d: Flush's error has %d lines, want this attempt's failure alone: %v", attempt, n, err)
		}
		if got, want := storeFiles(t, dir), manifestFiles(t, ds); !slices.Equal(got, want) {
			t.Errorf("attempt %d: after the failed Flush the store holds %q; the manifest names %q", attempt, got, want)
		}
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatalf("Flush once the disk has room: %v", err)
	}
	if got, want := storeFiles(t, dir), manifestFiles(t, ds); !slices.Equal(got, want) || len(want) < 2 {
		t.Errorf("after the Flush the store holds %q; the manifest names %q", got, want)
	}
}

// TestFlushReportsItsOwnFailure lets automatic checkpoints fail on a full
// disk, Add after Add: the Flush that fails next reports its own failure,
// not every one since the last success.
func TestFlushReportsItsOwnFailure(t *testing.T) {
	ctx := context.Background()
	ffs := faultfs.New(store.OSFS())
	ds, err := store.Dir(t.TempDir(), &store.DirOptions{FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	now := func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
	e, err := Open(ctx, ds, &Options{Now: now, CheckpointBytes: 1}) // a checkpoint after every Add
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		ffs.LimitSpace(400) // room for the log record, not for the checkpoint
		ev := Event{Time: time.Date(2025, 2, 1+i, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "u", AppID: "app"}
		if err := e.Add(ctx, ev); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
		AwaitCheckpoint(e) // the checkpoint the Add started, which fails
	}
	err = e.Flush(ctx)
	ffs.LimitSpace(-1)
	if err == nil {
		t.Fatal("Flush succeeded on a full disk")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
		t.Errorf("Flush's error has %d lines, want its own failure alone:\n%v", n, err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatalf("Flush once the disk has room: %v", err)
	}
}

// TestFailedCheckpointUnfreezesUnsealedDaysWhole: a checkpoint fails
// writing its latest day (3) with more than unfreezeChunk events kept
// aside for day 2, which it froze but never sealed. It must unfreeze day
// 2 whole under the write lock, not through addAside: addAside's adds to
// the builder, holding no engine lock, raced (go test -race) with a
// query's seal of the same builder. A query of day 2 runs as soon as the
// checkpoint is seen adding aside, as that race needs; every event counts
// once, before and after a Flush and a reopen.
func TestFailedCheckpointUnfreezesUnsealedDaysWhole(t *testing.T) {
	ctx := context.Background()
	e, s, now := startGatedCheckpoint(t) // day 3 sealed, its Put waiting; days 1 and 2 frozen, unsealed
	day2 := dayOf(time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC), time.UTC)
	e.mu.RLock()
	j := e.days[day2].sealing
	e.mu.RUnlock()
	const n = 20000
	var b []Event // in one Add: a second would wait for the checkpoint (awaitBacklog)
	for k := range n {
		b = append(b, gatedSignIn(2, fmt.Sprintf("u%d", k)))
	}
	b = append(b, gatedSignIn(2, "u7")) // a copy
	if got, err := e.AddCount(ctx, b...); err != nil || got != n {
		t.Fatalf("AddCount = %d, %v; want %d", got, err, n)
	}
	e.mu.RLock()
	kept := len(j.deferred)
	e.mu.RUnlock()
	if kept != n {
		t.Fatalf("%d events kept aside on 2025-02-02, want %d", kept, n)
	}
	check := func(when string, x *Engine) {
		t.Helper()
		for _, m := range []Metric{Requests, ActiveUsers} {
			res, err := x.Query(ctx, Query{Metric: m, From: NewDate(2025, 2, 1), To: NewDate(2025, 2, 4)})
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			for _, r := range res.Rows {
				got = append(got, r.Value)
			}
			if want := []float64{1, n + 1, 60}; !slices.Equal(got, want) {
				t.Errorf("%s: %s from 2025-02-01 to 04: %v, want %v", when, m, got, want)
			}
		}
	}
	queryDay2 := func() {
		t.Helper()
		if _, err := e.Query(ctx, Query{Metric: Requests, From: NewDate(2025, 2, 2), To: NewDate(2025, 2, 3)}); err != nil {
			t.Fatal(err)
		}
	}
	s.fail.Store(true)
	close(s.gate)
	for {
		frozen, adding, _ := addingAside(e, day2, j)
		if adding {
			queryDay2() // seals the builder that addAside adds to
		}
		if !frozen || adding {
			break
		}
		runtime.Gosched()
	}
	for range 5 {
		queryDay2()
	}
	AwaitCheckpoint(e)
	check("after the failed checkpoint", e)
	s.fail.Store(false)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a Flush", e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, s.Memory, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check("after reopening", again)
}
