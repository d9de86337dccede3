package store_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/insightslab/insights/store"
)

// noReadAt is the operating system's FS with files that do not read at an
// offset, so that GetRange reads and drops the bytes before it.
type noReadAt struct{ store.FS }

func (f noReadAt) OpenFile(name string, flag int, perm fs.FileMode) (store.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return struct{ store.File }{file}, nil
}

// TestGetRange: every range of a value, inside it, across its end and past
// it, is its bytes there; a missing key is ErrNotFound; a negative offset
// or length fails. On the memory store and on the directory store, with
// and without ReadAt.
func TestGetRange(t *testing.T) {
	ctx := context.Background()
	stores := map[string]store.RangeGetter{
		"memory":         store.NewMemory(),
		"dir":            openDir(t, t.TempDir(), nil),
		"dir, no ReadAt": openDir(t, t.TempDir(), noReadAt{store.OSFS()}),
	}
	value := []byte("0123456789abcdefghij")
	for name, rg := range stores {
		if err := rg.(store.Store).Put(ctx, "days/a", value); err != nil {
			t.Fatal(err)
		}
		for off := range len(value) + 3 {
			for n := range len(value) + 3 {
				got, err := rg.GetRange(ctx, "days/a", int64(off), int64(n))
				want := value[min(off, len(value)):min(off+n, len(value))]
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s: [%d, +%d): %q, %v; want %q", name, off, n, got, err, want)
				}
			}
		}
		if _, err := rg.GetRange(ctx, "days/b", 0, 4); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: a missing key: %v", name, err)
		}
		if _, err := rg.GetRange(ctx, "days/a", -1, 4); err == nil {
			t.Fatalf("%s: a negative offset read", name)
		}
		if _, err := rg.GetRange(ctx, "days/a", 0, -1); err == nil {
			t.Fatalf("%s: a negative length read", name)
		}
	}
}
