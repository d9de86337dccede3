package strictfs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/insightslab/insights/internal/strictfs"
	"github.com/insightslab/insights/store"
)

// create creates name holding data, fsyncing it if sync.
func create(t *testing.T, sfs *strictfs.FS, name, data string, sync bool) {
	t.Helper()
	f, err := sfs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	closeFile(t, f, sync)
}

// syncDir fsyncs the directory name.
func syncDir(t *testing.T, sfs *strictfs.FS, name string) {
	t.Helper()
	d, err := sfs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeFile(t, d, true)
}

// closeFile closes f, fsyncing it first if sync.
func closeFile(t *testing.T, f store.File, sync bool) {
	t.Helper()
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, sfs *strictfs.FS, name string) {
	t.Helper()
	if err := sfs.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
}

// contents returns what name holds, or "<missing>".
func contents(t *testing.T, sfs *strictfs.FS, name string) string {
	t.Helper()
	f, err := sfs.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// names returns the entries of directory dir, or nil if it is missing.
func names(t *testing.T, sfs *strictfs.FS, dir string) []string {
	t.Helper()
	entries, err := sfs.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// renameOver returns a set-up that makes durable files /old and /new,
// renames /old over /new, and syncs the directory again if sync.
func renameOver(sync bool) func(t *testing.T, sfs *strictfs.FS) {
	return func(t *testing.T, sfs *strictfs.FS) {
		create(t, sfs, "/old", "a", true)
		create(t, sfs, "/new", "b", true)
		syncDir(t, sfs, "/")
		if err := sfs.Rename("/old", "/new"); err != nil {
			t.Fatal(err)
		}
		if sync {
			syncDir(t, sfs, "/")
		}
	}
}

func TestCrashKeepsOnlyWhatWasSynced(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setUp func(t *testing.T, sfs *strictfs.FS)
		want  map[string]string // file: contents after the crash, "<missing>" for none
	}{{
		name: "an unsynced write is forgotten, a synced one survives",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			create(t, sfs, "/synced", "a", true)
			create(t, sfs, "/unsynced", "b", false)
			syncDir(t, sfs, "/")
		},
		want: map[string]string{"/synced": "a", "/unsynced": ""},
	}, {
		name: "writes after the last sync are forgotten",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			f, err := sfs.OpenFile("/f", os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			syncDir(t, sfs, "/")
			for i, s := range []string{"one", "two"} {
				if _, err := f.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					if err := f.Sync(); err != nil {
						t.Fatal(err)
					}
				}
			}
		},
		want: map[string]string{"/f": "one"},
	}, {
		name: "a create without a directory sync is forgotten, its data synced or not",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			create(t, sfs, "/f", "a", true)
		},
		want: map[string]string{"/f": "<missing>"},
	}, {
		name:  "an unsynced rename is forgotten",
		setUp: renameOver(false),
		want:  map[string]string{"/old": "a", "/new": "b"},
	}, {
		name:  "a synced rename survives",
		setUp: renameOver(true),
		want:  map[string]string{"/old": "<missing>", "/new": "a"},
	}, {
		name: "a file renamed into a synced directory from an unsynced one is in both",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			mkdir(t, sfs, "/a")
			mkdir(t, sfs, "/b")
			syncDir(t, sfs, "/")
			create(t, sfs, "/a/f", "x", true)
			syncDir(t, sfs, "/a")
			if err := sfs.Rename("/a/f", "/b/f"); err != nil {
				t.Fatal(err)
			}
			syncDir(t, sfs, "/b")
		},
		want: map[string]string{"/a/f": "x", "/b/f": "x"},
	}, {
		name: "an unsynced remove is forgotten, a synced one survives",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			create(t, sfs, "/kept", "a", true)
			create(t, sfs, "/gone", "b", true)
			syncDir(t, sfs, "/")
			if err := sfs.Remove("/gone"); err != nil {
				t.Fatal(err)
			}
			syncDir(t, sfs, "/")
			if err := sfs.Remove("/kept"); err != nil {
				t.Fatal(err)
			}
		},
		want: map[string]string{"/kept": "a", "/gone": "<missing>"},
	}, {
		name: "a directory whose parent was not synced disappears with its contents",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			mkdir(t, sfs, "/d")
			create(t, sfs, "/d/f", "a", true)
			syncDir(t, sfs, "/d")
		},
		want: map[string]string{"/d/f": "<missing>"},
	}, {
		name: "a synced directory keeps only its synced entries",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			mkdir(t, sfs, "/d")
			syncDir(t, sfs, "/")
			create(t, sfs, "/d/f", "a", true)
		},
		want: map[string]string{"/d/f": "<missing>"},
	}, {
		name: "a file recreated after a synced remove is a new file",
		setUp: func(t *testing.T, sfs *strictfs.FS) {
			create(t, sfs, "/f", "old", true)
			syncDir(t, sfs, "/")
			if err := sfs.Remove("/f"); err != nil {
				t.Fatal(err)
			}
			create(t, sfs, "/f", "new", false)
			syncDir(t, sfs, "/")
		},
		want: map[string]string{"/f": ""},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			sfs := strictfs.New()
			tc.setUp(t, sfs)
			sfs.Crash()
			for name, want := range tc.want {
				if got := contents(t, sfs, name); got != want {
					t.Errorf("%s holds %q after the crash, want %q", name, got, want)
				}
			}
		})
	}
}

func TestCrashForgetsAnUnsyncedDirectory(t *testing.T) {
	sfs := strictfs.New()
	mkdir(t, sfs, "/kept")
	syncDir(t, sfs, "/")
	mkdir(t, sfs, "/kept/sub")
	mkdir(t, sfs, "/gone")
	sfs.Crash()
	if got := names(t, sfs, "/"); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("root holds %q after the crash, want [kept]", got)
	}
	if got := names(t, sfs, "/kept"); len(got) != 0 {
		t.Fatalf("/kept holds %q after the crash, want nothing", got)
	}
}

func TestFailFromFailsEveryOperationUntilTheCrash(t *testing.T) {
	sfs := strictfs.New()
	create(t, sfs, "/a", "a", true) // create, write, sync: 3 operations
	syncDir(t, sfs, "/")            // 4
	if n := sfs.Ops(); n != 4 {
		t.Fatalf("Ops() = %d after create, write, sync and a directory sync; want 4", n)
	}
	f, err := sfs.OpenFile("/a", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	sfs.FailFrom(2)
	if err := sfs.Mkdir("/d", 0o700); err != nil {
		t.Fatalf("the operation before the failure point: %v", err)
	}
	for what, err := range map[string]error{
		"the failure point": sfs.Mkdir("/e", 0o700),
		"a rename":          sfs.Rename("/a", "/b"),
		"a read":            func() error { _, err := f.Read(make([]byte, 1)); return err }(),
		"a ReadDir":         func() error { _, err := sfs.ReadDir("/"); return err }(),
		"an open":           func() error { _, err := sfs.OpenFile("/a", os.O_RDONLY, 0); return err }(),
		"a lock":            func() error { _, err := sfs.Lock("/LOCK"); return err }(),
	} {
		if !errors.Is(err, strictfs.ErrInjected) {
			t.Errorf("%s after the failure point: %v, want ErrInjected", what, err)
		}
	}
	sfs.Crash()
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, strictfs.ErrCrashed) {
		t.Fatalf("a file opened before the crash reads: %v, want ErrCrashed", err)
	}
	if err := sfs.Mkdir("/e", 0o700); err != nil {
		t.Fatalf("Mkdir after the crash: %v", err)
	}
	if got := names(t, sfs, "/"); !slices.Equal(got, []string{"a", "e"}) {
		t.Fatalf("root holds %q, want [a e]: the Mkdir before the failure point was not synced", got)
	}
}

func TestLockIsExclusiveUntilCloseOrCrash(t *testing.T) {
	sfs := strictfs.New()
	l, err := sfs.Lock("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sfs.Lock("/LOCK"); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("a second Lock: %v, want EWOULDBLOCK", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("a second Close: %v, want fs.ErrClosed", err)
	}
	if _, err := sfs.Lock("/LOCK"); err != nil {
		t.Fatalf("Lock after Close: %v", err)
	}
	syncDir(t, sfs, "/")
	sfs.Crash()
	l, err = sfs.Lock("/LOCK")
	if err != nil {
		t.Fatalf("Lock after the crash: %v", err)
	}
	defer l.Close()
}

func TestSharedLocksExcludeOnlyTheExclusiveOne(t *testing.T) {
	sfs := strictfs.New()
	if _, err := sfs.LockShared("/LOCK"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LockShared of a missing file: %v, want fs.ErrNotExist", err)
	}
	l, err := sfs.Lock("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sfs.LockShared("/LOCK"); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("LockShared while Lock holds it: %v, want EWOULDBLOCK", err)
	}
	l.Close()
	a, err := sfs.LockShared("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	b, err := sfs.LockShared("/LOCK")
	if err != nil {
		t.Fatalf("a second LockShared: %v", err)
	}
	a.Close()
	if _, err := sfs.Lock("/LOCK"); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("Lock while a shared lock is held: %v, want EWOULDBLOCK", err)
	}
	b.Close()
	if l, err = sfs.Lock("/LOCK"); err != nil {
		t.Fatalf("Lock once the shared locks are released: %v", err)
	}
	l.Close()
}

func TestErrorsAreTheOperatingSystems(t *testing.T) {
	sfs := strictfs.New()
	mkdir(t, sfs, "/d")
	create(t, sfs, "/f", "", false)
	for _, tc := range []struct {
		what string
		err  error
		want error
	}{
		{"open a missing file", func() error { _, err := sfs.OpenFile("/x", os.O_RDONLY, 0); return err }(), fs.ErrNotExist},
		{"create in a missing directory", func() error { _, err := sfs.OpenFile("/x/y", os.O_WRONLY|os.O_CREATE, 0); return err }(), fs.ErrNotExist},
		{"create below a file", func() error { _, err := sfs.OpenFile("/f/y", os.O_WRONLY|os.O_CREATE, 0); return err }(), syscall.ENOTDIR},
		{"exclusive create of an existing file", func() error { _, err := sfs.OpenFile("/f", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0); return err }(), fs.ErrExist},
		{"open a directory for writing", func() error { _, err := sfs.OpenFile("/d", os.O_WRONLY, 0); return err }(), syscall.EISDIR},
		{"mkdir over a file", sfs.Mkdir("/f", 0o700), fs.ErrExist},
		{"remove a directory", sfs.Remove("/d"), syscall.EISDIR},
		{"remove a missing file", sfs.Remove("/x"), fs.ErrNotExist},
		{"rename a file over a directory", sfs.Rename("/f", "/d"), syscall.EISDIR},
		{"rename a missing file", sfs.Rename("/x", "/y"), fs.ErrNotExist},
		{"read a directory's entries of a file", func() error { _, err := sfs.ReadDir("/f"); return err }(), syscall.ENOTDIR},
		{"a relative path", sfs.Mkdir("d", 0o700), syscall.EINVAL},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, tc.err, tc.want)
		}
	}
}

// TestDirStoreSurvivesACrashAfterEachPut checks the directory store's
// protocol: what a Put returned nil for survives, from several goroutines.
func TestDirStoreSurvivesACrashAfterEachPut(t *testing.T) {
	ctx := context.Background()
	sfs := strictfs.New()
	ds, err := store.Dir("/db", &store.DirOptions{FS: sfs})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5 {
				key := fmt.Sprintf("k%d/sub/%d", g, i)
				if err := ds.Put(ctx, key, []byte(key)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	sfs.Crash()
	ds, err = store.Dir("/db", &store.DirOptions{FS: sfs})
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	defer ds.Close()
	keys, err := ds.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 20 {
		t.Fatalf("%d keys after the crash, want 20: %q", len(keys), keys)
	}
	for _, k := range keys {
		if b, err := ds.Get(ctx, k); err != nil || string(b) != k {
			t.Fatalf("Get(%s) = %q, %v", k, b, err)
		}
	}
}
