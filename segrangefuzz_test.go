package insights

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

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
	e, seeds := fuzzEngine(f)
	seg := seeds[frame.KindSegment]
	r, err := frame.Open("seg", frame.KindSegment, seg)
	if err != nil {
		f.Fatal(err)
	}
	n := r.Day32()
	dir := readDirectory(r, len(r.Body), seg)
	var plains [segmentSections][]byte
	for _, s := range sectionLayout(frame.SegmentVersion) {
		plains[s] = r.Bytes(dir.lens[s])
		if isZstdSection(s) && r.Err == nil {
			plains[s], r.Err = e.zdec.DecodeAll(plains[s], make([]byte, 0, dir.plain[s]))
		}
	}
	if r.Err != nil {
		f.Fatal(r.Err)
	}
	logSection := r.Body[r.Off:]
	lim := rangedLimits(e)
	f.Add([]byte{})
	f.Add([]byte{byte(secActive), 0, 9, 0, 0xff})
	f.Add([]byte{byte(secUsers), 2, 3, 0, 0x81, 0, 3, 0, 0, 7})
	f.Fuzz(func(t *testing.T, prog []byte) {
		combos := uint32(dir.combos)
		var ps [segmentSections][]byte
		for s := range ps {
			ps[s] = append([]byte(nil), plains[s]...)
		}
		for ; len(prog) >= 5; prog = prog[5:] {
			s, at, v := int(prog[0])%segmentSections, int(binary.LittleEndian.Uint16(prog[2:])), prog[4]
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
				combos = uint32(at % (dir.combos + 3))
			}
			ps[s] = p
		}
		var zs [segmentSections][]byte
		var plain [segmentSections]int
		for s := range ps {
			zs[s], plain[s] = ps[s], len(ps[s])
			if isZstdSection(s) {
				zs[s] = e.zenc.index.EncodeAll(ps[s], nil)
			}
		}
		b := frame.Seal(append(segmentSectionsFrame(n, combos, dir.fullIDs, &zs, &plain), logSection...))
		m := store.NewMemory()
		if err := m.Put(ctx, "seg", b); err != nil {
			t.Fatal(err)
		}
		whole, werr := decodeDay("seg", b, n, lim, e.zdec)
		d, err := rangedIndex(ctx, m, "seg", n, lim, e.zdec, lazySections)
		active, aerr := rangedActive(ctx, m, "seg", n, lim.users)
		// The same, its sections decoded in two steps (daysections.go).
		part, perr := rangedIndex(ctx, m, "seg", n, lim, e.zdec, 1<<secUsers|1<<(numIndexed-1))
		if perr == nil {
			perr = part.need(ctx, lazySections)
		}
		for _, err := range []error{werr, err, aerr, perr} {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
		}
		if (err == nil) != (perr == nil) || err == nil && !sameIndex(d, part) {
			t.Fatalf("decoded at once (%v) and in two steps (%v), the index differs", err, perr)
		}
		if werr != nil {
			return
		}
		if err != nil || !sameIndex(d, whole) {
			t.Fatalf("read whole, the index read by ranges differs (%v)", err)
		}
		if aerr != nil || !active.Equals(whole.active) {
			t.Fatalf("read whole, the active set read by ranges differs (%v)", aerr)
		}
	})
}
