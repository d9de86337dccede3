// Package strictfs is an in-memory store.FS that loses power on demand,
// in the manner of pebble's vfs.NewStrictMem: a crash forgets every write
// and every directory entry that was not synced, which a test that kills a
// process cannot observe (the page cache survives the process).
//
//	sfs := strictfs.New()
//	sfs.FailFrom(n) // the nth mutating operation from now on, and all after it, fail
//	... run a workload on store.Dir("/db", &store.DirOptions{FS: sfs}) until it fails ...
//	sfs.Crash()     // power loss: only what was synced remains
//	... open store.Dir("/db", ...) again and check what survived ...
//
// # Model
//
// A file has its current contents, which reads see, and its durable
// contents: the current ones as of its last successful Sync. A directory
// has its current entries and its durable entries: the current ones as
// of its last successful Sync of the directory (a File opened on the
// directory). So creating, renaming, removing a file or making a
// directory is durable only once its parent directory is synced, and a
// file's data only once the file is synced. An entry names a file or
// directory itself, not a copy: a file renamed into a synced directory
// whose old directory was not synced since is, after a crash, in both.
//
// Crash replaces, from the root down, every directory's current entries
// with its durable ones and every file's contents with its durable
// contents; what no durable entry reaches is gone, with its contents.
// It also releases every lock, makes every File opened before it fail
// with ErrCrashed, and ends FailFrom's failures. The root directory
// always exists.
//
// Writes are never torn: a file's durable contents are those of one of
// its Syncs. A failed operation has no effect.
//
// # Failures
//
// The FS counts mutating operations: opening with os.O_CREATE (Lock
// excluded), Write, Sync of a file or a directory, Rename, Remove and
// Mkdir, failed ones included. FailFrom(n) makes the
// nth of them from now on fail, and every operation of any kind after it
// (reads, ReadDir, Stat, Close and Lock too), with an error wrapping
// ErrInjected, as a process that died at that operation would do no more
// of them. A test runs a workload once to count its operations (Ops), then
// once for each crash point n: FailFrom(n), run until the first error,
// Crash, reopen, check.
//
// # Concurrency
//
// An FS and its Files are safe for concurrent use by many goroutines: one
// mutex guards the whole tree. Every operation copies what it reads or
// writes; Sync of a file copies its contents and Sync of a directory its
// entries, so each costs time in their size.
//
// # Caveats
//
// Paths must be absolute; they are cleaned. There are no symbolic links,
// permissions (perm is ignored; files read as 0600, directories 0700),
// times, or hard links other than the crash's. Open
// flags other than the access mode, os.O_CREATE, os.O_EXCL, os.O_TRUNC
// and os.O_APPEND are ignored.
package strictfs

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/insightslab/insights/store"
)

var (
	// ErrInjected is the cause of every failure FailFrom injects, wrapped
	// in an *fs.PathError or *os.LinkError naming the operation and file.
	ErrInjected = errors.New("strictfs: injected failure")
	// ErrCrashed is the cause of the error of every call on a File or a
	// lock opened before the last Crash.
	ErrCrashed = errors.New("strictfs: opened before a crash")
)

// FS is an in-memory store.FS with power-loss semantics. Create one with
// New; see the package documentation for the model.
type FS struct {
	mu       sync.Mutex
	root     *node
	locks    map[*node]int // files whose lock is held: -1 by Lock, else by that many LockShared
	epoch    int           // Crashes so far: Files of an earlier epoch fail
	ops      int           // mutating operations attempted
	failFrom int           // the op count from which everything fails; 0: none
	failing  bool
}

// node is a file or a directory. A directory has children; a file data.
type node struct {
	dir           bool
	data, durable []byte           // a file's current and durable contents
	children      map[string]*node // a directory's current entries
	synced        map[string]*node // a directory's durable entries
}

func newDir() *node {
	return &node{dir: true, children: map[string]*node{}, synced: map[string]*node{}}
}

// New returns an empty FS: a root directory, durable, with no entries.
func New() *FS { return &FS{root: newDir(), locks: map[*node]int{}} }

// Ops returns how many mutating operations the FS has counted since New.
func (f *FS) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// FailFrom makes the nth mutating operation from now on (1: the next one)
// fail with ErrInjected, and after it every operation until Crash. n ≤ 0
// cancels failures not yet started.
func (f *FS) FailFrom(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failFrom = 0
	if n > 0 {
		f.failFrom = f.ops + n
	}
}

// Crash simulates a power loss and a restart: it keeps only what was
// durable, as the package documentation describes, releases every lock,
// ends the failures of FailFrom and invalidates every File and lock
// obtained before it. Its cost grows with the durable tree's size.
func (f *FS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root.restore()
	clear(f.locks)
	f.epoch++
	f.failFrom, f.failing = 0, false
}

// restore makes n's durable state its current one, recursively.
func (n *node) restore() {
	if !n.dir {
		n.data = slices.Clone(n.durable)
		return
	}
	n.children = maps.Clone(n.synced)
	for _, c := range n.children {
		c.restore()
	}
}

// check fails with ErrInjected if the FS is failing, counting the
// operation first if it mutates. f.mu is held.
func (f *FS) check(mutating bool) error {
	if mutating {
		f.ops++
		f.failing = f.failing || f.ops == f.failFrom
	}
	if f.failing {
		return ErrInjected
	}
	return nil
}

// lookup returns the parent directory of name, the last element of name,
// and the node it names (nil if none). f.mu is held.
func (f *FS) lookup(name string) (parent *node, base string, n *node, err error) {
	if !filepath.IsAbs(name) {
		return nil, "", nil, syscall.EINVAL
	}
	name = filepath.Clean(name)
	if name == "/" {
		return nil, "", f.root, nil
	}
	parent = f.root
	elems := strings.Split(name[1:], "/")
	for _, e := range elems[:len(elems)-1] {
		next := parent.children[e]
		switch {
		case next == nil:
			return nil, "", nil, syscall.ENOENT
		case !next.dir:
			return nil, "", nil, syscall.ENOTDIR
		}
		parent = next
	}
	base = elems[len(elems)-1]
	return parent, base, parent.children[base], nil
}

// OpenFile implements store.FS. A directory opens read-only; its File
// reads nothing, and its Sync makes its entries durable.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (store.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	create := flag&os.O_CREATE != 0
	if err := f.check(create); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	parent, base, n, err := f.lookup(name)
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	switch {
	case err != nil:
	case n == nil && !create:
		err = syscall.ENOENT
	case n == nil:
		n = &node{}
		parent.children[base] = n
	case create && flag&os.O_EXCL != 0:
		err = syscall.EEXIST
	case n.dir && acc != os.O_RDONLY:
		err = syscall.EISDIR
	case flag&os.O_TRUNC != 0 && acc != os.O_RDONLY:
		n.data = nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &File{fs: f, n: n, name: name, epoch: f.epoch, flag: flag}, nil
}

// Mkdir implements store.FS.
func (f *FS) Mkdir(name string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(true); err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	parent, base, n, err := f.lookup(name)
	switch {
	case err != nil:
	case n != nil:
		err = syscall.EEXIST
	default:
		parent.children[base] = newDir()
	}
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return nil
}

// Rename implements store.FS: it moves a file or a directory, replacing
// a file, or an empty directory, at newpath.
func (f *FS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.rename(oldpath, newpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

func (f *FS) rename(oldpath, newpath string) error {
	if err := f.check(true); err != nil {
		return err
	}
	oldParent, oldBase, n, err := f.lookup(oldpath)
	if err != nil {
		return err
	}
	newParent, newBase, target, err := f.lookup(newpath)
	switch {
	case err != nil:
		return err
	case n == nil:
		return syscall.ENOENT
	case oldParent == nil || newParent == nil:
		return syscall.EBUSY // the root
	case n.dir && strings.HasPrefix(filepath.Clean(newpath)+"/", filepath.Clean(oldpath)+"/"):
		return syscall.EINVAL // into itself
	case target == n:
		return nil // one file under both names: nothing to do
	case target == nil:
	case n.dir && !target.dir:
		return syscall.ENOTDIR
	case !n.dir && target.dir:
		return syscall.EISDIR
	case target.dir && len(target.children) > 0:
		return syscall.ENOTEMPTY
	}
	delete(oldParent.children, oldBase)
	newParent.children[newBase] = n
	return nil
}

// Remove implements store.FS: it removes a file, never a directory.
func (f *FS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(true); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	parent, base, n, err := f.lookup(name)
	switch {
	case err != nil:
	case n == nil:
		err = syscall.ENOENT
	case n.dir:
		err = syscall.EISDIR
	default:
		delete(parent.children, base)
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// ReadDir implements store.FS, returning the current entries sorted by
// name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(false); err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	_, _, n, err := f.lookup(name)
	switch {
	case err != nil:
	case n == nil:
		err = syscall.ENOENT
	case !n.dir:
		err = syscall.ENOTDIR
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(n.children))
	for _, k := range slices.Sorted(maps.Keys(n.children)) {
		out = append(out, fs.FileInfoToDirEntry(n.children[k].info(k)))
	}
	return out, nil
}

// Lock implements store.FS: it creates the file name if missing (an
// entry durable once its directory is synced) and locks it, the file
// rather than the name, until the returned Closer is closed or the FS
// crashes.
func (f *FS) Lock(name string) (io.Closer, error) { return f.lock(name, false) }

// LockShared implements store.FS: it takes a shared lock on the existing
// file name, which Lock excludes and other LockShared calls share.
func (f *FS) LockShared(name string) (io.Closer, error) { return f.lock(name, true) }

// lock takes an exclusive lock on name, creating the file if missing, or
// a shared one on the existing file.
func (f *FS) lock(name string, shared bool) (io.Closer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(false); err != nil {
		return nil, &fs.PathError{Op: "flock", Path: name, Err: err}
	}
	parent, base, n, err := f.lookup(name)
	switch {
	case err != nil:
	case n == nil && shared:
		err = syscall.ENOENT
	case n == nil:
		n = &node{}
		parent.children[base] = n
	case n.dir:
		err = syscall.EISDIR
	case f.locks[n] < 0 || !shared && f.locks[n] > 0:
		err = syscall.EWOULDBLOCK
	}
	if err != nil {
		return nil, &fs.PathError{Op: "flock", Path: name, Err: err}
	}
	if shared {
		f.locks[n]++
	} else {
		f.locks[n] = -1
	}
	return &lock{fs: f, n: n, name: name, epoch: f.epoch, shared: shared}, nil
}

// lock is a lock Lock or LockShared took.
type lock struct {
	fs     *FS
	n      *node
	name   string
	epoch  int
	shared bool
	closed bool
}

// Close releases the lock: after a crash, which released it already, it
// fails with ErrCrashed.
func (l *lock) Close() error {
	f := l.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.check(false)
	switch {
	case l.closed:
		err = fs.ErrClosed
	case l.epoch != f.epoch:
		err = ErrCrashed
	}
	if err != nil {
		return &fs.PathError{Op: "close", Path: l.name, Err: err}
	}
	l.closed = true
	if f.locks[l.n]--; !l.shared || f.locks[l.n] == 0 {
		delete(f.locks, l.n)
	}
	return nil
}

// File is a file or directory opened by an FS. It is safe for concurrent
// use, and fails with ErrCrashed once the FS has crashed since its
// opening.
type File struct {
	fs     *FS
	n      *node
	name   string
	epoch  int
	flag   int
	off    int
	closed bool
}

// begin locks the FS and checks that f may be used for op. When it
// returns nil, the caller must unlock f.fs.mu.
func (f *File) begin(op string, mutating bool) error {
	f.fs.mu.Lock()
	err := f.fs.check(mutating)
	switch {
	case f.closed:
		err = fs.ErrClosed
	case f.epoch != f.fs.epoch:
		err = ErrCrashed
	}
	if err != nil {
		f.fs.mu.Unlock()
		return &fs.PathError{Op: op, Path: f.name, Err: err}
	}
	return nil
}

// Read implements io.Reader, reading the current contents.
func (f *File) Read(p []byte) (int, error) {
	if err := f.begin("read", false); err != nil {
		return 0, err
	}
	defer f.fs.mu.Unlock()
	switch {
	case f.n.dir:
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: syscall.EISDIR}
	case f.flag&(os.O_WRONLY|os.O_RDWR) == os.O_WRONLY:
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: syscall.EBADF}
	case f.off >= len(f.n.data):
		return 0, io.EOF
	}
	n := copy(p, f.n.data[f.off:])
	f.off += n
	return n, nil
}

// Write implements io.Writer: the data is current, not durable until
// Sync.
func (f *File) Write(p []byte) (int, error) {
	if err := f.begin("write", true); err != nil {
		return 0, err
	}
	defer f.fs.mu.Unlock()
	if f.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EBADF}
	}
	if f.flag&os.O_APPEND != 0 {
		f.off = len(f.n.data)
	}
	if end := f.off + len(p); end > len(f.n.data) {
		f.n.data = append(f.n.data, make([]byte, end-len(f.n.data))...)
	}
	f.off += copy(f.n.data[f.off:], p)
	return len(p), nil
}

// Sync makes a file's current contents, or a directory's current
// entries, durable.
func (f *File) Sync() error {
	if err := f.begin("sync", true); err != nil {
		return err
	}
	defer f.fs.mu.Unlock()
	if f.n.dir {
		f.n.synced = maps.Clone(f.n.children)
	} else {
		f.n.durable = slices.Clone(f.n.data)
	}
	return nil
}

// Stat implements store.File, describing the current state.
func (f *File) Stat() (fs.FileInfo, error) {
	if err := f.begin("stat", false); err != nil {
		return nil, err
	}
	defer f.fs.mu.Unlock()
	return f.n.info(filepath.Base(f.name)), nil
}

// Close implements io.Closer. Closing makes nothing durable.
func (f *File) Close() error {
	if err := f.begin("close", false); err != nil {
		return err
	}
	defer f.fs.mu.Unlock()
	f.closed = true
	return nil
}

// info describes n under the name name.
func (n *node) info(name string) fs.FileInfo {
	fi := fileInfo{name: name, size: int64(len(n.data)), mode: 0o600}
	if n.dir {
		fi.size, fi.mode = 0, fs.ModeDir|0o700
	}
	return fi
}

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }
