// Package store moves bytes for the insights engine: a small key-value
// interface that the engine persists its metadata and segments through,
// and an in-memory implementation for tests and examples. A host can
// implement Store on its own database.
//
// # Directory store
//
// Dir opens a DirStore, the durable Store: each key is a file under one
// directory, its slashes making subdirectories.
//
//	<dir>/LOCK                    flock(2)-ed while a DirStore has <dir> open
//	<dir>/meta.json               key "meta.json"
//	<dir>/days/2024-01-01/0001    key "days/2024-01-01/0001"
//	<dir>/days/2024-01-01/.tmp-7  a Put in progress, or a crash's leftover
//
// A Put writes the value to a new temporary file (its name starts with
// ".tmp-", which no key segment may) in the key's directory, fsyncs and
// closes it, renames it over the key's file, and fsyncs the directory.
// The first Put in a directory since Dir creates the missing directories
// and fsyncs the parent of each. A crash at any point leaves the old
// value or the new one whole, plus perhaps a temporary file, which the
// next Dir removes; once Put returns nil the new value survives power
// loss. A Delete unlinks the file and fsyncs its directory.
//
// The FS in DirOptions lets tests fail any of these steps; the package
// internal/faultfs does.
//
// Unlike Memory, a DirStore takes only keys that are safe file paths (see
// Dir) and cannot hold a key and keys below it ("a" and "a/b"). It keeps
// the directories that Delete empties, and trusts that nothing else
// writes in its directory: the lock excludes other DirStores, not other
// programs, and not the followers (DirOptions.Follow), which only read.
//
// # Concurrency
//
// Implementations must be safe for concurrent use by many goroutines.
package store

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ErrNotFound is returned by Get for a key that is not stored.
var ErrNotFound = errors.New("store: key not found")

// Store is a flat namespace of byte values under string keys. Keys are
// slash-separated paths of printable ASCII. A Store never keeps a value
// passed to Put (it copies what it keeps), and the value Get returns
// belongs to the caller, who may modify it.
type Store interface {
	// Get returns the value under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores value under key, replacing any earlier value atomically:
	// a concurrent Get sees the old value or the new one, never a mix.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, in ascending order.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Memory is a Store held in memory: nothing survives the process. The
// zero value is ready to use. It implements Replicas too, so that engines
// in one process may share it as replicas (tests, examples).
type Memory struct {
	mu      sync.RWMutex
	data    map[string][]byte
	deleted map[string]string // directory → the greatest key Deleted in it (Replicas)
	lease   memoryLease
}

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory { return &Memory{} }

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	return m.copyOf(ctx, key, func(v []byte) []byte { return v })
}

// copyOf returns a copy of part(v), v the value under key.
func (m *Memory) copyOf(ctx context.Context, key string, part func(v []byte) []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.data[key]
	if !ok {
		return nil, &keyError{key}
	}
	return append([]byte(nil), part(v)...), nil
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = append([]byte(nil), value...)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	if m.deleted == nil {
		m.deleted = map[string]string{}
	}
	if dir := dirOf(key); key > m.deleted[dir] {
		m.deleted[dir] = key
	}
	return nil
}

// List implements Store.
func (m *Memory) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var keys []string
	for k := range m.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// ListFrom implements RangeLister.
func (m *Memory) ListFrom(ctx context.Context, prefix, from string) ([]string, error) {
	keys, err := m.List(ctx, prefix)
	i, _ := slices.BinarySearch(keys, from)
	return keys[i:], err
}

// keyError names the missing key and wraps ErrNotFound.
type keyError struct{ key string }

func (e *keyError) Error() string { return "store: key " + e.key + " not found" }
func (e *keyError) Unwrap() error { return ErrNotFound }

// Tearing is the optional interface of a Store whose Put is not atomic
// across a crash: a crash during a Put may leave a partial or damaged
// value under the key (a store that appends to a file, say). The engine
// then takes a damaged last log record for a torn write that was never
// acknowledged, drops it and reports it; on a Store that does not
// declare tearing (Memory, DirStore) such a record is corruption.
type Tearing interface {
	// PutCanTear reports whether a crash during Put can leave a partial
	// value under its key.
	PutCanTear() bool
}

// ErrReadOnly is returned by the writing methods of a Store opened
// read-only.
var ErrReadOnly = errors.New("store: opened read-only")
