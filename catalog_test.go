package insights

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// testCatalog returns e's catalog as generation gen's checkpoint writes
// it, its users frame, and the same catalog as written before
// frame.CatalogVersion (the users inside: what old stores hold). The write lock
// is held.
func testCatalog(tb testing.TB, e *Engine, gen uint64) (cat, users, v2 []byte) {
	snap, err := e.snapshotCatalog(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	users = encodeUsers(&snap.users)
	v2 = slices.Clone(snap.head)
	v2[len(frame.Magic)+1] = frame.Version
	v2 = append(v2, users[frame.Header:len(users)-frame.Trailer]...)
	v2 = frame.Seal(append(v2, snap.tail...))
	cat, _ = snap.encode(gen)
	return cat, users, v2
}

// putCatalog stores catalog cat as generation gen with its users frame, if
// any, in s, and returns the catalog's key.
func putCatalog(tb testing.TB, s store.Store, gen uint64, cat, users []byte) string {
	ctx := context.Background()
	if users != nil {
		if err := s.Put(ctx, usersKey(gen), users); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Put(ctx, catalogKey(gen), cat); err != nil {
		tb.Fatal(err)
	}
	return catalogKey(gen)
}

// TestCatalogRefusesDuplicateKeys: a catalog that lists one user key for
// two users is corrupt (two ids for one user would split its activity),
// in a users frame (frame.CatalogVersion) as in the catalog (frame.Version).
func TestCatalogRefusesDuplicateKeys(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, store.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := time.Date(2025, 1, 3, 12, 0, 0, 0, time.UTC)
	if err := e.Add(ctx, Event{Time: at, Kind: KindSignIn, UserKey: "a"}, Event{Time: at, Kind: KindSignIn, UserKey: "b"}); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	good, goodUsers, goodV2 := testCatalog(t, e, 7)
	e.userKeys[1] = "a"
	bad, badUsers, badV2 := testCatalog(t, e, 7)
	e.userKeys[1] = "b"
	e.mu.Unlock()
	// decode decodes a catalog as Open does (load), then its users.
	decode := func(readOnly bool, cat, users []byte) (atOpen, atUse error) {
		f, err := Open(ctx, store.NewMemory(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.readOnly = readOnly // a read-only engine decodes the users at Open, a writer at their first use
		key := putCatalog(t, f.store, 7, cat, users)
		if atOpen = f.decodeCatalog(key, cat); atOpen == nil && readOnly {
			atOpen = f.loadUsers(ctx)
		}
		if atOpen != nil {
			return atOpen, nil
		}
		f.mu.RLock()
		defer f.mu.RUnlock()
		return nil, f.loadUsers(ctx)
	}
	twice := func(err error) bool {
		return errors.Is(err, ErrCorrupt) && strings.Contains(err.Error(), `"a" listed twice`)
	}
	for _, readOnly := range []bool{true, false} {
		for _, c := range []struct {
			name                   string
			good, bad, goodU, badU []byte
		}{{"users frame", good, bad, goodUsers, badUsers}, {"version 2", goodV2, badV2, nil, nil}} {
			if atOpen, atUse := decode(readOnly, c.good, c.goodU); atOpen != nil || atUse != nil {
				t.Fatalf("%s, read-only %t: the catalog as written: %v, %v", c.name, readOnly, atOpen, atUse)
			}
			atOpen, atUse := decode(readOnly, c.bad, c.badU)
			if readOnly && !twice(atOpen) {
				t.Fatalf("%s: a key listed twice, decoded at Open: %v; want ErrCorrupt naming it", c.name, atOpen)
			}
			if !readOnly && (atOpen != nil || !twice(atUse)) {
				t.Fatalf("%s: a key listed twice, decoded at the first use: %v, then %v; want ErrCorrupt naming it at the first use", c.name, atOpen, atUse)
			}
		}
	}
}
