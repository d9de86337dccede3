package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// RangeLister is the optional interface of a Store that lists the keys
// under a prefix from a given key on, skipping the keys below it without
// reading them (a database's index): a follower lists the log records
// after the last one it applied, not every one since the checkpoint.
type RangeLister interface {
	// ListFrom returns List(prefix) without the keys that sort below
	// from, in ascending order.
	ListFrom(ctx context.Context, prefix, from string) ([]string, error)
}

// List implements Store. It walks the deepest directory that prefix
// names whole ("days/2024-" walks days/) and, below it, only the
// directories that can hold matching keys, reading each one's entries:
// the cost grows with the files and directories it visits, not with the
// store. Temporary files, the lock file and names that are not valid key
// segments are never listed, nor is anything but regular files.
func (d *DirStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: list %q: %w", prefix, err)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.lock == nil {
		return nil, fmt.Errorf("%w: list %q in %s", ErrClosed, prefix, d.root)
	}
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
		if pathProblem(dir) != "" {
			return nil, nil // no key lies below an invalid path
		}
	}
	var keys []string
	if err := d.walk(ctx, dir, prefix, &keys); err != nil {
		return nil, fmt.Errorf("store: list %q: %w", prefix, err)
	}
	slices.Sort(keys) // walk order is not key order: "a/b" > "a.x"
	return keys, nil
}

// walk appends to keys the keys that start with prefix in the directory
// rel and below it. A directory that is missing, or is a file, holds none.
func (d *DirStore) walk(ctx context.Context, rel, prefix string, keys *[]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := d.fs.ReadDir(d.path(rel))
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if segmentProblem(name) != "" || (rel == "" && name == lockName) {
			continue
		}
		key := joinKey(rel, name)
		if len(key) > maxKeyLen {
			continue
		}
		switch {
		case e.IsDir():
			sub := key + "/"
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := d.walk(ctx, key, prefix, keys); err != nil {
					return err
				}
			}
		case e.Type().IsRegular() && strings.HasPrefix(key, prefix):
			*keys = append(*keys, key)
		}
	}
	return nil
}
