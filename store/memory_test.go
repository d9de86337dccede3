package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/store"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) (store.Store, func(*testing.T) store.Store) {
		return store.NewMemory(), nil
	})
}

func TestMemoryZeroValue(t *testing.T) {
	var m store.Memory // ready to use
	storetest.Put(t, &m, "k", "v")
	storetest.WantValue(t, &m, "k", "v")
	if keys, err := m.List(context.Background(), ""); err != nil || !slices.Equal(keys, []string{"k"}) {
		t.Fatalf("List = %q, %v", keys, err)
	}
}

func ExampleMemory() {
	ctx := context.Background()
	s := store.NewMemory()
	_ = s.Put(ctx, "days/2026-03-01", []byte("segment"))
	_ = s.Put(ctx, "meta.json", []byte(`{"zone":"UTC"}`))
	keys, _ := s.List(ctx, "days/")
	fmt.Println(keys)
	_, err := s.Get(ctx, "days/2026-03-02")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// [days/2026-03-01]
	// true
}

func TestMemoryReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(*testing.T) storetest.ReplicaStore { return store.NewMemory() })
}
