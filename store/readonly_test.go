package store_test

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/store"
)

func TestDirReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	storetest.Put(t, s, "days/x", "x")
	storetest.Put(t, s, "meta.json", "{}")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "days", ".tmp-4"), []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := storetest.Tree(t, dir)

	ro, err := store.Dir(dir, &store.DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	storetest.WantValue(t, ro, "days/x", "x")
	if keys, err := ro.List(ctx, ""); err != nil || !slices.Equal(keys, []string{"days/x", "meta.json"}) {
		t.Errorf("List = %q, %v", keys, err)
	}
	if err := ro.Put(ctx, "days/y", []byte("y")); !errors.Is(err, store.ErrReadOnly) || !strings.Contains(err.Error(), "days/y") {
		t.Errorf("Put on a read-only store = %v, want ErrReadOnly naming the key", err)
	}
	if err := ro.Delete(ctx, "days/x"); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Delete on a read-only store = %v, want ErrReadOnly", err)
	}
	if _, err := store.Dir(dir, nil); !errors.Is(err, store.ErrLocked) {
		t.Errorf("a writer while a reader has the store: %v, want ErrLocked", err)
	}
	again, err := store.Dir(dir, &store.DirOptions{ReadOnly: true})
	if err != nil {
		t.Errorf("a second reader: %v", err)
	} else {
		again.Close()
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
		t.Errorf("the directory changed under a read-only store:\nbefore %q\nafter  %q", before, after)
	}

	w := openDir(t, dir, nil)
	if _, err := store.Dir(dir, &store.DirOptions{ReadOnly: true}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("a reader while a writer has the store: %v, want ErrLocked", err)
	}
	w.Close()
}

func TestDirReadOnlyCreatesNoLock(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	s, err := store.Dir(empty, &store.DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Dir on an empty directory: %v", err)
	}
	if keys, err := s.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("List = %q, %v; want none", keys, err)
	}
	s.Close()
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("read-only Dir left %d entries in an empty directory", len(entries))
	}

	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := store.Dir(missing, &store.DirOptions{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Dir on a missing directory = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Dir created the missing directory: %v", err)
	}
}

func TestDirRefusesADirectoryThatIsNotAStore(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"notes.txt", "photos/cat.jpg"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := storetest.Tree(t, dir)
	_, err := store.Dir(dir, nil)
	if !errors.Is(err, store.ErrNotStore) || !strings.Contains(err.Error(), "notes.txt") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Dir on a directory of other files = %v, want ErrNotStore naming it and a file", err)
	}
	if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
		t.Errorf("Dir wrote in a directory it refused: %q", after)
	}

	restored := t.TempDir() // a store from a backup that left LOCK out
	if err := os.WriteFile(filepath.Join(restored, "meta.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	openDir(t, restored, nil)

	mount := t.TempDir() // the root of a file system: only lost+found
	if err := os.Mkdir(filepath.Join(mount, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	openDir(t, mount, nil)
}

func TestDirFollowBesideWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := openDir(t, dir, nil)
	storetest.Put(t, w, "meta.json", "{}")
	storetest.Put(t, w, "wal/0", "zero")
	before := storetest.Tree(t, dir)

	f, err := store.Dir(dir, &store.DirOptions{Follow: true})
	if err != nil {
		t.Fatalf("a follower beside a writer: %v", err)
	}
	storetest.Put(t, w, "wal/1", "one")
	storetest.WantValue(t, f, "wal/1", "one")
	if err := w.Delete(ctx, "wal/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "wal/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a key the writer deleted = %v, want ErrNotFound", err)
	}
	if err := f.Put(ctx, "days/y", []byte("y")); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Put on a follower = %v, want ErrReadOnly", err)
	}
	if err := f.Delete(ctx, "meta.json"); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Delete on a follower = %v, want ErrReadOnly", err)
	}
	// The writer closes and another opens while the follower stays.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatalf("a writer while a follower has the directory: %v", err)
	}
	storetest.Put(t, w2, "wal/2", "two")
	if keys, err := f.List(ctx, "wal/"); err != nil || !slices.Equal(keys, []string{"wal/0", "wal/2"}) {
		t.Errorf("the follower lists %q, %v; want [wal/0 wal/2]", keys, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w2.Delete(ctx, "wal/2"); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
		t.Errorf("the follower changed the directory:\nbefore %q\nafter  %q", before, after)
	}
	if _, err := store.Dir(filepath.Join(dir, "missing"), &store.DirOptions{Follow: true}); err == nil {
		t.Error("a follower of a missing directory opened")
	}
}
