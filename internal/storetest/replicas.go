package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// ReplicaStore is a Store that implements store.Replicas.
type ReplicaStore interface {
	store.Store
	store.Replicas
}

// RunReplicas runs the suite of store.Replicas, each part as a subtest
// of t with a new, empty store from open. It creates log keys (wal/…) only.
func RunReplicas(t *testing.T, open func(t *testing.T) ReplicaStore) {
	t.Run("CreateOnce", func(t *testing.T) { testCreateOnce(t, open(t)) })
	t.Run("Lease", func(t *testing.T) { testLease(t, open(t)) })
}

// A log key is created once: not over a stored record, not again after
// its deletion (nor below it), and by exactly one of racing creators.
func testCreateOnce(t *testing.T, s ReplicaStore) {
	ctx := context.Background()
	k := func(n string) string { return "wal/000000000000000" + n }
	if err := s.Create(ctx, k("1"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, k("1"), []byte("b")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create over a record = %v, want ErrExists", err)
	}
	WantValue(t, s, k("1"), "a")
	if err := s.Delete(ctx, k("1")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"0", "1"} {
		if err := s.Create(ctx, k(n), []byte("c")); !errors.Is(err, store.ErrExists) {
			t.Fatalf("Create of %s after deleting %s = %v, want ErrExists", k(n), k("1"), err)
		}
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.Create(ctx, k("2"), []byte{byte(i)})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, store.ErrExists):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 8 racing Creates succeeded, want 1", won.Load())
	}
}

// The lease: one holder at a time, renewed by its holder with a greater
// number each time, taken by another only once expired; a PutLeased by a
// holder that lost it stores nothing.
func testLease(t *testing.T, s ReplicaStore) {
	ctx := context.Background()
	g1, err := s.TakeLease(ctx, "a", time.Hour, 7)
	if err != nil || g1 != 8 {
		t.Fatalf("TakeLease(a, above 7) = %d, %v; want 8", g1, err)
	}
	if _, err := s.TakeLease(ctx, "b", time.Hour, 0); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("TakeLease(b) while a holds it = %v, want ErrLeaseHeld", err)
	}
	if err := s.PutLeased(ctx, "b", "MANIFEST", []byte("b"), time.Hour); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("PutLeased(b) = %v, want ErrLeaseHeld", err)
	}
	g2, err := s.TakeLease(ctx, "a", time.Millisecond, 0)
	if err != nil || g2 <= g1 {
		t.Fatalf("renewal = %d, %v; want more than %d", g2, err, g1)
	}
	if err := s.PutLeased(ctx, "a", "MANIFEST", []byte("a"), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var g3 uint64
	for { // until a's lease expires by the store's clock
		if g3, err = s.TakeLease(ctx, "b", time.Hour, 0); !errors.Is(err, store.ErrLeaseHeld) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil || g3 <= g2 {
		t.Fatalf("TakeLease(b) after expiry = %d, %v; want more than %d", g3, err, g2)
	}
	if err := s.PutLeased(ctx, "a", "MANIFEST", []byte("late"), time.Hour); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("PutLeased(a) after b took the lease = %v, want ErrLeaseHeld", err)
	}
	WantValue(t, s, "MANIFEST", "a")
}
