package insights

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestCatalogRefusesDuplicateKeys: a catalog that lists one user key for
// two users is corrupt (two ids for one user would split its activity).
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
	good, err := e.encodeCatalog(context.Background())
	e.userKeys[1] = "a"
	bad, err2 := e.encodeCatalog(context.Background())
	e.userKeys[1] = "b"
	e.mu.Unlock()
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	fresh := func(readOnly bool) *Engine {
		f, err := Open(ctx, store.NewMemory(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		f.readOnly = readOnly // a read-only engine decodes the users at Open, a writer at their first use
		return f
	}
	for _, readOnly := range []bool{true, false} {
		if err := fresh(readOnly).decodeCatalog("cat", good); err != nil {
			t.Fatalf("read-only %t: the catalog as written: %v", readOnly, err)
		}
	}
	if err := fresh(true).decodeCatalog("cat", bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"a" listed twice`) {
		t.Fatalf("a key listed twice, decoded at Open: %v; want ErrCorrupt naming it", err)
	}
	f := fresh(false)
	if err := f.store.Put(ctx, "cat", bad); err != nil {
		t.Fatal(err)
	}
	if err := f.decodeCatalog("cat", bad); err != nil {
		t.Fatalf("a key listed twice, not decoded at Open: %v", err)
	}
	f.mu.RLock()
	err = f.loadUsers(ctx)
	f.mu.RUnlock()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"a" listed twice`) {
		t.Fatalf("a key listed twice, decoded at the first use: %v; want ErrCorrupt naming it", err)
	}
}
