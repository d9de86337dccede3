package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
)

// Put implements Store by the protocol of the package documentation:
// write a temporary file, fsync it, rename it over the key's file, fsync
// the directory. That costs two fsyncs, plus one per directory level the
// first time this DirStore puts a key in a directory.
//
// On an error before the rename, the temporary file is removed and the
// old value stays. An error from the final fsync means the new value is
// in place but may not survive a power loss: put it again.
func (d *DirStore) Put(ctx context.Context, key string, value []byte) error {
	if err := d.begin(ctx, "put", key); err != nil {
		return err
	}
	defer d.mu.RUnlock()
	if err := d.put(key, value); err != nil {
		return fmt.Errorf("store: put %s: %w", key, err)
	}
	return nil
}

func (d *DirStore) put(key string, value []byte) error {
	rel := path.Dir(key)
	if rel == "." {
		rel = ""
	}
	known := rel == "" // the root exists since Dir
	if !known {
		_, known = d.dirs.Load(rel)
	}
	if !known {
		if err := d.makeDirs(rel); err != nil {
			return err
		}
	}
	dir := d.path(rel)
	tmp := filepath.Join(dir, tempPrefix+strconv.FormatUint(d.seq.Add(1), 10))
	f, err := d.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if known && errors.Is(err, fs.ErrNotExist) {
			d.dirs.Clear() // removed behind our back: make them again next time
		}
		return err
	}
	if !known { // a file was made in rel, so it and its parents are directories
		for r := rel; r != "."; r = path.Dir(r) {
			d.dirs.Store(r, struct{}{})
		}
	}
	err = writeFile(f, value)
	if err == nil {
		err = d.fs.Rename(tmp, d.path(key))
	}
	if err != nil {
		return errors.Join(err, d.fs.Remove(tmp))
	}
	return syncDir(d.fs, dir)
}

// writeFile writes value to f, fsyncs and closes it.
func writeFile(f File, value []byte) error {
	n, err := f.Write(value)
	if err == nil && n < len(value) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// makeDirs creates the key directory rel and its missing parents and
// fsyncs the parent of each level not in d.dirs, whether this call made
// it or not: one that another goroutine, or a process that crashed, has
// just made may not be durable yet.
func (d *DirStore) makeDirs(rel string) error {
	if rel == "" {
		return nil
	}
	if _, ok := d.dirs.Load(rel); ok {
		return nil
	}
	parent := path.Dir(rel)
	if parent == "." {
		parent = ""
	}
	if err := d.makeDirs(parent); err != nil {
		return err
	}
	if err := d.fs.Mkdir(d.path(rel), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(d.fs, d.path(parent))
}
