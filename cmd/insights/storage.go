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

// openEngine opens the store in dir. With create, a missing or empty
// directory becomes a new store in zone ("" means UTC); without, it must
// hold a store already, so that a mistyped path is an error rather than
// an empty answer. zone, when given, must be the store's.
func openEngine(ctx context.Context, dir, zone string, create bool) (*engine, error) {
	switch fi, err := os.Stat(dir); {
	case !create && errors.Is(err, os.ErrNotExist):
		return nil, badInput("-store %s: no such store (create it with init or import)", dir)
	case err == nil && !fi.IsDir():
		return nil, badInput("-store %s: not a directory", dir)
	}
	st, err := store.Dir(dir, nil)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("-store %s: in use by another process", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("-store %s: %w", dir, err)
	}
	if !create {
		keys, err := st.List(ctx, "")
		if err == nil && len(keys) == 0 {
			err = badInput("-store %s: not an insights store (create it with init or import)", dir)
		}
		if err != nil {
			return nil, errors.Join(err, st.Close())
		}
	}
	eng, err := insights.Open(ctx, st, &insights.Options{Zone: zone})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("-store %s: %w", dir, err), st.Close())
	}
	return &engine{Engine: eng, st: st}, nil
}

// close closes the engine, which writes a checkpoint, then the store.
func (e *engine) close() error {
	return errors.Join(e.Engine.Close(), e.st.Close())
}

// withEngine opens the store, runs fn on it and closes it, joining the
// errors of fn and of closing.
func withEngine(ctx context.Context, dir, zone string, create bool, fn func(*engine) error) error {
	eng, err := openEngine(ctx, dir, zone, create)
	if err != nil {
		return err
	}
	return errors.Join(fn(eng), eng.close())
}
