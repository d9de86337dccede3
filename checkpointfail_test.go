package insights

import (
	"context"
	"os"
	"path/filepath"
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
