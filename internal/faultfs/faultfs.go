// Package faultfs is a store.FS that makes chosen operations fail, for
// tests of what a DirStore does and leaves behind when a write, an
// fsync or a rename fails, or the disk is full:
//
//	ffs := faultfs.New(store.OSFS())
//	ffs.FailAt(faultfs.Sync, 1) // the next fsync of a file fails
//	s, err := store.Dir(dir, &store.DirOptions{FS: ffs})
//
// It counts operations of each Op kind, failed ones included; ReadDir,
// Lock and opening without os.O_CREATE pass through uncounted. An FS is
// safe for concurrent use: its counters, pending faults and space budget
// are shared by every goroutine and every file it opened.
package faultfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/insightslab/insights/store"
)

// ErrInjected is the cause of every injected fault, wrapped in an
// *fs.PathError naming the operation and the file.
var ErrInjected = errors.New("faultfs: injected fault")

// Op is a kind of operation that FS counts and can fail.
type Op int

const (
	Create  Op = iota // OpenFile with os.O_CREATE
	Write             // File.Write
	Sync              // File.Sync of a regular file
	DirSync           // File.Sync of a directory
	Rename            // FS.Rename
	Remove            // FS.Remove
	Mkdir             // FS.Mkdir
	numOps
)

var opNames = [numOps]string{"create", "write", "sync", "dirsync", "rename", "remove", "mkdir"}

// String returns the operation's lower-case name, as in "dirsync".
func (op Op) String() string {
	if op < 0 || op >= numOps {
		return "Op(" + strconv.Itoa(int(op)) + ")"
	}
	return opNames[op]
}

// FS wraps a store.FS. Create one with New.
type FS struct {
	base store.FS

	mu     sync.Mutex
	count  [numOps]int
	failAt [numOps]int // the count at which op fails; 0: none pending
	space  int64       // bytes writes may still store; negative: no limit
}

// New returns an FS that passes every operation to base until told to
// fail some.
func New(base store.FS) *FS { return &FS{base: base, space: -1} }

// FailAt makes the nth operation of kind op from now on (1: the next one)
// fail with ErrInjected, without reaching the wrapped FS; the ones before
// and after it succeed. It replaces any fault pending for op; n ≤ 0
// cancels it.
func (f *FS) FailAt(op Op, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAt[op] = 0
	if n > 0 {
		f.failAt[op] = f.count[op] + n
	}
}

// LimitSpace lets Writes store n more bytes in all, as a disk with n bytes
// free: a Write past them stores what fits and fails with syscall.ENOSPC.
// A negative n removes the limit. Removing files frees nothing.
func (f *FS) LimitSpace(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.space = n
}

// Count returns how many operations of kind op were attempted.
func (f *FS) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[op]
}

// hit counts an operation of kind op and returns the error it must fail
// with, or nil.
func (f *FS) hit(op Op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count[op]++
	if f.count[op] != f.failAt[op] {
		return nil
	}
	f.failAt[op] = 0
	return &fs.PathError{Op: op.String(), Path: name, Err: ErrInjected}
}

// reserve takes up to n bytes from the space budget and returns how many.
func (f *FS) reserve(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.space < 0 {
		return n
	}
	n = int(min(int64(n), f.space))
	f.space -= int64(n)
	return n
}

// OpenFile implements store.FS, counting and failing Create.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (store.File, error) {
	if flag&os.O_CREATE != 0 {
		if err := f.hit(Create, name); err != nil {
			return nil, err
		}
	}
	file, err := f.base.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

// Mkdir implements store.FS, counting and failing Mkdir.
func (f *FS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.hit(Mkdir, name); err != nil {
		return err
	}
	return f.base.Mkdir(name, perm)
}

// Rename implements store.FS, counting and failing Rename.
func (f *FS) Rename(oldpath, newpath string) error {
	if f.hit(Rename, newpath) != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: ErrInjected}
	}
	return f.base.Rename(oldpath, newpath)
}

// Remove implements store.FS, counting and failing Remove.
func (f *FS) Remove(name string) error {
	if err := f.hit(Remove, name); err != nil {
		return err
	}
	return f.base.Remove(name)
}

// ReadDir implements store.FS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) { return f.base.ReadDir(name) }

// Lock implements store.FS.
func (f *FS) Lock(name string) (io.Closer, error) { return f.base.Lock(name) }

// LockShared implements store.FS.
func (f *FS) LockShared(name string) (io.Closer, error) { return f.base.LockShared(name) }

// faultFile is a file opened through an FS.
type faultFile struct {
	store.File
	fs   *FS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.hit(Write, f.name); err != nil {
		return 0, err
	}
	fits := f.fs.reserve(len(p))
	n, err := f.File.Write(p[:fits])
	if err == nil && fits < len(p) {
		err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *faultFile) Sync() error {
	fi, err := f.File.Stat()
	if err != nil {
		return err
	}
	op := Sync
	if fi.IsDir() {
		op = DirSync
	}
	if err := f.fs.hit(op, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}
