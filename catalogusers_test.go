package insights

// The tests of the catalog's users frame (frame.CatalogVersion, userload.go):
// a writer's Open does not read it, other engines do, a damaged or
// missing one is reported naming it, and a checkpoint's snapshot of the
// users is what the engine held when it was taken, however the engine
// changes while it is encoded.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// usersReads counts the reads of users frames.
type usersReads struct {
	*store.Memory
	gets atomic.Int64
}

func (s *usersReads) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, "catalog/users/") {
		s.gets.Add(1)
	}
	return s.Memory.Get(ctx, key)
}

// TestUsersFrameReadAtFirstUse: a writer's Open and its aggregate queries
// do not read the users frame; its first Add reads it once; a read-only
// engine reads it at Open. A users frame missing, or of another catalog,
// fails a read-only Open, and a writer's first Add, with ErrCorrupt naming
// it, the writer's Open and aggregate queries not.
func TestUsersFrameReadAtFirstUse(t *testing.T) {
	ctx := context.Background()
	_, s := lazyFixture(t)
	rs := &usersReads{Memory: s.(*store.Memory)}
	from, to := DateOf(lazyStart, time.UTC), DateOf(lazyStart.AddDate(0, 0, 35), time.UTC)
	aggregate := Query{Metric: ActiveUsers, From: from, To: to, Granularity: Week}
	e, err := Open(ctx, rs, lazyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, aggregate); err != nil {
		t.Fatal(err)
	}
	if n := rs.gets.Load(); n != 0 {
		t.Fatalf("a writer's Open and an aggregate query read the users frame %d times", n)
	}
	if err := e.Add(ctx, Event{Time: lazyStart.AddDate(0, 0, 31), Kind: KindSignIn, UserKey: "u001"}); err != nil {
		t.Fatal(err)
	}
	if n := rs.gets.Load(); n != 1 {
		t.Fatalf("the first Add read the users frame %d times, want 1", n)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, rs, &Options{Now: lazyOptions().Now, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := rs.gets.Load(); n != 2 || !ro.usersReady() {
		t.Fatalf("a read-only Open read the users frame %d times in all, want 2 (decoded: %t)", n, ro.usersReady())
	}
	ro.Close()

	m, err := s.Get(ctx, manifestKey)
	if err != nil {
		t.Fatal(err)
	}
	man, err := decodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	uf, err := s.Get(ctx, man.usersKey())
	if err != nil {
		t.Fatal(err)
	}
	// A catalog stating 2^32-1 users beside this frame (a damaged count
	// the catalog's checksum did not catch, or a hostile store): refused
	// before anything is sized by it.
	huge := &pendingUsers{key: man.usersKey(), frame: true, crc: binary.LittleEndian.Uint32(uf[len(uf)-frame.Trailer:]), users: 1<<32 - 1}
	if _, err := huge.decode(uf); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a users frame under a catalog of 2^32-1 users: %v, want ErrCorrupt", err)
	}
	// Another frame, whole, of as many users, live and deleted: only its
	// checksum tells it from the catalog's.
	other := bytes.Clone(uf)
	_, n := binary.Uvarint(other[frame.Header:])
	other[frame.Header+n+1] ^= 1 // the first user key's first byte (its length a byte)
	other = frame.Seal(other[:len(other)-frame.Trailer])
	for _, c := range []struct {
		name  string
		value []byte // nil: deleted
	}{{"missing", nil}, {"of another catalog", other}} {
		if c.value == nil {
			err = s.Delete(ctx, man.usersKey())
		} else {
			err = s.Put(ctx, man.usersKey(), c.value)
		}
		if err != nil {
			t.Fatal(err)
		}
		named := func(err error) bool {
			return errors.Is(err, ErrCorrupt) && strings.Contains(err.Error(), man.usersKey())
		}
		if _, err := Open(ctx, s, &Options{Now: lazyOptions().Now, ReadOnly: true}); !named(err) {
			t.Fatalf("users frame %s: a read-only Open: %v; want ErrCorrupt naming it", c.name, err)
		}
		e, err := Open(ctx, s, lazyOptions())
		if err != nil {
			t.Fatalf("users frame %s: a writer's Open: %v", c.name, err)
		}
		if _, err := e.Query(ctx, aggregate); err != nil {
			t.Fatalf("users frame %s: an aggregate query: %v", c.name, err)
		}
		if err := e.Add(ctx, Event{Time: lazyStart.AddDate(0, 0, 31), Kind: KindSignIn, UserKey: "u002"}); !named(err) {
			t.Fatalf("users frame %s: the first Add: %v; want ErrCorrupt naming it", c.name, err)
		}
		e.Close()
	}
}

// TestCatalogSnapshotKeepsItsUsers: a catalog snapshot encodes the users
// as they were when it was taken, though Adds (new users, later days),
// deletions and an erasure change them before it is encoded; and the
// catalog's deleted users are the snapshot's.
func TestCatalogSnapshotKeepsItsUsers(t *testing.T) {
	ctx := context.Background()
	e, _ := lazyFixture(t)
	at := func(day int, kind Kind, user string) Event {
		return Event{Time: lazyStart.AddDate(0, 0, day), Kind: kind, UserKey: user}
	}
	e.mu.Lock()
	snap, err := e.snapshotCatalog(ctx)
	want := encodeUsers(&userColumns{userKeys: slices.Clone(e.userKeys),
		first: slices.Clone(e.first), last: slices.Clone(e.last), joined: slices.Clone(e.joined), deleted: slices.Clone(e.deleted)})
	e.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, at(33, KindSignIn, "u001"), at(33, KindSignIn, "fresh"), at(2, KindSignIn, "u003"),
		at(34, KindUserDeleted, "u004"), at(1, KindUserCreated, "u006")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Erase(ctx, "u007"); err != nil {
		t.Fatal(err)
	}
	cat, users := snap.encode(5)
	if !bytes.Equal(users, want) {
		t.Fatal("the snapshot's users frame is not the users as of the snapshot")
	}
	f, err := Open(ctx, store.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.readOnly = true
	key := putCatalog(t, f.store, 5, cat, users)
	if err := f.decodeCatalog(key, cat); err != nil {
		t.Fatal(err)
	}
	if err := f.loadUsers(ctx); err != nil { // checks the catalog's counts and deleted users against the frame
		t.Fatal(err)
	}
}

// BenchmarkCatalogSnapshot: a checkpoint's catalog at a million users
// (millionUsers): the snapshot, what it does under walMu and the write
// lock, and its encoding, which it does holding neither.
func BenchmarkCatalogSnapshot(b *testing.B) {
	e := millionUsers(b)
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.mu.Lock()
			_, err := e.snapshotCatalog(context.Background())
			e.mu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		e.mu.Lock()
		snap, err := e.snapshotCatalog(context.Background())
		e.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		head := snap.head
		for b.Loop() {
			snap.head = head[:len(head):len(head)] // encode appends to it
			snap.encode(1)
		}
	})
}
