package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/insightslab/insights/internal/segmenttest"
	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// fuzzLimits returns the fixture's limits widened so that the engine's
// segments of the seed corpora (testdata/fuzz), of few codes and users,
// decode too.
func fuzzLimits(lim *Limits) *Limits {
	l := *lim
	for k := range l.DictSizes {
		l.DictSizes[k] = max(l.DictSizes[k], 64)
	}
	l.Users = max(l.Users, 64)
	return &l
}

// fuzzSegments runs check on fuzzed segments, seeded with the fixture's,
// a truncation and a flipped byte. Each input is checked as it is, and
// with its checksum recomputed, so that the body decoders are reached by
// inputs other than the seeds.
func fuzzSegments(f *testing.F, check func(t *testing.T, b []byte, n int32, lim *Limits, enc *zstd.Encoder, dec *zstd.Decoder)) {
	_, _, lim, seed := fixture(f)
	lim = fuzzLimits(lim)
	enc, dec := codec()
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	flipped := bytes.Clone(seed)
	flipped[len(flipped)/2] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, b []byte) {
		n := int32(0)
		if len(b) > frame.Header {
			r := &frame.Reader{Body: b[frame.Header:]}
			n = r.Day32()
		}
		check(t, b, n, lim, enc, dec)
		if len(b) >= frame.Header+frame.Trailer {
			check(t, frame.Seal(bytes.Clone(b[:len(b)-frame.Trailer])), n, lim, enc, dec)
		}
	})
}

// corruptOK fails t unless err is nil or wraps frame.ErrCorrupt.
func corruptOK(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, frame.ErrCorrupt) {
		t.Fatalf("error %v does not wrap ErrCorrupt", err)
	}
}

// FuzzSegment: a segment decodes to an error wrapping ErrCorrupt, or to an
// index and log that encode and decode back to equal ones, with the same
// records. (Bytes need not be canonical: a varint may have spare bytes, a
// roaring set another layout.)
func FuzzSegment(f *testing.F) {
	fuzzSegments(f, func(t *testing.T, b []byte, n int32, lim *Limits, enc *zstd.Encoder, dec *zstd.Decoder) {
		x, off, err := Decode("seg", b, n, lim, dec)
		if corruptOK(t, err); err != nil {
			return
		}
		l, err := decodeLogOf("seg", b, off, x, lim, dec)
		if corruptOK(t, err); err != nil {
			return
		}
		recs, rerr := records(&l, dec)
		if l.Format != logblock.Tagged { // blocks of rows are written again (the engine's encodeLog)
			if rerr != nil {
				return
			}
			l.Chunks, l.Blocks = segmenttest.Chunks(recs, l.Offs), nil
		}
		seg, _ := Encode(n, x, encodeLog(t, &l, enc), enc)
		again, off, err := Decode("seg", seg, n, lim, dec)
		if err != nil || !sameIndex(again, x) {
			t.Fatalf("the index does not round-trip (%v)", err)
		}
		l2, err := decodeLogOf("seg", seg, off, again, lim, dec)
		if err != nil || !sameLog(&l, &l2) {
			t.Fatalf("the event log does not round-trip (%v)", err)
		}
		if recs2, err := records(&l2, dec); (rerr == nil) != (err == nil) || !bytes.Equal(recs, recs2) {
			t.Fatalf("the records do not round-trip (%v, %v)", rerr, err)
		}
	})
}

// FuzzRangedSegment: a segment read by ranges decodes to an error
// wrapping ErrCorrupt (ErrNotRanged for a version other than v3's), or to
// the index and active set it decodes to when read whole, if that
// succeeds.
func FuzzRangedSegment(f *testing.F) {
	fuzzSegments(f, func(t *testing.T, b []byte, n int32, lim *Limits, _ *zstd.Encoder, dec *zstd.Decoder) {
		ctx := context.Background()
		m := memOf(t, b)
		x, err := readRanged(ctx, m, n, lim, dec, 1<<SecActive-1)
		active, aerr := RangedActive(ctx, m, "seg", n, lim.Users)
		for _, err := range []error{err, aerr} {
			if !errors.Is(err, ErrNotRanged) {
				corruptOK(t, err)
			}
		}
		whole, _, werr := Decode("seg", b, n, lim, dec)
		if werr != nil {
			return
		}
		if err == nil && !sameIndex(x, whole) {
			t.Fatal("the ranged index differs from the whole one")
		}
		if aerr == nil && !active.Equals(whole.Active) {
			t.Fatal("the ranged active set differs from the whole one")
		}
	})
}

// readRanged reads the index of the segment "seg" of m by ranges: its
// start, then the zstd sections of first, then the others.
func readRanged(ctx context.Context, m store.RangeGetter, n int32, lim *Limits, dec *zstd.Decoder, first uint32) (*Index, error) {
	x, g, err := ReadRanged(ctx, m, "seg", n, lim)
	for _, pass := range []uint32{first, ^first} {
		for s := 0; s < SecActive && err == nil; s++ {
			if pass&(1<<s) == 0 {
				continue
			}
			var raw []byte
			if raw, err = ReadRest(ctx, m, "seg", g.At[s], g.Dir.Lens[s], nil); err == nil && len(raw) != g.Dir.Lens[s] {
				r := &frame.Reader{Key: "seg", Off: g.At[s] - frame.Header}
				r.Fail("the segment ends %d bytes into a section of %d", len(raw), g.Dir.Lens[s])
				err = r.Err
			}
			if err == nil {
				err = x.DecodeSection("seg", g.At[s], &g.Dir, s, raw, lim, dec)
			}
		}
	}
	return x, err
}

// FuzzRangedSections: a format v3 segment whose sections' uncompressed
// contents are mutated, then recompressed under recomputed checksums (so
// that the decoders behind the checksums are reached), decodes by ranges
// to an error wrapping ErrCorrupt or, when it decodes whole, to the same
// index and active set, whether its sections are decoded at once or in
// two steps. A read by ranges may succeed where the whole read
// fails: it does not read the log, which may disagree with the index.
//
// The input is a program of 5-byte steps: section, operation (set a
// byte, set a byte's high bit, insert a byte, delete a byte, change the
// number of combinations), position (2 bytes, little-endian), value.
func FuzzRangedSections(f *testing.F) {
	ctx := context.Background()
	_, _, lim, seg := fixture(f)
	enc, dec := codec()
	r, err := frame.Open("seg", frame.KindSegment, seg)
	if err != nil {
		f.Fatal(err)
	}
	n := r.Day32()
	dir := readDirectory(r, len(r.Body), seg)
	var plains [NumSections][]byte
	for _, s := range Layout(frame.SegmentVersion) {
		plains[s] = r.Bytes(dir.Lens[s])
		if isZstdSection(s) && r.Err == nil {
			plains[s], r.Err = dec.DecodeAll(plains[s], make([]byte, 0, dir.Plain[s]))
		}
	}
	if r.Err != nil {
		f.Fatal(r.Err)
	}
	logSection := r.Body[r.Off:]
	f.Add([]byte{})
	f.Add([]byte{byte(SecActive), 0, 9, 0, 0xff})
	f.Add([]byte{byte(SecUsers), 2, 3, 0, 0x81, 0, 3, 0, 0, 7})
	f.Fuzz(func(t *testing.T, prog []byte) {
		combos := uint32(dir.Combos)
		var ps [NumSections][]byte
		for s := range ps {
			ps[s] = append([]byte(nil), plains[s]...)
		}
		for ; len(prog) >= 5; prog = prog[5:] {
			s, at, v := int(prog[0])%NumSections, int(binary.LittleEndian.Uint16(prog[2:])), prog[4]
			p := ps[s]
			switch prog[1] % 5 {
			case 0:
				if len(p) > 0 {
					p[at%len(p)] = v
				}
			case 1:
				if len(p) > 0 {
					p[at%len(p)] |= 0x80
				}
			case 2:
				i := at % (len(p) + 1)
				p = append(p[:i:i], append([]byte{v}, p[i:]...)...)
			case 3:
				if len(p) > 0 {
					i := at % len(p)
					p = append(p[:i:i], p[i+1:]...)
				}
			case 4:
				combos = uint32(at % (dir.Combos + 3))
			}
			ps[s] = p
		}
		var zs [NumSections][]byte
		var plain [NumSections]int
		for s := range ps {
			zs[s], plain[s] = ps[s], len(ps[s])
			if isZstdSection(s) {
				zs[s] = enc.EncodeAll(ps[s], nil)
			}
		}
		b := frame.Seal(append(sectionsFrame(n, combos, dir.FullIDs, &zs, &plain), logSection...))
		m := memOf(t, b)
		whole, _, werr := Decode("seg", b, n, lim, dec)
		x, err := readRanged(ctx, m, n, lim, dec, 1<<SecActive-1)
		active, aerr := RangedActive(ctx, m, "seg", n, lim.Users)
		// The same, its sections decoded in two steps.
		part, perr := readRanged(ctx, m, n, lim, dec, 1<<SecUsers|1<<(NumColumns-1))
		for _, err := range []error{werr, err, aerr, perr} {
			corruptOK(t, err)
		}
		if (err == nil) != (perr == nil) || err == nil && !sameIndex(x, part) {
			t.Fatalf("decoded at once (%v) and in two steps (%v), the index differs", err, perr)
		}
		if werr != nil {
			return
		}
		if err != nil || !sameIndex(x, whole) {
			t.Fatalf("read whole, the index read by ranges differs (%v)", err)
		}
		if aerr != nil || !active.Equals(whole.Active) {
			t.Fatalf("read whole, the active set read by ranges differs (%v)", aerr)
		}
	})
}
