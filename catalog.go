package insights

import (
	"bytes"
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/axiomhq/hyperloglog"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/metrics"
)

// A catalog frame (kind 'C') holds what every day's segment refers to:
//
//	for each indexed dimension: overflowed (1 byte), value count (uvarint), values (strings)
//	users (uvarint), then each user's key (string; "" for an erased user)
//	each user's first activity day, then last activity day, then first day as a user
//	  (activity or creation), then deletion day (varints; NoDay for none)
//	day sketches: count (uvarint), then each day (varint) and its HyperLogLog
//	  serialization (length-prefixed bytes), each day once; decoded, and the week and month
//	  sketches merged from them, at the first approximate query
//	registration state: users (uvarint), each: user id (uvarint), methods (uvarint), each:
//	  method code (uvarint) | time of the deciding event (varint Unix ns) | registered (1 byte)
//	sketch hash (uvarint): sketchHashKey; absent from catalogs written before it, whose
//	  sketches hashed dense ids (sketchHashID) and are rebuilt at Open (rehashSketches)

// catalogKey names version gen of the catalog.
func catalogKey(gen uint64) string { return fmt.Sprintf("catalog/%016x", gen) }

// encodeCatalog appends the catalog frame, decoding the users first if
// Open left them undecoded (loadUsers). The write lock is held.
func (e *Engine) encodeCatalog(ctx context.Context) ([]byte, error) {
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
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
	b = frame.AppendUvarint(b, uint64(len(e.userKeys)))
	for _, k := range e.userKeys {
		b = frame.AppendString(b, k)
	}
	for _, days := range [][]int32{e.first, e.last, e.joined, e.deleted} {
		for _, n := range days {
			b = frame.AppendVarint(b, int64(n))
		}
	}
	sk := &e.sketches
	for n := range sk.day { // a day both deferred and written to since: merged
		if err := sk.decodeDay(n); err != nil {
			return nil, err
		}
	}
	b = frame.AppendUvarint(b, uint64(len(sk.day)+len(sk.raw)))
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
	b = frame.AppendUvarint(b, sketchHashKey)
	return frame.Seal(b), nil
}

// decodeCatalog restores the catalog stored under key into e, which must
// be freshly opened. A writer leaves its user section undecoded, read
// again at their first use (userload.go). On error e is left unusable and
// must be discarded.
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
	off := r.Off
	users := r.Count(1<<32-1, 5) // a key, four days: at least five bytes
	if e.lazyUsers() {
		e.undecoded = skipUsers(r, key, off, users)
		for _, d := range e.undecoded.deleted {
			e.deletedU.Add(d.user)
		}
	} else {
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
	if r.Err == nil && r.Off < len(r.Body) {
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
		return d.active, nil
	})
	return err
}

// readSketch decodes a HyperLogLog sketch of precision p. Like readBitmap
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
