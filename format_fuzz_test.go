package insights

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
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

// FuzzSegment: a segment decodes to an error wrapping ErrCorrupt, or to a
// day that encodes and decodes back to an equal day. (Bytes need not be
// canonical: a varint may have spare bytes, a roaring set another layout.)
func FuzzSegment(f *testing.F) {
	fuzzFrame(f, frame.KindSegment, func(t *testing.T, e *Engine, b []byte) {
		var lim limits
		for k, d := range e.dims {
			lim.dictSizes[k] = len(d.values)
		}
		lim.users = len(e.userKeys)
		n := int32(0)
		if r, err := frame.Open("seg", frame.KindSegment, b); err == nil {
			n = r.Day32()
		}
		d, err := decodeDay("seg", b, n, lim, e.zdec)
		if err != nil {
			if !corruptOK(err) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc, _, err := encodeDay(context.Background(), n, d, e.zenc, d.fullIDs) // reads the log's columns, keeps its blocks
		if err != nil {
			if !corruptOK(err) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := decodeDay("seg", enc, n, lim, e.zdec)
		if err != nil || !reflect.DeepEqual(again.cols, d.cols) || !reflect.DeepEqual(again.counts, d.counts) ||
			!slices.Equal(again.offs, d.offs) || !slices.Equal(again.users, d.users) ||
			again.fullIDs != d.fullIDs || !again.active.Equals(d.active) {
			t.Fatalf("segment does not round-trip (%v)", err)
		}
		ids1, err1 := d.allRequestIDs()
		ids2, err2 := again.allRequestIDs()
		if (err1 == nil) != (err2 == nil) || !slices.Equal(ids1, ids2) {
			t.Fatalf("request ids do not round-trip (%v, %v)", err1, err2)
		}
		if err1 != nil && !corruptOK(err1) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err1)
		}
		l1, _ := d.events()
		l2, err := again.events()
		if err != nil || !slices.Equal(l1.times, l2.times) || !slices.Equal(l1.users, l2.users) ||
			!slices.Equal(l1.combos, l2.combos) || !slices.Equal(l1.offs, l2.offs) {
			t.Fatalf("event log does not round-trip (%v)", err)
		}
		c1, c2 := l1.cursor(), l2.cursor()
		for i := range l1.len() {
			r1, err1 := c1.record(i)
			r2, err2 := c2.record(i)
			if (err1 == nil) != (err2 == nil) || !bytes.Equal(r1, r2) {
				t.Fatalf("record %d does not round-trip (%v, %v)", i, err1, err2)
			}
			var ev Event
			if err1 == nil {
				err1 = decodeRecord("seg", r1, &ev, time.UTC)
			}
			if err1 != nil && !corruptOK(err1) {
				t.Fatalf("record %d: error %v does not wrap ErrCorrupt", i, err1)
			}
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
