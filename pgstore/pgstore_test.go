package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

// addressEnv names the variable that holds the address of the
// PostgreSQL server the tests use, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const addressEnv = "INSIGHTS_TEST_POSTGRES"

// testPool returns a pool on the test server, closed when the test ends.
// Without the variable the test is skipped, but under CI (CI set) it
// fails: CI must run these tests. A server that cannot be reached fails
// the test.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	addr := os.Getenv(addressEnv)
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set under CI", addressEnv)
		}
		t.Skipf("%s is not set: no PostgreSQL to test on", addressEnv)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, addr)
	if err != nil {
		t.Fatalf("%s: %v", addressEnv, err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", addressEnv, err)
	}
	return pool
}

// newSchema migrates a new schema of a random name, dropped when the
// test ends.
func newSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	schema := "pgstore_test_" + hex.EncodeToString(randomBytes(t, 8))
	migrate(t, pool, schema)
	return schema
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// migrate runs Migrate on schema and drops the schema when the test ends.
func migrate(t testing.TB, pool *pgxpool.Pool, schema string) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping the test's schema: %v", err)
		}
	})
	if err := pgstore.Migrate(context.Background(), pool, schema); err != nil {
		t.Fatal(err)
	}
}

// TestConformance runs the store suite; reopening is a new Store on a
// new pool.
func TestConformance(t *testing.T) {
	pool := testPool(t)
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		schema := newSchema(t, pool)
		return pgstore.New(pool, schema), func(t *testing.T) store.Store {
			return pgstore.New(testPool(t), schema)
		}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	s := pgstore.New(pool, schema)
	storetest.Put(t, s, "meta.json", "kept")
	for range 2 {
		if err := pgstore.Migrate(ctx, pool, schema); err != nil {
			t.Fatal(err)
		}
	}
	storetest.WantValue(t, s, "meta.json", "kept")

	fresh := "pgstore_test_" + hex.EncodeToString(randomBytes(t, 8))
	var wg sync.WaitGroup
	for range 4 { // replicas starting together
		wg.Go(func() { migrate(t, pool, fresh) })
	}
	wg.Wait()
	var versions []int
	rows, err := pool.Query(ctx, "SELECT version FROM "+pgx.Identifier{fresh, "migrations"}.Sanitize())
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("migrations = %v, %v; want [1 2]", versions, err)
	}
	storetest.Put(t, pgstore.New(pool, fresh), "wal/0000000000000000", "w")
}

func TestTenantsAreSchemas(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	// Quoted as identifiers: names that differ in case, and one that would
	// end the statement if it were not.
	names := []string{"Tenant", "tenant", `t"; DROP SCHEMA public; --`}
	var tenants []*pgstore.Store
	for _, n := range names {
		schema := n + " " + hex.EncodeToString(randomBytes(t, 4))
		migrate(t, pool, schema)
		tenants = append(tenants, pgstore.New(pool, schema))
	}
	for i, s := range tenants {
		storetest.Put(t, s, "meta.json", names[i])
		storetest.Put(t, s, "days/2024-01-01/0001", names[i])
	}
	for i, s := range tenants {
		storetest.WantValue(t, s, "meta.json", names[i])
		storetest.WantValue(t, s, "days/2024-01-01/0001", names[i])
		if keys, err := s.List(ctx, ""); err != nil || len(keys) != 2 {
			t.Errorf("tenant %q lists %q, %v; want its 2 keys", names[i], keys, err)
		}
	}
}

func TestInvalidSchemas(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	for _, schema := range []string{"", strings.Repeat("s", 64), "a\x00b"} {
		if err := pgstore.Migrate(ctx, pool, schema); !errors.Is(err, pgstore.ErrInvalidSchema) {
			t.Errorf("Migrate(%q): %v; want ErrInvalidSchema", schema, err)
		}
		s := pgstore.New(pool, schema)
		_, getErr := s.Get(ctx, "k")
		_, listErr := s.List(ctx, "")
		for op, err := range map[string]error{
			"Get": getErr, "List": listErr, "Put": s.Put(ctx, "k", nil), "Delete": s.Delete(ctx, "k"),
		} {
			if !errors.Is(err, pgstore.ErrInvalidSchema) {
				t.Errorf("%s on schema %q: %v; want ErrInvalidSchema", op, schema, err)
			}
		}
	}
	longest := strings.Repeat("s", 63-len("pgstore_test_")) // PostgreSQL's limit, not truncated
	migrate(t, pool, "pgstore_test_"+longest)
	if err := pgstore.Migrate(ctx, nil, "x"); err == nil {
		t.Error("Migrate on a nil pool succeeded")
	}
	if err := pgstore.New(nil, "x").Put(ctx, "k", nil); err == nil {
		t.Error("Put on a nil pool succeeded")
	}
}

// TestKeysAreNotPatterns: keys that a LIKE would take for wildcards, and
// the last printable byte, whose successor is DEL.
func TestKeysAreNotPatterns(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := pgstore.New(pool, newSchema(t, pool))
	all := []string{"a b", "a%", "a%c", "a\\", "a_", "abc", "days/%", "days/_", "days/x", "wal/~", "wal/~~", "~", "~~"}
	for _, k := range all {
		storetest.Put(t, s, k, k)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a%", []string{"a%", "a%c"}},
		{"a_", []string{"a_"}},
		{"a\\", []string{"a\\"}},
		{"days/%", []string{"days/%"}},
		{"days/_", []string{"days/_"}},
		{"wal/~", []string{"wal/~", "wal/~~"}},
		{"~", []string{"~", "~~"}},
		{"~~", []string{"~~"}},
		{"", all},
		{"é", nil},
		{"a\x00", nil},
	} {
		if got, err := s.List(ctx, tc.prefix); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, %v; want %q", tc.prefix, got, err, tc.want)
		}
	}
	for _, key := range []string{"é", "a\x00b", "tab\tkey", "del\x7f"} {
		_, getErr := s.Get(ctx, key)
		for op, err := range map[string]error{"Get": getErr, "Put": s.Put(ctx, key, nil), "Delete": s.Delete(ctx, key)} {
			if !errors.Is(err, store.ErrInvalidKey) || !strings.Contains(err.Error(), strconv.Quote(key)) {
				t.Errorf("%s(%q): %v; want ErrInvalidKey naming the key", op, key, err)
			}
		}
	}
}

// TestListReadsIndexRanges checks List's plan: index scans of the
// tables whose keys can match, no sequential scan, no LIKE.
func TestListReadsIndexRanges(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := pgstore.New(pool, newSchema(t, pool))
	for _, k := range []string{"days/2024-01-01/0001", "wal/0000000000000001", "meta.json", "MANIFEST", "catalog/0000000000000001"} {
		storetest.Put(t, s, k, k)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// On tables this small a sequential scan is cheaper: forbid it, so
	// that only a plan that cannot use the index shows one.
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET enable_seqscan")
	for _, tc := range []struct {
		prefix string
		scans  int // ranges read on an index: one per table that can hold a match
	}{
		{"days/2024-", 1}, {"wal/", 1}, {"m", 1}, {"", 4}, {"c", 2}, {"d", 2},
	} {
		q, args := pgstore.ListQuery(s, tc.prefix)
		rows, err := conn.Query(ctx, "EXPLAIN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "Seq Scan") || strings.Contains(strings.ToUpper(q), "LIKE") ||
			strings.Count(plan, "Index Cond: (") != tc.scans {
			t.Errorf("List(%q): %s\nplan:\n%s\nwant %d index ranges", tc.prefix, q, plan, tc.scans)
		}
	}
}
