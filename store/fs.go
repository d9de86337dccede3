package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// FS is the file system a DirStore works through: the operating
// system's by default (OSFS), or a wrapper that injects faults in tests.
// Paths are absolute, built with filepath.Join. Errors should be what the
// os package returns, an *fs.PathError or *os.LinkError naming the file
// and wrapping the system error, so that callers of a DirStore can test
// them with errors.Is.
//
// An FS must be safe for concurrent use by many goroutines: a DirStore
// calls it from the goroutines that call the DirStore, without locking.
type FS interface {
	// OpenFile opens name as os.OpenFile does. A DirStore passes
	// os.O_RDONLY to read a file or fsync a directory, and
	// os.O_WRONLY|os.O_CREATE|os.O_EXCL to create a temporary file.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Mkdir creates the directory name as os.Mkdir does, failing with an
	// error wrapping fs.ErrExist if something by that name exists.
	Mkdir(name string, perm fs.FileMode) error
	// Rename moves oldpath to newpath, atomically replacing any file
	// there, as rename(2) does.
	Rename(oldpath, newpath string) error
	// Remove removes the file name as unlink(2) does: never a directory.
	Remove(name string) error
	// ReadDir returns the entries of the directory name, in any order.
	ReadDir(name string) ([]fs.DirEntry, error)
	// Lock creates the file name if missing and takes an exclusive lock
	// on it without waiting, failing with an error wrapping
	// syscall.EWOULDBLOCK while another holder has it. The lock excludes
	// other processes and other Lock calls in this one; closing the
	// returned Closer releases it.
	Lock(name string) (io.Closer, error)
	// LockShared opens the existing file name for reading, failing with
	// an error wrapping fs.ErrNotExist if it is missing, and takes a
	// shared lock on it without waiting: it fails with an error wrapping
	// syscall.EWOULDBLOCK while a Lock holder has it, and Lock fails
	// while a LockShared holder has it. Closing the Closer releases it.
	LockShared(name string) (io.Closer, error)
}

// File is an open file or directory of an FS. A DirStore uses a File
// from one goroutine, writes a file it created with one Write, and
// always closes it. *os.File implements File.
type File interface {
	io.Reader
	io.Writer
	io.Closer
	// Sync commits the file's contents (a directory's entries) to stable
	// storage, as fsync(2) does.
	Sync() error
	// Stat describes the file; a DirStore uses its size and mode.
	Stat() (fs.FileInfo, error)
}

// OSFS returns the operating system's file system, the one Dir uses when
// DirOptions.FS is nil. It is stateless and safe for concurrent use;
// wrap it to observe or fail operations.
func OSFS() FS { return osFS{} }

// osFS is FS on the os package and flock(2).
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil File
	}
	return f, nil
}

func (osFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (osFS) Remove(name string) error {
	if err := syscall.Unlink(name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

func (osFS) Lock(name string) (io.Closer, error) {
	return flock(name, os.O_RDWR|os.O_CREATE, syscall.LOCK_EX)
}

func (osFS) LockShared(name string) (io.Closer, error) {
	return flock(name, os.O_RDONLY, syscall.LOCK_SH)
}

// flock opens name with flag and locks it with how (LOCK_EX or LOCK_SH)
// without waiting, but for lockRetry: a child process this process
// starts holds a copy of its descriptors from its fork until it has
// exec'd, and with a copy of an earlier lock's, the lock, so that a store
// closed and opened again at that moment was refused with ErrLocked (a
// flake of the tests, whose crash tests start children beside others
// that reopen stores; TestDirReopenBesideChildProcesses).
func flock(name string, flag, how int) (io.Closer, error) {
	f, err := os.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for deadline := time.Now().Add(lockRetry); ; wait *= 2 {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().Add(wait).After(deadline) {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "flock", Path: name, Err: err}
	}
	return f, nil
}

// lockRetry is how long flock tries again a lock held elsewhere: a lock
// another process or store holds is refused after it.
const lockRetry = 100 * time.Millisecond
