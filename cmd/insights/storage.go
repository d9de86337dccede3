package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// engine is an Engine on a directory store, which close closes both of.
type engine struct {
	*insights.Engine
	st *store.DirStore
}

// access is how a subcommand uses its store.
type access int

const (
	// readOnly opens an existing store without writing anything: no LOCK
	// file, no checkpoint, no leftover removed, so that a store on a
	// read-only mount, a backup or another user's store can be queried,
	// and the directory stays byte for byte as it was.
	readOnly access = iota
	// readWrite opens a store for import and init, creating a missing or
	// empty directory as a new store.
	readWrite
	// readWriteExisting opens an existing store for writing (risk-state,
	// rescan): a missing or empty directory is an error, as with readOnly.
	readWriteExisting
)

// openEngine opens the store in dir. With readWrite, a missing or empty
// directory becomes a new store in zone ("" means UTC); with readOnly, it
// must hold a store already, so that a mistyped path is an error rather
// than an empty answer; so with readWriteExisting. zone, when given, must
// be the store's.
func openEngine(ctx context.Context, dir, zone string, mode access) (*engine, error) {
	switch fi, err := os.Stat(dir); {
	case mode != readWrite && errors.Is(err, os.ErrNotExist):
		return nil, badInput("-store %s: no such store (create it with init or import)", dir)
	case err == nil && !fi.IsDir():
		return nil, badInput("-store %s: not a directory", dir)
	}
	st, err := store.Dir(dir, &store.DirOptions{ReadOnly: mode == readOnly})
	switch {
	case errors.Is(err, store.ErrLocked):
		return nil, fmt.Errorf("-store %s: in use by another process", dir)
	case errors.Is(err, store.ErrNotStore):
		return nil, badInput("-store %s: %v", dir, err)
	case err != nil:
		return nil, fmt.Errorf("-store %s: %w", dir, err)
	}
	if mode != readWrite {
		keys, err := st.List(ctx, "")
		if err == nil && len(keys) == 0 {
			err = badInput("-store %s: not an insights store (create it with init or import)", dir)
		}
		if err != nil {
			return nil, errors.Join(err, st.Close())
		}
	}
	eng, err := insights.Open(ctx, st, &insights.Options{Zone: zone, ReadOnly: mode == readOnly})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("-store %s: %w", dir, err), st.Close())
	}
	return &engine{Engine: eng, st: st}, nil
}

// close closes the engine, which writes a checkpoint unless read-only,
// then the store.
func (e *engine) close() error {
	return errors.Join(e.Engine.Close(), e.st.Close())
}

// withEngine opens the store, runs fn on it and closes it, joining the
// errors of fn and of closing.
func withEngine(ctx context.Context, dir, zone string, mode access, fn func(*engine) error) error {
	eng, err := openEngine(ctx, dir, zone, mode)
	if err != nil {
		return err
	}
	return errors.Join(fn(eng), eng.close())
}
