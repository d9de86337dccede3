package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

var (
	// ErrClosed is returned by the methods of a DirStore after Close.
	ErrClosed = errors.New("store: closed")
	// ErrLocked is returned by Dir for a directory that another DirStore,
	// in this process or another, holds open.
	ErrLocked = errors.New("store: directory is locked by another process")
	// ErrNotStore is returned by Dir for a directory that holds files but
	// was never a store's: it has no LOCK file and no meta.json.
	ErrNotStore = errors.New("store: not a store directory")
)

// DirOptions configures Dir. A nil *DirOptions and the zero value mean
// the defaults.
type DirOptions struct {
	// FS is the file system to work through; nil means OSFS(). The
	// DirStore uses it until Close and does not close it.
	FS FS
	// ReadOnly opens an existing directory for reading only: Dir creates
	// nothing, removes nothing and writes no LOCK file; it takes a shared
	// lock on LOCK when there is one, so that it fails with ErrLocked
	// while a writing DirStore holds the directory, and a writer fails
	// while it is open. Put and Delete return an error wrapping
	// ErrReadOnly. A read-only mount, a backup or another user's store
	// can be read this way.
	ReadOnly bool
	// Follow opens an existing directory that another DirStore, in this
	// process or another, writes: read-only like ReadOnly (nothing is
	// created, removed or written), but it takes no lock at all, so the
	// writer keeps its exclusive lock and opens and closes as it likes.
	// Get and List see the writer's Puts and Deletes as they happen: a
	// value whole (Puts rename), a key that a List returned possibly gone
	// by the Get (ErrNotFound). An insights engine opened with
	// Options.Follow reads a directory this way. Follow implies ReadOnly.
	Follow bool
}

// DirStore is a Store on a directory, durable across crashes and power
// loss: see the package documentation for the layout and the protocol.
// Open one with Dir and Close it when done.
//
// A DirStore is safe for concurrent use by many goroutines. Calls on
// different keys proceed in parallel; Puts of one key are atomic and the
// last one renamed into place wins. Get and List see each key's old or
// new value, never a mix, but List is not a snapshot across keys.
type DirStore struct {
	fs       FS
	root     string // absolute
	readOnly bool
	seq      atomic.Uint64

	// dirs holds the directories (relative to root, "" excluded) that a
	// temporary file was created in, so known to exist with their entries
	// fsynced: later Puts there skip makeDirs.
	dirs sync.Map

	mu   sync.RWMutex // read-held by every call, write-held by Close
	lock io.Closer    // nil once closed; noLock for a read-only DirStore without a LOCK file
}

// noLock stands for the lock that a following DirStore, or a read-only
// one on a directory without a LOCK file, does not hold.
type noLock struct{}

func (noLock) Close() error { return nil }

// Dir opens the directory path as a Store, creating it and its missing
// parents, and fsyncs the directory holding it, so that it must be able
// to read that directory. It takes an exclusive lock on the file LOCK inside, held until
// Close: while it is held, Dir on the same directory, in this process or
// another, fails with an error wrapping ErrLocked, after trying again for
// 100 ms (a child process being started holds a copy of a closed lock for
// a moment). It removes the
// temporary files that a crash in the middle of a Put left behind, which
// costs a walk of the whole tree. It creates directories with mode 0700
// and files with mode 0600: the values may hold personal data.
//
// A directory that holds files but neither a LOCK file nor a meta.json
// (the insights engine's metadata, which a backup that leaves lock files
// out still has) was never a store's: Dir refuses it with an error
// wrapping ErrNotStore rather than write its files beside the user's (an
// empty directory, or one holding only "lost+found", becomes a store). DirOptions.ReadOnly opens an existing
// store without writing anything; DirOptions.Follow, one that another
// DirStore is writing.
//
// Keys are slash-separated paths of one or more segments of ASCII letters,
// digits, '.', '_' and '-', at most 512 bytes long; a segment may not be
// empty, longer than 255 bytes or start with a dot, and the first may not
// be "LOCK". The key "days/2024-01-01.v3" is the file
// <path>/days/2024-01-01.v3. Other keys give an error wrapping
// ErrInvalidKey. Unlike Memory, a DirStore cannot hold both a key and
// keys below it ("a" and "a/b"): the second Put fails.
func Dir(path string, opts *DirOptions) (*DirStore, error) {
	d := &DirStore{fs: OSFS()}
	if opts != nil && opts.FS != nil {
		d.fs = opts.FS
	}
	root, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	d.root = root
	switch {
	case opts != nil && opts.Follow:
		d.readOnly = true
		d.lock, err = noLock{}, checkDir(d.fs, root)
	case opts != nil && opts.ReadOnly:
		d.readOnly = true
		d.lock, err = d.fs.LockShared(filepath.Join(root, lockName))
		if errors.Is(err, fs.ErrNotExist) {
			// No writer ever locked it, or the directory is missing.
			d.lock, err = noLock{}, checkDir(d.fs, root)
		}
	default:
		err = mkdirAll(d.fs, root)
		if err == nil {
			err = checkStoreDir(d.fs, root)
		}
		if err == nil {
			d.lock, err = d.fs.Lock(filepath.Join(root, lockName))
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", root, err)
	}
	if d.readOnly {
		return d, nil
	}
	if err := d.removeTemps(""); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", root, err), d.lock.Close())
	}
	return d, nil
}

// checkStoreDir refuses the directory root when it holds files but
// neither a LOCK file nor the engine's meta.json: a directory that no
// DirStore ever opened, and not empty.
func checkStoreDir(fsys FS, root string) error {
	entries, err := fsys.ReadDir(root)
	if err != nil {
		return err
	}
	var others []string
	for _, e := range entries {
		switch name := e.Name(); {
		case name == lockName || name == metaName:
			return nil
		case name == "lost+found" || strings.HasPrefix(name, tempPrefix):
		default:
			others = append(others, name)
		}
	}
	if len(others) == 0 {
		return nil
	}
	slices.Sort(others)
	if len(others) > 3 {
		others = append(others[:3], "…")
	}
	return fmt.Errorf("%w: it holds %s but no LOCK or meta.json file; use an empty or new directory",
		ErrNotStore, strings.Join(others, ", "))
}

// checkDir returns nil if dir is a directory, else an error naming it.
func checkDir(fsys FS, dir string) error {
	_, err := fsys.ReadDir(dir)
	return err
}

// Close releases the directory's lock. Calls in progress finish first;
// later calls, Close included, return an error wrapping ErrClosed.
func (d *DirStore) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock == nil {
		return fmt.Errorf("%w: close %s", ErrClosed, d.root)
	}
	err := d.lock.Close()
	d.lock = nil
	if err != nil {
		return fmt.Errorf("store: close %s: %w", d.root, err)
	}
	return nil
}

// Get implements Store: it reads the key's file whole, which costs an
// open, a stat and reads into a buffer of the file's size.
func (d *DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	return d.read(ctx, key, func(name string) ([]byte, error) { return readFile(d.fs, name) })
}

// read returns what read returns of the key's file, read-locked against
// Close.
func (d *DirStore) read(ctx context.Context, key string, read func(name string) ([]byte, error)) ([]byte, error) {
	if err := d.begin(ctx, "get", key); err != nil {
		return nil, err
	}
	defer d.mu.RUnlock()
	b, err := read(d.path(key))
	switch {
	case notFound(err):
		return nil, fmt.Errorf("%w: get %s: %w", ErrNotFound, key, err)
	case err != nil:
		return nil, fmt.Errorf("store: get %s: %w", key, err)
	}
	return b, nil
}

// Delete implements Store: it removes the key's file and fsyncs its
// directory, even when the file is already gone, so that a Delete retried
// after a failed fsync is durable too. Directories left empty stay.
func (d *DirStore) Delete(ctx context.Context, key string) error {
	if err := d.begin(ctx, "delete", key); err != nil {
		return err
	}
	defer d.mu.RUnlock()
	name := d.path(key)
	err := d.fs.Remove(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		err = syncDir(d.fs, filepath.Dir(name))
	}
	if err != nil && !notFound(err) {
		return fmt.Errorf("store: delete %s: %w", key, err)
	}
	return nil
}

// begin checks ctx and key and read-locks d against Close. When it
// returns nil the caller must call d.mu.RUnlock.
func (d *DirStore) begin(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %s %s: %w", op, key, err)
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if d.readOnly && op != "get" {
		return fmt.Errorf("%w: %s %s in %s", ErrReadOnly, op, key, d.root)
	}
	d.mu.RLock()
	if d.lock == nil {
		d.mu.RUnlock()
		return fmt.Errorf("%w: %s %s in %s", ErrClosed, op, key, d.root)
	}
	return nil
}

// path returns the file of key (or directory of a key prefix) rel.
func (d *DirStore) path(rel string) string {
	return filepath.Join(d.root, filepath.FromSlash(rel))
}

// removeTemps removes the temporary files in the directory rel and the
// key directories below it.
func (d *DirStore) removeTemps(rel string) error {
	entries, err := d.fs.ReadDir(d.path(rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		var err error
		switch {
		case strings.HasPrefix(name, tempPrefix) && e.Type().IsRegular():
			err = d.fs.Remove(filepath.Join(d.path(rel), name))
		case e.IsDir() && segmentProblem(name) == "":
			err = d.removeTemps(joinKey(rel, name))
		}
		if err != nil && !notFound(err) {
			return err
		}
	}
	return nil
}

// joinKey joins a key directory (possibly "") and a name.
func joinKey(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// notFound reports whether err says that a key's file is not there: it
// or a parent is missing, a parent is a file, or it is a directory.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.EISDIR)
}

// readFile reads the regular file name whole. A directory gives an error
// wrapping syscall.EISDIR.
func readFile(fsys FS, name string) ([]byte, error) {
	f, size, err := openFile(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()              // read-only: closing cannot lose data
	b := make([]byte, 0, size+1) // +1: see io.EOF without growing
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) { // the file grew since Stat
			b = append(b, 0)[:len(b)]
		}
	}
}

// openFile opens the file name to read, which must not be a directory,
// and returns its size. The caller closes it.
func openFile(fsys FS, name string) (File, int64, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// syncDir fsyncs the directory dir, making its entries durable.
func syncDir(fsys FS, dir string) error {
	f, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAll creates the directory dir and its missing parents, fsyncing
// the parent of each directory it creates, and the parent of dir even if
// dir was there: a Dir call that crashed before its fsync may have made
// it, and it is durable only once its parent is synced.
func mkdirAll(fsys FS, dir string) error {
	err := fsys.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
		if err := mkdirAll(fsys, filepath.Dir(dir)); err != nil {
			return err
		}
		err = fsys.Mkdir(dir, 0o700)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(fsys, filepath.Dir(dir))
}
