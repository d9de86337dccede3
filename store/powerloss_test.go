package store_test

import (
	"context"
	"testing"

	"github.com/insightslab/insights/internal/strictfs"
	"github.com/insightslab/insights/store"
)

// TestDirSurvivesPowerLossAfterACrashedDir: a Dir call that made the
// store's directory and died before fsyncing its parent leaves it in the
// page cache only; the next Dir must make it durable before its Puts
// return, or a power loss takes every key with it.
func TestDirSurvivesPowerLossAfterACrashedDir(t *testing.T) {
	ctx := context.Background()
	sfs := strictfs.New()
	if err := sfs.Mkdir("/db", 0o700); err != nil { // what the crashed Dir did
		t.Fatal(err)
	}
	ds, err := store.Dir("/db", &store.DirOptions{FS: sfs})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Put(ctx, "wal/1", []byte("acknowledged")); err != nil {
		t.Fatal(err)
	}
	sfs.Crash()
	ds, err = store.Dir("/db", &store.DirOptions{FS: sfs})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if b, err := ds.Get(ctx, "wal/1"); err != nil || string(b) != "acknowledged" {
		t.Fatalf("after the power loss, Get = %q, %v; want the value Put stored", b, err)
	}
}
