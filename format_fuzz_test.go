package insights

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// fuzzEngine returns an engine holding a few days, and its frames: a
// segment, a catalog and a manifest, as seeds.
func fuzzEngine(tb testing.TB) (*Engine, map[byte][]byte) {
	ctx := context.Background()
	s := store.NewMemory()
	now := func() time.Time { return time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC) }
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	for i, os := range []string{"iOS", "Windows", ""} {
		at := time.Date(2025, 1, 2+i, 8, 0, 0, 0, time.UTC)
		if err := e.Add(ctx,
			Event{Time: at, Kind: KindSignIn, UserKey: "u" + os, AppID: "A", OS: os, RequestID: "r" + os, IP: "198.51.100.7",
				City: "Lyon", AuthDetails: []AuthStep{{Time: at, Method: "Password", Succeeded: true}}, MFAPolicies: []string{"p1"},
				CAPolicies: []PolicyResult{{Name: "c1", Result: "success"}}},
			Event{Time: at, Kind: KindUserDeleted, UserKey: "d"},
			Event{Time: at, Kind: KindSignIn, PrincipalID: "p", SignInType: SignInServicePrincipal, ErrorCode: 7000215}); err != nil {
			tb.Fatal(err)
		}
	}
	seeds := map[byte][]byte{}
	if err := e.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	keys, _ := s.List(ctx, "")
	for _, k := range keys {
		v, _ := s.Get(ctx, k)
		if len(v) > frame.Header && string(v[:4]) == frame.Magic {
			seeds[v[4]] = v
		}
	}
	return e, seeds
}

// corruptOK reports whether err is an allowed decoder failure.
func corruptOK(err error) bool { return errors.Is(err, ErrCorrupt) }

// fuzzFrame runs check on fuzzed frames of kind k, seeded with a real
// frame, a truncation and a flipped byte. Each input is checked as it is,
// and with its checksum recomputed, so that the body decoder is reached by
// inputs other than the seeds.
func fuzzFrame(f *testing.F, k byte, check func(t *testing.T, e *Engine, b []byte)) {
	e, seeds := fuzzEngine(f)
	seed := seeds[k]
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	flipped := bytes.Clone(seed)
	flipped[len(flipped)/2] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, e, b)
		if len(b) >= frame.Header+frame.Trailer {
			check(t, e, frame.Seal(bytes.Clone(b[:len(b)-frame.Trailer])))
		}
	})
}

// FuzzManifest: a manifest decodes to an error wrapping ErrCorrupt, or
// decodes again identically after re-encoding (map order may differ).
func FuzzManifest(f *testing.F) {
	fuzzFrame(f, frame.KindManifest, func(t *testing.T, _ *Engine, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			if !corruptOK(err) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := decodeManifest(m.encode())
		if err != nil || again.gen != m.gen || again.walFrom != m.walFrom || again.catalog != m.catalog || len(again.segments) != len(m.segments) {
			t.Fatalf("manifest does not round-trip: %+v vs %+v (%v)", m, again, err)
		}
	})
}

// FuzzCatalog: a catalog, of either version, decodes into a fresh engine
// (with the users frame its seed names, which a fuzzed catalog may no
// longer match) with an error wrapping ErrCorrupt, or re-encodes, as
// either version, to a catalog that decodes to the same users.
func FuzzCatalog(f *testing.F) {
	e, seeds := fuzzEngine(f)
	key, users := e.catalog, seeds[frame.KindUsers]
	e.mu.Lock()
	_, _, v2 := testCatalog(f, e, keyGen(key))
	e.mu.Unlock()
	for _, seed := range [][]byte{seeds[frame.KindCatalog], v2} {
		f.Add(seed)
		f.Add(seed[:len(seed)/2])
		flipped := bytes.Clone(seed)
		flipped[len(flipped)/2] ^= 0x40
		f.Add(flipped)
	}
	check := func(t *testing.T, b []byte) {
		e := fuzzLazyUsers(t, key, b, users)
		if e == nil {
			return
		}
		if err := e.sketches.load(); err != nil && !corruptOK(err) { // deferred to the first approximate query
			t.Fatalf("sketches: error %v does not wrap ErrCorrupt", err)
		}
		e.mu.Lock()
		cat, uf, v2 := testCatalog(t, e, 9)
		e.mu.Unlock()
		for _, enc := range [][2][]byte{{cat, uf}, {v2, nil}} {
			e2, _ := Open(context.Background(), store.NewMemory(), nil)
			e2.readOnly = true // decodes the users at Open
			k := putCatalog(t, e2.store, 9, enc[0], enc[1])
			err := e2.decodeCatalog(k, enc[0])
			if err == nil {
				err = e2.loadUsers(context.Background())
			}
			if err != nil {
				t.Fatalf("re-encoded catalog does not decode: %v", err)
			}
			if !reflect.DeepEqual(e2.userKeys, e.userKeys) || len(e2.keys) != len(e.keys) || !reflect.DeepEqual(e2.deleted, e.deleted) {
				t.Fatalf("catalog does not round-trip")
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		if len(b) >= frame.Header+frame.Trailer {
			check(t, frame.Seal(bytes.Clone(b[:len(b)-frame.Trailer])))
		}
	})
}

// FuzzUsers: a users frame, named by its catalog (which names the fuzzed
// frame's checksum here, so that its body is decoded), decodes with an
// error wrapping ErrCorrupt, or to users that agree with the catalog and
// encode to a frame that decodes to the same users.
func FuzzUsers(f *testing.F) {
	e, seeds := fuzzEngine(f)
	key, cat := e.catalog, seeds[frame.KindCatalog]
	fuzzFrame(f, frame.KindUsers, func(t *testing.T, _ *Engine, b []byte) {
		ctx := context.Background()
		e, err := Open(ctx, store.NewMemory(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if err := e.decodeCatalog(key, cat); err != nil {
			t.Fatal(err)
		}
		p := e.undecoded
		if len(b) >= frame.Trailer {
			p.crc = binary.LittleEndian.Uint32(b[len(b)-frame.Trailer:])
		}
		if err := e.store.Put(ctx, p.key, b); err != nil {
			t.Fatal(err)
		}
		if err := e.loadUsers(ctx); err != nil {
			if !corruptOK(err) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(e.userKeys) != p.users || len(e.keys) != p.live {
			t.Fatalf("%d users, %d live; the catalog says %d, %d", len(e.userKeys), len(e.keys), p.users, p.live)
		}
		c := userColumns{keys: e.keys, userKeys: e.userKeys, first: e.first, last: e.last, joined: e.joined, deleted: e.deleted}
		again := encodeUsers(&c)
		q := &pendingUsers{key: p.key, frame: true, crc: binary.LittleEndian.Uint32(again[len(again)-frame.Trailer:]), users: p.users, live: p.live, deleted: p.deleted}
		got, err := q.decode(again)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("users do not round-trip: %v", err)
		}
	})
}

// fuzzLazyUsers decodes catalog b, stored under key beside users (its
// users frame, if it has one), twice: at Open, as a read-only engine does,
// and as a writer does, its users at their first use (loadUsers). Both
// must fail with ErrCorrupt, or both give the same users; what the writer
// knew before decoding them (counts, deletion days) must agree. It returns
// the writer's engine, nil if b is corrupt.
func fuzzLazyUsers(t *testing.T, key string, b, users []byte) *Engine {
	ctx := context.Background()
	s := store.NewMemory()
	if err := s.Put(ctx, key, b); err != nil { // read again by loadUsers
		t.Fatal(err)
	}
	if err := s.Put(ctx, usersKey(keyGen(key)), users); err != nil {
		t.Fatal(err)
	}
	eager, err := Open(ctx, store.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eager.store, eager.readOnly = s, true
	errEager := eager.decodeCatalog(key, b) // as load does
	if errEager == nil {
		errEager = eager.loadUsers(ctx)
	}
	e, err := Open(ctx, store.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	err = e.decodeCatalog(key, b)
	var live, count int
	var deleted []int32
	if err == nil {
		live, count = e.liveUsers(), e.userCount()
		for u := range count {
			deleted = append(deleted, e.deletedDay(uint32(u)))
		}
		err = e.loadUsers(ctx)
	}
	if (err == nil) != (errEager == nil) {
		t.Fatalf("decoded at Open: %v; at first use: %v", errEager, err)
	}
	if err != nil {
		if !corruptOK(err) || !corruptOK(errEager) {
			t.Fatalf("errors %v, %v do not wrap ErrCorrupt", errEager, err)
		}
		return nil
	}
	if !reflect.DeepEqual(e.keys, eager.keys) || !reflect.DeepEqual(e.userKeys, eager.userKeys) ||
		!reflect.DeepEqual([][]int32{e.first, e.last, e.joined, e.deleted}, [][]int32{eager.first, eager.last, eager.joined, eager.deleted}) ||
		!e.deletedU.Equals(eager.deletedU) || len(e.firstOn) != len(eager.firstOn) {
		t.Fatal("the users decoded at first use differ from those decoded at Open")
	}
	for n, s := range e.firstOn {
		if !s.Equals(eager.firstOn[n]) {
			t.Fatalf("first activity on day %d: users differ", n)
		}
	}
	if live != len(e.keys) || count != len(e.userKeys) || !reflect.DeepEqual(deleted, append([]int32{}, e.deleted...)) {
		t.Fatalf("before decoding: %d users, %d live, deletion days %v; decoded: %d, %d, %v", count, live, deleted, len(e.userKeys), len(e.keys), e.deleted)
	}
	return e
}
