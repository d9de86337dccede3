package insights

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// batchMixEvents makes n events over the four days before now's and now's
// own (before now's time of day), in a few runs of one day and then mixed: sign-ins (failures
// without a user among them), sign-ups, creations and deletions,
// registrations and removals, MFA challenges; values repeating from one
// event to the next and changing, more app ids than a dictionary capped
// at 4 holds, request ids repeated in and across batches.
func batchMixEvents(now time.Time, n int) []Event {
	r := rand.New(rand.NewPCG(14, 2026))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	evs := make([]Event, 0, n)
	for i := range n {
		day := 4 - i/40 // runs of one day first, then any
		if day < 0 {
			day = r.IntN(5)
		}
		ev := Event{
			Time:    today.AddDate(0, 0, -day).Add(time.Duration(r.IntN(int(now.Sub(today)/time.Second))) * time.Second),
			Kind:    KindSignIn,
			UserKey: fmt.Sprintf("u%d", r.IntN(40)),
			AppID:   fmt.Sprintf("app%d", r.IntN(3)+i/60), // new ones keep coming: past the cap
			OS:      []string{"iOS", "", "Windows 10"}[r.IntN(3)],
			Country: []string{"fr", "DE", ""}[r.IntN(3)],
		}
		switch r.IntN(24) {
		case 0:
			ev.Kind, ev.AppID, ev.OS = KindUserDeleted, "", ""
		case 1:
			ev.Kind = KindUserCreated
		case 2, 3:
			ev.Kind = KindSignUp
		case 4, 5:
			ev.Kind, ev.Method, ev.Action = KindRegistration, []string{"Email", "Fido2", "Text message"}[r.IntN(3)],
				[]string{ActionRegistered, ActionRemoved}[r.IntN(2)]
		case 6:
			ev.Kind, ev.MFAMethod, ev.MFAResult = KindMFA, "Text message", MFASuccess
		case 7, 8:
			ev.ErrorCode = 50126
			if r.IntN(2) == 0 {
				ev.UserKey = "" // a guess at no known account
			}
		}
		if r.IntN(2) == 0 {
			ev.RequestID = fmt.Sprintf("r%d", r.IntN(n/3))
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestBatchAppliesAsOneByOne: a batch applied at once (applyAll, with
// what its events share looked up once) leaves the engine as the same
// events added one by one: the same counts of new events, dictionaries
// (capped, with OtherGroup), users and their days, registrations and
// sketches, and day segments (indexes, request ids and logs) byte for
// byte, whatever the batch mixes; late events thaw sealed days alike.
// Both engines go through batchCache, the one-by-one engine from its zero
// value at each event (which TestEmptyValueIsCodeZero backs): a dimension
// the cache never refreshed would break both alike, which the oracle
// tests catch (TestOracle fails if combo skips the OS dimension; this
// test does not).
func TestBatchAppliesAsOneByOne(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	evs := batchMixEvents(now, 1200)
	var engines []*Engine
	var stores []*store.Memory
	var added []int
	for _, size := range []int{len(evs), 1} { // the whole of each half in one batch, then one event a batch
		s := store.NewMemory()
		e, err := Open(ctx, s, &Options{Now: func() time.Time { return now }, MaxDimensionValues: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		total := 0
		for h, half := range [][]Event{evs[:len(evs)/2], evs[len(evs)/2:]} {
			if h == 1 { // seal every day: the second half thaws them
				if _, err := e.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2026, 3, 6), To: NewDate(2026, 3, 11)}); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < len(half); i += size {
				n, err := e.AddCount(ctx, half[i:min(i+size, len(half))]...)
				if err != nil {
					t.Fatal(err)
				}
				total += n
			}
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		engines, stores, added = append(engines, e), append(stores, s), append(added, total)
	}
	if added[0] != added[1] || added[0] == len(evs) {
		t.Errorf("new events: %d in batches, %d one by one, of %d (some must be copies)", added[0], added[1], len(evs))
	}
	// The manifest names the log's sequence, and the catalog lists maps
	// in their order: their contents are compared below.
	batch, single := storeBytes(t, stores[0]), storeBytes(t, stores[1])
	keys := slices.Sorted(maps.Keys(batch))
	if !slices.Equal(keys, slices.Sorted(maps.Keys(single))) {
		t.Fatalf("files in batches %v, one by one %v", keys, slices.Sorted(maps.Keys(single)))
	}
	for _, k := range keys {
		if k != manifestKey && !strings.HasPrefix(k, "catalog/") && !bytes.Equal(batch[k], single[k]) {
			t.Errorf("%s differs: %d bytes in batches, %d one by one", k, len(batch[k]), len(single[k]))
		}
	}
	b, o := engines[0], engines[1]
	for k := range b.dims {
		if !slices.Equal(b.dims[k].values, o.dims[k].values) || b.dims[k].overflowed != o.dims[k].overflowed {
			t.Errorf("dimension %s: %q (overflowed %t) in batches, %q (%t) one by one", Dimension(k+1),
				b.dims[k].values, b.dims[k].overflowed, o.dims[k].values, o.dims[k].overflowed)
		}
	}
	if !b.dims[DimAppID-1].overflowed || len(b.regs) == 0 || b.deletedU.IsEmpty() {
		t.Errorf("the mix lacks a case: app ids past the cap %t, registrations %d, deleted users %d",
			b.dims[DimAppID-1].overflowed, len(b.regs), b.deletedU.GetCardinality())
	}
	for _, c := range []struct {
		name       string
		got, other any
	}{
		{"user keys", b.userKeys, o.userKeys}, {"first days", b.first, o.first}, {"last days", b.last, o.last},
		{"joined days", b.joined, o.joined}, {"deletion days", b.deleted, o.deleted}, {"registrations", b.regs, o.regs},
		{"day sketches", sketchBytes(t, b), sketchBytes(t, o)},
	} {
		if !reflect.DeepEqual(c.got, c.other) {
			t.Errorf("%s in batches: %v\none by one: %v", c.name, c.got, c.other)
		}
	}
}

// TestEmptyValueIsCodeZero: every dictionary maps the empty value to code
// 0, as made (newDict) and as read back from a catalog (decodeCatalog):
// a batchCache's zero value takes every dimension's value as "", code 0.
func TestEmptyValueIsCodeZero(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	s, opts := store.NewMemory(), &Options{Now: func() time.Time { return now }, MaxDimensionValues: 4}
	for _, reopen := range []bool{false, true} {
		e, err := Open(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reopen {
			if err := e.Add(ctx, batchMixEvents(now, 200)...); err != nil {
				t.Fatal(err)
			}
		} else if _, ok := e.dims[DimAppID-1].lookup("app0"); !ok {
			t.Fatal("reopened without the catalog's app ids")
		}
		for k, d := range e.dims {
			if c, ok := d.lookup(""); !ok || c != 0 || d.values[0] != "" {
				t.Errorf("reopened %t: dimension %s codes \"\" as %d (%t), code 0 is %q", reopen, Dimension(k+1), c, ok, d.values[0])
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// sketchBytes returns e's day sketches, encoded.
func sketchBytes(t *testing.T, e *Engine) map[int32][]byte {
	t.Helper()
	out := map[int32][]byte{}
	for n, sk := range e.sketches.day {
		b, err := sk.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// storeBytes returns every key of s with its bytes.
func storeBytes(t *testing.T, s store.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		if out[k], err = s.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
