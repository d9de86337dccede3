package insights

// Recovery never guesses (store/FORMAT.md, "Open"): each test damages a
// store as an operator or a disk might and checks that Open refuses it
// with ErrCorrupt naming the file, and deletes nothing, or, where the
// damage is an interrupted write the store's contract allows, recovers
// exactly what was acknowledged.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

var recoveryNow = func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }

// recoveryStore returns a store holding a checkpoint of days 1-3 of
// January 2025 and three log records after it (days 4-6), one user a day.
func recoveryStore(t *testing.T) *store.Memory {
	t.Helper()
	ctx := context.Background()
	s := store.NewMemory()
	e, err := Open(ctx, s, &Options{Now: recoveryNow, Zone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	for d := 1; d <= 6; d++ {
		if d == 4 {
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		ev := Event{Time: time.Date(2025, 1, d, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: "u" + string(rune('0'+d))}
		if err := e.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// storeKeys returns every key of s with its value.
func storeKeys(t *testing.T, s store.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(v)
	}
	return out
}

// wantCorrupt opens s and checks that Open fails with ErrCorrupt naming
// name, and that the store is unchanged.
func wantCorrupt(t *testing.T, s store.Store, name string) {
	t.Helper()
	before := storeKeys(t, s)
	_, err := Open(context.Background(), s, &Options{Now: recoveryNow})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
		t.Errorf("Open = %v; want ErrCorrupt naming %s", err, name)
	}
	if after := storeKeys(t, s); !maps.Equal(before, after) {
		t.Errorf("Open of a corrupt store changed it: keys before %q, after %q", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
}

// dailyActive returns the active users of January 1-6.
func dailyActive(t *testing.T, e *Engine) []float64 {
	t.Helper()
	res, err := e.Query(context.Background(), Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 1, 7)})
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, r := range res.Rows {
		out = append(out, r.Value)
	}
	return out
}

func TestOpenRefusesAStoreWithoutItsManifest(t *testing.T) {
	s := recoveryStore(t)
	if err := s.Delete(context.Background(), manifestKey); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, s, manifestKey)
}

func TestOpenRefusesAGapInTheLog(t *testing.T) {
	s := recoveryStore(t)
	logs, _ := s.List(context.Background(), "wal/")
	if len(logs) != 3 {
		t.Fatalf("log records %q, want 3", logs)
	}
	if err := s.Delete(context.Background(), logs[1]); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, s, logs[1])

	s = recoveryStore(t) // the first record after the checkpoint missing
	logs, _ = s.List(context.Background(), "wal/")
	if err := s.Delete(context.Background(), logs[0]); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, s, logs[0])
}

func TestOpenRefusesAStoreWithoutItsMeta(t *testing.T) {
	s := recoveryStore(t)
	if err := s.Delete(context.Background(), metaKey); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, s, metaKey)

	s = store.NewMemory() // a store that never checkpointed: its log alone
	e, err := Open(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(context.Background(), Event{Time: recoveryNow().Add(-time.Hour), Kind: KindSignIn, UserKey: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), metaKey); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, s, metaKey)
}

// tearing is a Memory store that declares that its Puts can tear.
type tearing struct{ *store.Memory }

func (tearing) PutCanTear() bool { return true }

func TestOpenTakesADamagedLastRecordForATornWriteOnlyWhereStoresTear(t *testing.T) {
	ctx := context.Background()
	damages := map[string]func(v []byte) []byte{
		"truncated":    func(v []byte) []byte { return v[:len(v)-3] },
		"flipped byte": func(v []byte) []byte { v[len(v)/2] ^= 0x20; return v },
		"zeroed":       func(v []byte) []byte { clear(v[len(v)/3:]); return v },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			s := recoveryStore(t)
			logs, _ := s.List(ctx, "wal/")
			last := logs[len(logs)-1]
			v, _ := s.Get(ctx, last)
			if err := s.Put(ctx, last, damage(v)); err != nil {
				t.Fatal(err)
			}
			wantCorrupt(t, s, last) // Memory's Puts are atomic: damage, not a tear

			e, err := Open(ctx, tearing{s}, &Options{Now: recoveryNow})
			if err != nil {
				t.Fatalf("Open on a tearing store: %v", err)
			}
			if rec := e.Recovery(); rec.TornTail != last || rec.LogRecords != 2 {
				t.Errorf("Recovery = %+v, want 2 records replayed and the torn tail %s", rec, last)
			}
			if got := dailyActive(t, e); !slices.Equal(got, []float64{1, 1, 1, 1, 1, 0}) {
				t.Errorf("daily active users = %v, want the torn day 6 alone missing", got)
			}
		})
	}

	s := recoveryStore(t) // a record before the last is corruption on any store
	logs, _ := s.List(ctx, "wal/")
	v, _ := s.Get(ctx, logs[1])
	if err := s.Put(ctx, logs[1], v[:len(v)-3]); err != nil {
		t.Fatal(err)
	}
	wantCorrupt(t, tearing{s}, logs[1])
}

func TestOpenGivesANewStoreAManifest(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	if _, err := Open(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(storeKeys(t, s))); !slices.Equal(keys, []string{manifestKey, metaKey}) {
		t.Errorf("a new store holds %q, want meta.json and an empty MANIFEST", keys)
	}
}

func TestReadOnlyEngineWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := recoveryStore(t)
	// A checkpoint interrupted before its commit left a segment behind.
	if err := s.Put(ctx, segmentKey(20000, 99), []byte("left by a crash")); err != nil {
		t.Fatal(err)
	}
	before := storeKeys(t, s)
	e, err := Open(ctx, s, &Options{Now: recoveryNow, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dailyActive(t, e); !slices.Equal(got, []float64{1, 1, 1, 1, 1, 1}) {
		t.Errorf("daily active users = %v, want 1 each day", got)
	}
	ev := Event{Time: recoveryNow().Add(-time.Hour), Kind: KindSignIn, UserKey: "v"}
	if err := e.Add(ctx, ev); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Add = %v, want ErrReadOnly", err)
	}
	if err := e.Flush(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Flush = %v, want ErrReadOnly", err)
	}
	if _, err := e.Erase(ctx, "u1"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Erase = %v, want ErrReadOnly", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if after := storeKeys(t, s); !maps.Equal(before, after) {
		t.Errorf("a read-only engine changed the store")
	}

	empty := store.NewMemory()
	e, err = Open(ctx, empty, &Options{ReadOnly: true, Zone: "Asia/Tokyo"})
	if err != nil {
		t.Fatalf("read-only Open of an empty store: %v", err)
	}
	if e.Zone().String() != "Asia/Tokyo" {
		t.Errorf("zone %s, want Asia/Tokyo", e.Zone())
	}
	if keys, _ := empty.List(ctx, ""); len(keys) != 0 {
		t.Errorf("read-only Open wrote %q into an empty store", keys)
	}
}
