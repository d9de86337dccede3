// Package storetest is the conformance suite of store.Store: what every
// implementation (Memory, DirStore, the PostgreSQL store of pgstore/)
// must do, run on each from its own tests. A store's own behaviour
// (the directory store's files, locks and faults; PostgreSQL's schemas)
// stays in its own tests.
//
// The keys the suite writes are valid for every store: slash-separated
// segments of [A-Za-z0-9._-] not starting with a dot, and never both a
// key and keys below it ("a" and "a/b"), which a DirStore cannot hold.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/insightslab/insights/store"
)

// Opener returns a new, empty store, released when the test ends, and a
// function that releases it and opens the same store again (its keys
// must be there), or nil for a store that nothing outlives (Memory).
type Opener func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Run runs the suite, each part as a subtest of t with a store of its own.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"MissingKeys", testMissingKeys},
		{"List", testList},
		{"CancelledContext", testCancelledContext},
		{"Concurrent", testConcurrent},
		{"AgreesWithMemory", testAgreesWithMemory},
		{"RangesAgreeWithMemory", testRangesAgreeWithMemory},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// Put puts value under key, failing the test on an error.
func Put(t *testing.T, s store.Store, key, value string) {
	t.Helper()
	if err := s.Put(context.Background(), key, []byte(value)); err != nil {
		t.Fatal(err)
	}
}

// WantValue fails the test unless Get of key returns want.
func WantValue(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%s) = %q, %v; want %q", key, got, err, want)
	}
}

// testRoundTrip: a Put replaces the value whole, empty values are kept,
// the store copies what it is given and hands out copies, and what was
// Put is there after reopening.
func testRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	Put(t, s, "meta.json", "v1")
	Put(t, s, "meta.json", "v2 is longer")
	WantValue(t, s, "meta.json", "v2 is longer")
	Put(t, s, "meta.json", "v3")
	WantValue(t, s, "meta.json", "v3")
	Put(t, s, "empty", "")
	WantValue(t, s, "empty", "")
	big := bytes.Repeat([]byte{0, 1, 0xfe, 0xff}, 64<<10/4) // every byte value kind, 64 KiB
	if err := s.Put(ctx, "days/2024-01-01/0001", big); err != nil {
		t.Fatal(err)
	}
	WantValue(t, s, "days/2024-01-01/0001", string(big))

	val := []byte("mine")
	if err := s.Put(ctx, "owned", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store kept a copy
	got, err := s.Get(ctx, "owned")
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'Y' // and hands out copies
	WantValue(t, s, "owned", "mine")

	if err := s.Delete(ctx, "owned"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "owned"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if reopen == nil {
		return
	}
	again := reopen(t)
	WantValue(t, again, "meta.json", "v3")
	WantValue(t, again, "empty", "")
	WantValue(t, again, "days/2024-01-01/0001", string(big))
	if keys, err := again.List(ctx, ""); err != nil || len(keys) != 3 {
		t.Fatalf("List after reopening = %q, %v; want 3 keys", keys, err)
	}
}

// testMissingKeys: Get of a missing key wraps ErrNotFound and names the
// key, Delete of one is not an error and removes nothing else.
func testMissingKeys(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	Put(t, s, "meta.json", "m")
	Put(t, s, "days/x", "x")
	for _, key := range []string{"nope", "nope/deeper", "days", "days/y", "day", "meta.jso", "meta.json/x"} {
		_, err := s.Get(ctx, key)
		if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), key) {
			t.Errorf("Get(%s): %v; want ErrNotFound naming the key", key, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%s) of a missing key: %v", key, err)
		}
	}
	WantValue(t, s, "days/x", "x") // Delete("days") removed nothing
	WantValue(t, s, "meta.json", "m")
}

// testList: keys starting with a prefix, in byte order, whatever the
// prefix cuts through; "_" in a prefix is no wildcard.
func testList(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	all := []string{
		"MANIFEST", "a_b", "axb", "b-f", "b/c", "b/d/e", "c.x", "c/d", // '-' < '.' < '/'
		"catalog/0000000000000001", "catalog/0000000000000002",
		"days/2024-01-01/0001", "days/2024-01-02/0001", "days/2024-02-01/0001",
		"meta.json", "wal/0000000000000001", "wal/0000000000000002", "zz",
	}
	for _, k := range slices.Backward(all) { // Put order is not key order
		Put(t, s, k, k)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"days/", all[10:13]},
		{"days", all[10:13]},
		{"d", all[10:13]},
		{"days/2024-01", all[10:12]},
		{"days/2024-01-01/", all[10:11]},
		{"days/2024-01-01/0001", all[10:11]},
		{"c", []string{"c.x", "c/d", "catalog/0000000000000001", "catalog/0000000000000002"}},
		{"c/", []string{"c/d"}},
		{"catalog/", all[8:10]},
		{"cat", all[8:10]},
		{"b", []string{"b-f", "b/c", "b/d/e"}},
		{"a_", []string{"a_b"}},
		{"M", []string{"MANIFEST"}},
		{"meta.json", []string{"meta.json"}},
		{"w", all[14:16]},
		{"wal/0000000000000002", all[15:16]},
		{"z", []string{"zz"}},
		{"zz", []string{"zz"}},
		{"meta.json/", nil},
		{"nope/", nil},
		{"days/2024-01-01/0001/", nil},
		{"zzz", nil},
		{"~", nil},
	} {
		got, err := s.List(ctx, tc.prefix)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, %v; want %q", tc.prefix, got, err, tc.want)
		}
	}
	r, ok := s.(store.RangeLister)
	if !ok {
		return
	}
	for _, tc := range []struct {
		prefix, from string
		want         []string
	}{
		{"wal/", "wal/0000000000000002", all[15:16]},
		{"wal/", "wal/0000000000000001", all[14:16]},
		{"wal/", "wal/0000000000000003", nil},
		{"wal/", "", all[14:16]},
		{"wal/", "a", all[14:16]},
		{"days/", "days/2024-01-02", all[11:13]},
		{"", "meta.json", all[13:]},
		{"days/", "z", nil},
	} {
		got, err := r.ListFrom(ctx, tc.prefix, tc.from)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ListFrom(%q, %q) = %q, %v; want %q", tc.prefix, tc.from, got, err, tc.want)
		}
	}
}

// testCancelledContext: every call returns the context's error.
func testCancelledContext(t *testing.T, open Opener) {
	s, _ := open(t)
	Put(t, s, "k", "v")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, getErr := s.Get(ctx, "k")
	_, listErr := s.List(ctx, "")
	for op, err := range map[string]error{
		"Get": getErr, "List": listErr, "Put": s.Put(ctx, "k", nil), "Delete": s.Delete(ctx, "k"),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", op, err)
		}
	}
	WantValue(t, s, "k", "v")
}

// testConcurrent: writers on keys of their own and on one shared key; a
// Get of the shared key sees one writer's value whole.
func testConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	const writers, perWriter = 8, 10
	shared := func(w int) string { return strings.Repeat(string(rune('a'+w)), 1000+w) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				k := fmt.Sprintf("w%d/%03d", w, i)
				if err := s.Put(ctx, k, []byte(k)); err != nil {
					t.Error(err)
				}
				if err := s.Put(ctx, "shared", []byte(shared(w))); err != nil {
					t.Error(err)
				}
				if v, err := s.Get(ctx, k); err != nil || string(v) != k {
					t.Errorf("Get(%s) = %q, %v", k, v, err)
				}
				if v, err := s.Get(ctx, "shared"); err != nil || len(v) == 0 || v[0] < 'a' || string(v) != shared(int(v[0]-'a')) {
					t.Errorf("Get(shared) gave %d bytes that no Put wrote, %v", len(v), err)
				}
				if keys, err := s.List(ctx, fmt.Sprintf("w%d/", w)); err != nil || len(keys) != i+1 {
					t.Errorf("List(w%d/) = %d keys, %v; want %d", w, len(keys), err, i+1)
				}
			}
		})
	}
	wg.Wait()
	if keys, _ := s.List(ctx, ""); len(keys) != writers*perWriter+1 {
		t.Fatalf("%d keys after %d writers × %d, want %d", len(keys), writers, perWriter, writers*perWriter+1)
	}
}

// testAgreesWithMemory runs one random sequence of calls on the store
// and on Memory, which must answer alike, and again after reopening.
func testAgreesWithMemory(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	m := store.NewMemory()
	keys := []string{"a", "a.x", "b/c", "b/d/e", "b-f", "days/1/x", "days/1/y", "days/2/x", "meta.json", "wal/01", "wal/02"}
	prefixes := []string{"", "a", "b", "b/", "b/d", "days/", "days/1", "days/1/", "m", "wal/", "z"}
	rng := rand.New(rand.NewPCG(1, 2))
	agree := func(step int) {
		t.Helper()
		for _, k := range keys {
			sv, serr := s.Get(ctx, k)
			mv, merr := m.Get(ctx, k)
			if !bytes.Equal(sv, mv) || errors.Is(serr, store.ErrNotFound) != errors.Is(merr, store.ErrNotFound) {
				t.Fatalf("step %d: Get(%s): store %q, %v; memory %q, %v", step, k, sv, serr, mv, merr)
			}
		}
		for _, p := range prefixes {
			sk, serr := s.List(ctx, p)
			mk, merr := m.List(ctx, p)
			if serr != nil || merr != nil || !slices.Equal(sk, mk) {
				t.Fatalf("step %d: List(%q): store %q, %v; memory %q, %v", step, p, sk, serr, mk, merr)
			}
		}
	}
	for step := range 150 {
		k := keys[rng.IntN(len(keys))]
		if rng.IntN(4) == 0 {
			if err := errors.Join(s.Delete(ctx, k), m.Delete(ctx, k)); err != nil {
				t.Fatal(err)
			}
		} else {
			v := make([]byte, rng.IntN(64))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			if err := errors.Join(s.Put(ctx, k, v), m.Put(ctx, k, v)); err != nil {
				t.Fatal(err)
			}
		}
		if step%10 == 0 {
			agree(step)
		}
	}
	agree(150)
	if reopen != nil {
		s = reopen(t)
		agree(-1)
	}
}

// testRangesAgreeWithMemory, for a store that reads ranges
// (store.RangeGetter): every range of a value, inside it, across its end
// and past it, of an empty value and of a large one, is what Memory's
// GetRange returns; a missing key is ErrNotFound; a negative offset or
// length fails.
func testRangesAgreeWithMemory(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	rg, ok := s.(store.RangeGetter)
	if !ok {
		t.Skip("the store reads values whole")
	}
	m := store.NewMemory()
	large := make([]byte, 300<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	values := map[string][]byte{"days/1/x": []byte("0123456789abcdefghij"), "days/1/y": {}, "meta.json": []byte("{}"), "days/2/x": large}
	for k, v := range values {
		if err := errors.Join(s.Put(ctx, k, v), m.Put(ctx, k, v)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(k string, off, n int64) {
		t.Helper()
		got, err := rg.GetRange(ctx, k, off, n)
		want, merr := m.GetRange(ctx, k, off, n)
		if !bytes.Equal(got, want) || (err == nil) != (merr == nil) || errors.Is(err, store.ErrNotFound) != errors.Is(merr, store.ErrNotFound) {
			t.Fatalf("GetRange(%s, %d, %d): store %d bytes, %v; memory %d bytes, %v", k, off, n, len(got), err, len(want), merr)
		}
	}
	for _, k := range []string{"days/1/x", "days/1/y", "meta.json", "days/3/x"} {
		for off := range int64(24) {
			for n := range int64(24) {
				check(k, off, n)
			}
		}
		check(k, -1, 4)
		check(k, 0, -1)
		check(k, 1<<40, 4)
		check(k, 0, 1<<40)
	}
	for range 50 {
		off, n := rng.Int64N(int64(len(large))+10), rng.Int64N(100<<10)
		check("days/2/x", off, n)
	}
	check("days/2/x", 0, 64<<10)
	check("days/2/x", 1000, 1<<40)
}

// Tree returns every file and directory below dir, the root included,
// with its mode and a file's contents: two snapshots differ if anything
// was written, created, removed or changed its mode. A missing dir gives
// an empty map.
func Tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.Mode().String()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			out[p] += string(b)
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
