package pgstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

// BenchmarkStores times Put and Get of a 64 KiB value (a segment's size
// for a small day), a List over 1,000 keys and, where the store lists
// ranges, a ListFrom of the last 10 of them, on PostgreSQL and on the
// directory store in the same run:
//
//	INSIGHTS_TEST_POSTGRES=postgres://… go test -run '^$' -bench Stores .
func BenchmarkStores(b *testing.B) {
	ctx := context.Background()
	pool := testPool(b)
	stores := benchStores(pool)
	value := make([]byte, 64<<10)
	for i := range value {
		value[i] = byte(i * 7)
	}
	for _, st := range stores {
		b.Run(st.name+"/Put64KiB", func(b *testing.B) {
			s := st.open(b)
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Put(ctx, "days/2025-01-01/0000000000000001", value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"/Get64KiB", func(b *testing.B) {
			s := st.open(b)
			if err := s.Put(ctx, "days/2025-01-01/0000000000000001", value); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(ctx, "days/2025-01-01/0000000000000001"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"/List1000", func(b *testing.B) {
			s := st.open(b)
			for i := range 1000 { // a log tail: 1,000 records
				if err := s.Put(ctx, fmt.Sprintf("wal/%016x", i), nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Put(ctx, "meta.json", nil); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if keys, err := s.List(ctx, "wal/"); err != nil || len(keys) != 1000 {
					b.Fatalf("List = %d keys, %v", len(keys), err)
				}
			}
		})
		b.Run(st.name+"/ListFromLast10of1000", func(b *testing.B) {
			// A follower's refresh: the 10 records past the last applied.
			s := st.open(b)
			r, ok := s.(store.RangeLister)
			if !ok {
				b.Skip("lists every key")
			}
			for i := range 1000 {
				if err := s.Put(ctx, fmt.Sprintf("wal/%016x", i), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if keys, err := r.ListFrom(ctx, "wal/", fmt.Sprintf("wal/%016x", 990)); err != nil || len(keys) != 10 {
					b.Fatalf("ListFrom = %d keys, %v", len(keys), err)
				}
			}
		})
	}
}

// benchStore opens a fresh store of one kind for a benchmark.
type benchStore struct {
	name string
	open func(b *testing.B) store.Store
}

// benchStores are the stores the benchmarks compare: a new schema of
// pool's database, and a directory.
func benchStores(pool *pgxpool.Pool) []benchStore {
	return []benchStore{
		{"postgres", func(b *testing.B) store.Store { return pgstore.New(pool, newSchema(b, pool)) }},
		{"dir", func(b *testing.B) store.Store {
			d, err := store.Dir(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() })
			return d
		}},
	}
}
