package faultfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/insightslab/insights/internal/faultfs"
	"github.com/insightslab/insights/store"
)

func TestFailAtFailsOnlyTheNthOperation(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(store.OSFS())
	ffs.FailAt(faultfs.Mkdir, 2)
	var errs []error
	for _, name := range []string{"a", "b", "c"} {
		errs = append(errs, ffs.Mkdir(filepath.Join(dir, name), 0o700))
	}
	if errs[0] != nil || !errors.Is(errs[1], faultfs.ErrInjected) || errs[2] != nil {
		t.Fatalf("Mkdir errors %v; want only the second to fail", errs)
	}
	var pe *fs.PathError
	if !errors.As(errs[1], &pe) || pe.Path != filepath.Join(dir, "b") {
		t.Fatalf("injected error %v does not name the directory", errs[1])
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the failed Mkdir reached the disk: %v", err)
	}
	if n := ffs.Count(faultfs.Mkdir); n != 3 {
		t.Fatalf("Count(mkdir) = %d, want 3", n)
	}
}

func TestSyncOfAFileAndOfADirectoryAreCountedApart(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(store.OSFS())
	f, err := ffs.OpenFile(filepath.Join(dir, "f"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ffs.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ffs.FailAt(faultfs.DirSync, 1)
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync of a file with a directory fault pending: %v", err)
	}
	if err := d.Sync(); !errors.Is(err, faultfs.ErrInjected) {
		t.Fatalf("Sync of the directory: %v, want ErrInjected", err)
	}
	if s, ds, c := ffs.Count(faultfs.Sync), ffs.Count(faultfs.DirSync), ffs.Count(faultfs.Create); s != 1 || ds != 1 || c != 1 {
		t.Fatalf("counts sync %d, dirsync %d, create %d; want 1 each", s, ds, c)
	}
}

func TestLimitSpaceFillsTheDisk(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(store.OSFS())
	ffs.LimitSpace(5)
	name := filepath.Join(dir, "f")
	f, err := ffs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("Write within the budget = %d, %v", n, err)
	}
	if n, err := f.Write([]byte("defg")); n != 2 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write past the budget = %d, %v; want 2, ENOSPC", n, err)
	}
	if b, _ := os.ReadFile(name); string(b) != "abcde" {
		t.Fatalf("file holds %q, want what fit", b)
	}
	ffs.LimitSpace(-1)
	if _, err := f.Write([]byte("h")); err != nil {
		t.Fatalf("Write without a limit: %v", err)
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[faultfs.Op]string{faultfs.Create: "create", faultfs.DirSync: "dirsync", faultfs.Mkdir: "mkdir", 42: "Op(42)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}
