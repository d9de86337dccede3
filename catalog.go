package insights

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/axiomhq/hyperloglog"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/metrics"
)

// A catalog frame (kind 'C', version frame.CatalogVersion) holds what every
// day's segment refers to; its users are a frame of their own (kind 'U',
// userload.go), so that Open reads a catalog of a few kilobytes instead of
// about 50 bytes a user:
//
//	for each indexed dimension: overflowed (1 byte), value count (uvarint), values (strings)
//	users (uvarint), users not erased (uvarint), the users frame's key (string: usersKey of
//	  the catalog's generation) and CRC-32C (4 bytes, little-endian: its trailer)
//	deleted users (uvarint), each: user id as the difference from the previous one (the
//	  first from 0; uvarint, ascending) and deletion day (varint)
//	day sketches: count (uvarint), then each day (varint) and its HyperLogLog
//	  serialization (length-prefixed bytes), each day once; decoded, and the week and month
//	  sketches merged from them, at the first approximate query
//	registration state: users (uvarint), each: user id (uvarint), methods (uvarint), each:
//	  method code (uvarint) | time of the deciding event (varint Unix ns) | registered (1 byte)
//	sketch hash (uvarint): sketchHashKey
//
// A catalog of version frame.Version, still read and never written, holds
// in place of the user counts, the key and the deleted users the whole
// user section: users (uvarint), each user's key (string; "" for an erased
// user), each user's first activity day, then last activity day, then
// first day as a user, then deletion day (varints; NoDay for none); and
// its sketch hash may be absent (written before the field), its sketches
// then hashed dense ids (sketchHashID) and are rebuilt at Open
// (rehashSketches).
//
// A checkpoint takes a catalogSnapshot under the engine's locks and
// encodes it holding none: the per-user days are copied, the key slice
// shared (only appended to, and replaced whole by an erasure), so that the
// users, most of a large catalog, are encoded beside Adds.

// catalogKey names version gen of the catalog.
func catalogKey(gen uint64) string { return fmt.Sprintf("catalog/%016x", gen) }

// usersKey names the users frame of the catalog of generation gen. It
// lies below "catalog/": it is collected with the catalogs, and a store
// that keeps keys by prefix (pgstore) keeps it with them.
func usersKey(gen uint64) string { return fmt.Sprintf("catalog/users/%016x", gen) }

// catalogSnapshot is what a checkpoint's catalog holds, taken under the
// engine's locks and encoded without them (encode).
type catalogSnapshot struct {
	head, tail []byte      // the catalog's bytes before its user counts (frame header, dictionaries) and after its deleted users
	users      userColumns // keys nil; userKeys shared, the days copied
	live       int
}

// snapshotCatalog takes the catalog's snapshot, decoding the users first
// if Open left them undecoded (loadUsers). The write lock is held. Cost:
// the four per-user day arrays copied (16 bytes a user), the dictionaries,
// sketches and registration state encoded.
func (e *Engine) snapshotCatalog(ctx context.Context) (*catalogSnapshot, error) {
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
	s := &catalogSnapshot{live: len(e.keys), users: userColumns{
		userKeys: e.userKeys[:len(e.userKeys):len(e.userKeys)],
		first:    slices.Clone(e.first), last: slices.Clone(e.last), joined: slices.Clone(e.joined), deleted: slices.Clone(e.deleted),
	}}
	b := frame.New(frame.KindCatalog)
	for _, d := range e.dims {
		flag := byte(0)
		if d.overflowed {
			flag = 1
		}
		b = append(b, flag)
		b = frame.AppendUvarint(b, uint64(len(d.values)))
		for _, v := range d.values {
			b = frame.AppendString(b, v)
		}
	}
	s.head = b
	sk := &e.sketches
	for n := range sk.day { // a day both deferred and written to since: merged
		if err := sk.decodeDay(n); err != nil {
			return nil, err
		}
	}
	b = frame.AppendUvarint(nil, uint64(len(sk.day)+len(sk.raw)))
	for n, raw := range sk.raw { // still as the last catalog stored them
		b = frame.AppendVarint(b, int64(n))
		b = frame.AppendUvarint(b, uint64(len(raw)))
		b = append(b, raw...)
	}
	for n, d := range sk.day {
		raw, err := d.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("insights: encoding the sketch of day %s: %w", dateOfNum(n), err)
		}
		b = frame.AppendVarint(b, int64(n))
		b = frame.AppendUvarint(b, uint64(len(raw)))
		b = append(b, raw...)
	}
	b = frame.AppendUvarint(b, uint64(len(e.regs)))
	for uid, ms := range e.regs {
		b = frame.AppendUvarint(b, uint64(uid))
		b = frame.AppendUvarint(b, uint64(len(ms)))
		for m, st := range ms {
			b = frame.AppendUvarint(b, uint64(m))
			b = frame.AppendVarint(b, st.t)
			b = frame.AppendFlag(b, st.registered)
		}
	}
	s.tail = frame.AppendUvarint(b, sketchHashKey)
	return s, nil
}

// encode returns the catalog of generation gen and its users frame. It
// needs no lock. Cost at a million 36-byte keys: about 50 MB written.
func (s *catalogSnapshot) encode(gen uint64) (cat, users []byte) {
	users = encodeUsers(&s.users)
	c := &s.users
	b := frame.AppendUvarint(s.head, uint64(len(c.userKeys)))
	b = frame.AppendUvarint(b, uint64(s.live))
	b = frame.AppendString(b, usersKey(gen))
	b = append(b, users[len(users)-frame.Trailer:]...)
	deleted := 0
	for _, n := range c.deleted {
		if n != metrics.NoDay {
			deleted++
		}
	}
	b = frame.AppendUvarint(b, uint64(deleted))
	prev := 0
	for u, n := range c.deleted {
		if n != metrics.NoDay {
			b = frame.AppendUvarint(b, uint64(u-prev))
			b = frame.AppendVarint(b, int64(n))
			prev = u
		}
	}
	return frame.Seal(append(b, s.tail...)), users
}

// decodeCatalog restores the catalog stored under key into e, which must
// be freshly opened. It leaves the users undecoded, to be read at their
// first use (userload.go), but for a catalog of version frame.Version on
// an engine that is not lazyUsers, whose users it decodes. On error e is
// left unusable and must be discarded.
func (e *Engine) decodeCatalog(key string, b []byte) error {
	r, err := frame.Open(key, frame.KindCatalog, b)
	if err != nil {
		return err
	}
	for k, d := range e.dims {
		seeds := d.values[:d.seeds]
		d.codes, d.values = map[string]uint32{}, nil
		d.overflowed = r.Flag()
		n := r.Count(1<<31-1, 1)
		if r.Err == nil && n < len(seeds) {
			r.Fail("dimension %s has %d values, fewer than its %d seeds", Dimension(k+1), n, len(seeds))
		}
		for i := 0; i < n && r.Err == nil; i++ {
			v := r.String(MaxValueLength + len(OtherGroup))
			if _, dup := d.codes[v]; dup {
				r.Fail("dimension %s lists %q twice", Dimension(k+1), v)
			}
			if i < len(seeds) && v != seeds[i] {
				r.Fail("dimension %s: value %d is %q, not the seed %q", Dimension(k+1), i, v, seeds[i])
			}
			d.codes[v] = uint32(i)
			d.values = append(d.values, v)
		}
	}
	var users int
	switch {
	case r.Version == frame.CatalogVersion:
		var p *pendingUsers
		p, users = readUserSummary(r, key)
		e.undecoded = p
		for _, d := range p.deleted {
			e.deletedU.Add(d.user)
		}
	case e.lazyUsers():
		off := r.Off
		users = r.Count(1<<32-1, 5) // a key, four days: at least five bytes
		e.undecoded = skipUsers(r, key, off, users)
		for _, d := range e.undecoded.deleted {
			e.deletedU.Add(d.user)
		}
	default:
		users = r.Count(1<<32-1, 5)
		c := decodeUsers(r, users)
		e.setUsers(c)
		for u, n := range c.deleted {
			if n != metrics.NoDay {
				e.deletedU.Add(uint32(u))
			}
		}
	}
	n := r.Count(1<<31-1, 2)
	for i := 0; i < n && r.Err == nil; i++ {
		day := r.Day32()
		raw := r.Bytes(r.Count(len(r.Body), 1))
		if e.sketches.hasDay(day) {
			r.Fail("sketch of %s twice", dateOfNum(day))
		}
		e.sketches.deferDay(day, bytes.Clone(raw), key) // decoded at the first approximate query (sketches.load); a copy, so that the catalog is not kept
	}
	n = r.Count(users, 2)
	e.regs = make(map[uint32]map[uint32]regState, n)
	for i := 0; i < n && r.Err == nil; i++ {
		uid := r.Uvarint()
		if _, dup := e.regs[uint32(uid)]; dup || uid >= uint64(users) {
			r.Fail("registration state of user %d: out of range or twice", uid)
		}
		methods := r.Count(len(e.dims[DimMethod-1].values), 3)
		ms := make(map[uint32]regState, methods)
		for j := 0; j < methods && r.Err == nil; j++ {
			m := r.Uvarint()
			if _, dup := ms[uint32(m)]; dup || m >= uint64(len(e.dims[DimMethod-1].values)) {
				r.Fail("registration state of user %d: method %d out of range or twice", uid, m)
			}
			ms[uint32(m)] = regState{t: r.Varint(), registered: r.Flag()}
		}
		e.regs[uint32(uid)] = ms
	}
	hash := uint64(sketchHashID)
	if r.Err == nil && (r.Off < len(r.Body) || r.Version == frame.CatalogVersion) {
		if hash = r.Uvarint(); hash != sketchHashKey {
			r.Fail("unknown sketch hash %d", hash)
		}
	}
	if err := r.End(); err != nil {
		return err
	}
	if hash == sketchHashID {
		// Never mix two hashes in one estimate: the sketches are rebuilt
		// from the day segments before the log is replayed onto them.
		e.sketches = newSketches(e.precision)
		e.sketches.rehashed = true
		return nil
	}
	e.sketches.lazy = true // week and month sketches are derived, not stored: load builds them
	return nil
}

// rehashSketches rebuilds the day, week and month sketches from the
// exact active sets of the day segments when the catalog hashed dense ids
// (decodeCatalog then dropped its sketches); it does nothing otherwise.
// It runs in Open once the manifest's segments are known, before the log
// is replayed. Cost: every segment is read and decoded once, one at a
// time, and not kept.
func (e *Engine) rehashSketches(ctx context.Context) error {
	if !e.sketches.rehashed {
		return nil
	}
	if err := e.loadUsers(ctx); err != nil { // the keys are hashed
		return err
	}
	days := make([]int32, 0, len(e.days))
	for n := range e.days {
		days = append(days, n)
	}
	_, err := e.rebuildSketches(days, func(n int32) (*roaring.Bitmap, error) {
		d, _, err := e.loadDay(ctx, n, e.days[n], 0) // the active set alone
		if err != nil {
			return nil, err
		}
		return d.ix.Active, nil
	})
	return err
}

// readSketch decodes a HyperLogLog sketch of precision p. Like internal/segment's readBitmap
// it turns a panic of the third-party decoder into an error.
func readSketch(raw []byte, p uint8) (sk *hyperloglog.Sketch, err error) {
	defer func() {
		if x := recover(); x != nil {
			sk, err = nil, fmt.Errorf("undecodable (%v)", x)
		}
	}()
	sk = new(hyperloglog.Sketch)
	if err := sk.UnmarshalBinary(raw); err != nil {
		return nil, err
	}
	probe, _ := hyperloglog.NewSketch(p, true)
	if err := probe.Merge(sk); err != nil { // a sketch of another precision cannot merge
		return nil, err
	}
	return sk, nil
}
