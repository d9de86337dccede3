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
	good, err := e.encodeCatalog()
	e.userKeys[1] = "a"
	bad, err2 := e.encodeCatalog()
	e.userKeys[1] = "b"
	e.mu.Unlock()
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	fresh := func() *Engine {
		f, err := Open(ctx, store.NewMemory(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	if err := fresh().decodeCatalog("cat", good); err != nil {
		t.Fatalf("the catalog as written: %v", err)
	}
	if err := fresh().decodeCatalog("cat", bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"a" listed twice`) {
		t.Fatalf("a key listed twice: %v; want ErrCorrupt naming it", err)
	}
}
