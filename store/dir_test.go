package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/insightslab/insights/internal/faultfs"
	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/store"
)

// openDir opens a DirStore on dir, closed when the test ends.
func openDir(t *testing.T, dir string, fsys store.FS) *store.DirStore {
	t.Helper()
	s, err := store.Dir(dir, &store.DirOptions{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	return s
}

// tempFiles returns the temporary files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			found = append(found, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestDir runs the conformance suite on a DirStore, reopened on its
// directory.
func TestDir(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		dir := t.TempDir()
		s := openDir(t, dir, nil)
		return s, func(t *testing.T) store.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openDir(t, dir, nil)
		}
	})
}

func TestDirKeysAreFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet") // Dir creates it
	s := openDir(t, dir, nil)
	storetest.Put(t, s, "days/2024-01-01.v3", "segment")
	if b, err := os.ReadFile(filepath.Join(dir, "days", "2024-01-01.v3")); string(b) != "segment" {
		t.Fatalf("the key's file holds %q, %v", b, err)
	}
}

// readDirLog records the directories an FS reads.
type readDirLog struct {
	store.FS
	mu   sync.Mutex
	read []string
}

func (l *readDirLog) ReadDir(name string) ([]fs.DirEntry, error) {
	l.mu.Lock()
	l.read = append(l.read, name)
	l.mu.Unlock()
	return l.FS.ReadDir(name)
}

func TestDirList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := &readDirLog{FS: store.OSFS()}
	s := openDir(t, dir, log)
	all := []string{
		"b-f", "b/c", "b/d/e", "c.x", "c/d", // '-' < '.' < '/', so walk order is not key order
		"days/2024-01-01/0001", "days/2024-01-02/0001", "days/2024-02-01/0001",
		"meta.json", "wal/0001", "wal/0002",
	}
	for _, k := range all {
		storetest.Put(t, s, k, k)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
		walked []string // the directories read, if checked
	}{
		{"", all, nil},
		{"days/", all[5:8], []string{"days", "days/2024-01-01", "days/2024-01-02", "days/2024-02-01"}},
		{"days", all[5:8], nil},
		{"days/2024-01", all[5:7], []string{"days", "days/2024-01-01", "days/2024-01-02"}},
		{"days/2024-01-01/", all[5:6], []string{"days/2024-01-01"}},
		{"c", []string{"c.x", "c/d"}, nil},
		{"c/", []string{"c/d"}, nil},
		{"b", []string{"b-f", "b/c", "b/d/e"}, nil},
		{"meta.json", []string{"meta.json"}, nil},
		{"meta.json/", nil, nil},
		{"nope/", nil, nil},
		{"days/2024-01-01/0001/", nil, nil},
		{"../", nil, []string{}},
		{"/", nil, []string{}},
		{"b//", nil, []string{}},
		{".tmp-", nil, nil},
		{"LOCK", nil, nil},
	} {
		log.read = nil
		got, err := s.List(ctx, tc.prefix)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, %v; want %q", tc.prefix, got, err, tc.want)
		}
		if tc.walked == nil {
			continue
		}
		want := []string{}
		for _, d := range tc.walked {
			want = append(want, filepath.Join(dir, d))
		}
		if read := append([]string{}, log.read...); !slices.Equal(read, want) {
			t.Errorf("List(%q) read the directories %q; want %q", tc.prefix, read, want)
		}
	}
}

func TestDirInvalidKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	for _, key := range []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "a/../b", "./a", "a/.", ".hidden",
		"a/.tmp-1", "LOCK", "LOCK/x", "with space", "é", `a\b`, "a:b", "a\x00b",
		strings.Repeat("a", 256),                                  // a segment over 255 bytes
		strings.Repeat("a", 255) + "/" + strings.Repeat("b", 257), // a key over 512 bytes
	} {
		for op, err := range map[string]error{
			"Put":    s.Put(ctx, key, []byte("x")),
			"Get":    func() error { _, err := s.Get(ctx, key); return err }(),
			"Delete": s.Delete(ctx, key),
		} {
			if !errors.Is(err, store.ErrInvalidKey) || !strings.Contains(err.Error(), strconv.Quote(key)) {
				t.Errorf("%s(%q): %v; want ErrInvalidKey naming the key", op, key, err)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("invalid keys left %d entries, want only LOCK", len(entries))
	}
	longest := strings.Repeat("a", 254) + "/" + strings.Repeat("b", 255) + "/c" // 512 bytes
	for _, key := range []string{"a..b", "x.", "_-.", "LOCKS", "a/LOCK", longest} {
		storetest.Put(t, s, key, key)
		storetest.WantValue(t, s, key, key)
	}
}

// TestDirMissingKeys: what the conformance suite does not say, the
// directory store's errors for missing keys and keys below a file.
func TestDirMissingKeys(t *testing.T) {
	ctx := context.Background()
	s := openDir(t, t.TempDir(), nil)
	storetest.Put(t, s, "meta.json", "m")
	storetest.Put(t, s, "days/x", "x")
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing key: %v; want it to wrap ErrNotFound and fs.ErrNotExist", err)
	}
	if err := s.Put(ctx, "meta.json/x", nil); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Put below a key's file: %v; want ENOTDIR", err)
	}
	if err := s.Put(ctx, "days", nil); err == nil {
		t.Errorf("Put over a directory of keys succeeded")
	}
	storetest.WantValue(t, s, "days/x", "x")
}

func TestDirRecoversADirectoryRemovedBehindItsBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	storetest.Put(t, s, "days/x", "x")
	if err := os.RemoveAll(filepath.Join(dir, "days")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "days/y", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Put in a directory removed by someone else: %v", err)
	}
	storetest.Put(t, s, "days/y", "y") // made again
	storetest.WantValue(t, s, "days/y", "y")
}

func TestDirLock(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	_, err := store.Dir(dir, nil)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Dir on one directory: %v; want ErrLocked naming it", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openDir(t, dir, nil) // the lock was released
}

// lockDirEnv names the directory the child process of
// TestDirLockOtherProcess tries to open.
const lockDirEnv = "STORE_TEST_LOCK_DIR"

func TestDirLockOtherProcess(t *testing.T) {
	if dir := os.Getenv(lockDirEnv); dir != "" {
		s, err := store.Dir(dir, nil)
		switch {
		case errors.Is(err, store.ErrLocked):
			os.Exit(3)
		case err != nil:
			os.Exit(4)
		}
		s.Close()
		os.Exit(0)
	}
	dir := t.TempDir()
	child := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirLockOtherProcess$")
		cmd.Env = append(os.Environ(), lockDirEnv+"="+dir)
		err := cmd.Run()
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	s := openDir(t, dir, nil)
	if code := child(); code != 3 {
		t.Fatalf("another process opening a locked directory exited %d, want 3 (ErrLocked)", code)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code := child(); code != 0 {
		t.Fatalf("another process opening a released directory exited %d, want 0", code)
	}
}

func TestDirRemovesLeftoverTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"LOCK", ".tmp-3", "days/.tmp-9", "days/x", ".other", "lost+found/.tmp-1"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := openDir(t, dir, nil)
	want := []string{filepath.Join(dir, "lost+found", ".tmp-1")} // not a key directory: left alone
	if left := tempFiles(t, dir); !slices.Equal(left, want) {
		t.Fatalf("temporary files after Dir: %q, want %q", left, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "days", ".tmp-77"), nil, 0o600); err != nil {
		t.Fatal(err) // as if a Put were in progress
	}
	if keys, err := s.List(ctx, ""); err != nil || !slices.Equal(keys, []string{"days/x"}) {
		t.Fatalf("List = %q, %v; want only days/x", keys, err)
	}
}

// gateFS holds the Write of every file created under a directory named
// slow until gate is closed, after telling held.
type gateFS struct {
	store.FS
	held, gate chan struct{}
}

func (g *gateFS) OpenFile(name string, flag int, perm fs.FileMode) (store.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil || flag&os.O_CREATE == 0 || !strings.Contains(name, "/slow/") {
		return f, err
	}
	return gatedFile{f, g}, nil
}

type gatedFile struct {
	store.File
	g *gateFS
}

func (f gatedFile) Write(p []byte) (int, error) {
	f.g.held <- struct{}{}
	<-f.g.gate
	return f.File.Write(p)
}

func TestDirCallsDoNotWaitForASlowPut(t *testing.T) {
	ctx := context.Background()
	g := &gateFS{FS: store.OSFS(), held: make(chan struct{}), gate: make(chan struct{})}
	s := openDir(t, t.TempDir(), g)
	storetest.Put(t, s, "fast/x", "old")
	slow := make(chan error)
	go func() { slow <- s.Put(ctx, "slow/x", []byte("slow")) }()
	<-g.held // the slow Put is writing
	storetest.Put(t, s, "fast/x", "new")
	storetest.WantValue(t, s, "fast/x", "new")
	if keys, err := s.List(ctx, ""); err != nil || !slices.Equal(keys, []string{"fast/x"}) {
		t.Fatalf("List during a Put = %q, %v; want [fast/x]", keys, err)
	}
	close(g.gate)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	storetest.WantValue(t, s, "slow/x", "slow")
}

func TestDirPutFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		fault   func(*faultfs.FS)
		want    error
		after   string // the value Put leaves, "old" or "new"
		counter faultfs.Op
	}{
		{"failing create of the temporary file", func(f *faultfs.FS) { f.FailAt(faultfs.Create, 1) }, faultfs.ErrInjected, "old", faultfs.Create},
		{"failing write", func(f *faultfs.FS) { f.FailAt(faultfs.Write, 1) }, faultfs.ErrInjected, "old", faultfs.Write},
		{"failing fsync of the file", func(f *faultfs.FS) { f.FailAt(faultfs.Sync, 1) }, faultfs.ErrInjected, "old", faultfs.Sync},
		{"failing rename", func(f *faultfs.FS) { f.FailAt(faultfs.Rename, 1) }, faultfs.ErrInjected, "old", faultfs.Rename},
		{"full disk", func(f *faultfs.FS) { f.LimitSpace(10) }, syscall.ENOSPC, "old", faultfs.Write},
		// After the rename the new value is in place, only its durability
		// is in doubt.
		{"failing fsync of the directory", func(f *faultfs.FS) { f.FailAt(faultfs.DirSync, 1) }, faultfs.ErrInjected, "new", faultfs.DirSync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(store.OSFS())
			s := openDir(t, dir, ffs)
			storetest.Put(t, s, "days/1", "old")
			before := ffs.Count(tc.counter)
			tc.fault(ffs)
			newValue := strings.Repeat("new", 100)
			err := s.Put(ctx, "days/1", []byte(newValue))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "days/1") {
				t.Fatalf("Put: %v; want an error wrapping %v and naming the key", err, tc.want)
			}
			if ffs.Count(tc.counter) != before+1 {
				t.Errorf("%v count went from %d to %d, want one more", tc.counter, before, ffs.Count(tc.counter))
			}
			if tc.after == "old" {
				storetest.WantValue(t, s, "days/1", "old")
			} else {
				storetest.WantValue(t, s, "days/1", newValue)
			}
			if left := tempFiles(t, dir); len(left) != 0 {
				t.Fatalf("temporary files left: %q", left)
			}
			ffs.LimitSpace(-1)
			storetest.Put(t, s, "days/1", "again") // the fault was one-shot
			storetest.WantValue(t, s, "days/1", "again")
		})
	}
}

func TestDirNewDirectoryFaults(t *testing.T) {
	ctx := context.Background()
	for _, op := range []faultfs.Op{faultfs.Mkdir, faultfs.DirSync} {
		t.Run(op.String(), func(t *testing.T) {
			ffs := faultfs.New(store.OSFS())
			s := openDir(t, t.TempDir(), ffs)
			ffs.FailAt(op, 1)
			err := s.Put(ctx, "days/2024-01-01/x", []byte("x"))
			if !errors.Is(err, faultfs.ErrInjected) {
				t.Fatalf("Put with a failing %v: %v", op, err)
			}
			if _, err := s.Get(ctx, "days/2024-01-01/x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Get after the failed Put: %v, want ErrNotFound", err)
			}
			storetest.Put(t, s, "days/2024-01-01/x", "x") // a retry makes the directories
			storetest.WantValue(t, s, "days/2024-01-01/x", "x")
		})
	}
}

func TestDirDeleteFaults(t *testing.T) {
	ctx := context.Background()
	for _, op := range []faultfs.Op{faultfs.Remove, faultfs.DirSync} {
		t.Run(op.String(), func(t *testing.T) {
			ffs := faultfs.New(store.OSFS())
			s := openDir(t, t.TempDir(), ffs)
			storetest.Put(t, s, "days/1", "old")
			ffs.FailAt(op, 1)
			if err := s.Delete(ctx, "days/1"); !errors.Is(err, faultfs.ErrInjected) || !strings.Contains(err.Error(), "days/1") {
				t.Fatalf("Delete with a failing %v: %v; want an error naming the key", op, err)
			}
			if err := s.Delete(ctx, "days/1"); err != nil {
				t.Fatalf("Delete retried: %v", err)
			}
			if _, err := s.Get(ctx, "days/1"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Get after Delete: %v", err)
			}
		})
	}
}

// TestDirPutProtocol counts the operations of Puts: one temporary file,
// one write, one fsync, one rename and one fsync of the directory, plus,
// the first time in a directory, a mkdir and an fsync of the parent of
// each level not known yet.
func TestDirPutProtocol(t *testing.T) {
	ffs := faultfs.New(store.OSFS())
	s := openDir(t, t.TempDir(), ffs)
	ops := []faultfs.Op{faultfs.Create, faultfs.Write, faultfs.Sync, faultfs.Rename, faultfs.DirSync, faultfs.Mkdir, faultfs.Remove}
	for _, tc := range []struct {
		key  string
		want []int // per op, in the order of ops
	}{
		{"days/2024-01-01/x", []int{1, 1, 1, 1, 3, 2, 0}},
		{"days/2024-01-01/y", []int{1, 1, 1, 1, 1, 0, 0}},
		{"days/2024-01-02/x", []int{1, 1, 1, 1, 2, 1, 0}},
		{"meta.json", []int{1, 1, 1, 1, 1, 0, 0}},
	} {
		var before []int
		for _, op := range ops {
			before = append(before, ffs.Count(op))
		}
		storetest.Put(t, s, tc.key, "v")
		for i, op := range ops {
			if got := ffs.Count(op) - before[i]; got != tc.want[i] {
				t.Errorf("Put(%s): %d %v, want %d", tc.key, got, op, tc.want[i])
			}
		}
	}
}

func TestDirClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	storetest.Put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, getErr := s.Get(ctx, "k")
	_, listErr := s.List(ctx, "")
	for op, err := range map[string]error{
		"Get": getErr, "List": listErr, "Put": s.Put(ctx, "k", nil),
		"Delete": s.Delete(ctx, "k"), "Close": s.Close(),
	} {
		if !errors.Is(err, store.ErrClosed) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s after Close: %v; want ErrClosed naming the directory", op, err)
		}
	}
}

func ExampleDir() {
	dir, err := os.MkdirTemp("", "insights-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	s, err := store.Dir(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	_ = s.Put(ctx, "days/2026-03-01", []byte("segment"))
	_ = s.Put(ctx, "meta.json", []byte(`{"zone":"UTC"}`))
	keys, _ := s.List(ctx, "days/")
	fmt.Println(keys)

	_, err = store.Dir(dir, nil) // a second opener is refused
	fmt.Println(errors.Is(err, store.ErrLocked))
	_, err = s.Get(ctx, "../etc/passwd")
	fmt.Println(errors.Is(err, store.ErrInvalidKey))
	// Output:
	// [days/2026-03-01]
	// true
	// true
}
