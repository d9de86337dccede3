package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/insightslab/insights/store"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	if _, err := m.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
	}
	val := []byte("one")
	if err := m.Put(ctx, "days/2024-01-01", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store kept a copy
	got, err := m.Get(ctx, "days/2024-01-01")
	if err != nil || string(got) != "one" {
		t.Fatalf("Get = %q, %v; want \"one\"", got, err)
	}
	got[0] = 'Y' // and hands out copies
	if again, _ := m.Get(ctx, "days/2024-01-01"); string(again) != "one" {
		t.Fatalf("Get after modifying a returned value = %q", again)
	}
	for _, k := range []string{"days/2024-01-03", "days/2024-01-02", "meta.json"} {
		if err := m.Put(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := m.List(ctx, "days/")
	if want := []string{"days/2024-01-01", "days/2024-01-02", "days/2024-01-03"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("List = %v, %v; want %v", keys, err, want)
	}
	if err := m.Delete(ctx, "days/2024-01-02"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "never-there"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if keys, _ := m.List(ctx, ""); len(keys) != 3 {
		t.Fatalf("List after Delete = %v", keys)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Put(cancelled, "x", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	var m store.Memory // the zero value is ready to use
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := fmt.Sprintf("w%d/%03d", w, i)
				if err := m.Put(ctx, k, []byte(k)); err != nil {
					t.Error(err)
				}
				if v, err := m.Get(ctx, k); err != nil || string(v) != k {
					t.Errorf("Get(%s) = %q, %v", k, v, err)
				}
				if _, err := m.List(ctx, fmt.Sprintf("w%d/", w)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if keys, _ := m.List(ctx, ""); len(keys) != 800 {
		t.Fatalf("%d keys after 8 writers × 100, want 800", len(keys))
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
