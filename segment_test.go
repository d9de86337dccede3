package insights

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// TestSegmentV2DamageIsCorrupt: a format v2 segment cut short anywhere, or
// with any byte changed (its checksum made right again, so that the body
// decoder meets the damage), decodes to ErrCorrupt naming its key, or to
// a day whose log and request ids read back, or fail with ErrCorrupt
// naming the key; never a panic.
func TestSegmentV2DamageIsCorrupt(t *testing.T) {
	e, seeds := fuzzEngine(t)
	seg := seeds[frame.KindSegment]
	if seg[len(frame.Magic)+1] != frame.SegmentVersion {
		t.Fatalf("the engine wrote a segment of frame version %d", seg[len(frame.Magic)+1])
	}
	var lim limits
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = len(e.userKeys)
	r, _ := frame.Open("k", frame.KindSegment, seg)
	n := r.Day32()
	const key = "days/2025-01-04/00000000000000a1"
	check := func(what string, b []byte) {
		t.Helper()
		d, err := decodeDay(key, b, n, lim, e.zdec)
		if err == nil {
			_, err = d.allRequestIDs() // reads the log's columns and every record
		}
		if err != nil && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key)) {
			t.Fatalf("%s: %v, want ErrCorrupt naming %s", what, err, key)
		}
	}
	for i := frame.Header; i < len(seg)-frame.Trailer; i++ {
		check("cut", frame.Seal(bytes.Clone(seg[:i])))
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(seg[:len(seg)-frame.Trailer])
			b[i] ^= x
			check("changed", frame.Seal(b))
		}
	}
	for i := range len(seg) { // unsealed: the checksum catches it
		if _, err := decodeDay(key, seg[:i], n, lim, e.zdec); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Fatalf("cut at %d: %v, want ErrCorrupt naming %s", i, err, key)
		}
	}
}

// TestSegmentV2HostileSizes (review S2): a segment whose directory claims
// more combinations than some section holds bytes, or that sections of
// garbage hold 32768 times their bytes, is ErrCorrupt naming its key, and
// decoding it allocates under 1 MB: nothing is sized by a claim the
// directory or a section's frame header already contradicts, nor by the
// combinations before every section has decompressed.
func TestSegmentV2HostileSizes(t *testing.T) {
	enc, dec := newCodec()
	const key = "days/2024-10-04/0000000000000001"
	lim := limits{users: 10}
	for k := range lim.dictSizes {
		lim.dictSizes[k] = 10
	}
	empty := enc.index.EncodeAll(nil, nil)
	zeros := enc.index.EncodeAll(make([]byte, 1<<16), nil)
	for _, c := range []struct {
		what           string
		combos         int
		garbage, plain int // garbage sections 0 to n-1 of plain bytes each claim 32768 times that
	}{
		{"section 0 garbage, the others empty", 64 * maxZstdExpansion, 1, 64},
		{"section 0 garbage, the others empty", 8 << 10 * maxZstdExpansion, 1, 8 << 10},
		{"every zstd section garbage", 64 * maxZstdExpansion, secActive, 64},
		{"every zstd section garbage", 8 << 10 * maxZstdExpansion, secActive, 8 << 10},
		{"section 0 valid, the others empty", 1 << 16, 0, 0},
	} {
		b := frame.New(frame.KindSegment)
		b = frame.AppendVarint(b, 20000)
		b = frame.AppendUvarint(b, uint64(c.combos))
		b = append(b, 1)
		var secs [segmentSections][]byte
		for s := range secs {
			sec, plain := []byte(nil), 0
			switch {
			case s < c.garbage:
				sec, plain = bytes.Repeat([]byte{0xab}, c.plain), c.plain*maxZstdExpansion
			case s == 0:
				sec, plain = zeros, 1<<16
			case isZstdSection(s):
				sec = empty
			}
			secs[s] = sec
			b = frame.AppendUvarint(b, uint64(len(sec)))
			if isZstdSection(s) {
				b = frame.AppendUvarint(b, uint64(plain))
			}
		}
		for _, sec := range secs {
			b = append(b, sec...)
		}
		b = frame.Seal(frame.AppendUvarint(b, 0))
		decodeDay(key, b, 20000, lim, dec) // warm the decoder
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, err := decodeDay(key, b, 20000, lim, dec)
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s, %d combinations: %v, want ErrCorrupt naming %s", c.what, c.combos, err, key)
		}
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
			t.Errorf("%s, %d combinations: a segment of %d bytes allocated %d bytes to decode", c.what, c.combos, len(b), n)
		}
	}
}

// TestLogColumnsHostile: a log section whose columns are not a zstd frame,
// or whose frame states more than its events can take, is ErrCorrupt
// naming the key, found from the frame's header before the columns'
// buffer (up to 32 bytes an event) is allocated.
func TestLogColumnsHostile(t *testing.T) {
	enc, dec := newCodec()
	const key = "days/2024-10-04/0000000000000001"
	const events = 1 << 20 // a buffer of up to 32 MiB
	big := enc.log.EncodeAll(make([]byte, 64<<20), nil)
	for _, c := range []struct {
		what string
		cols []byte
	}{
		{"64 KiB of garbage", bytes.Repeat([]byte{0xa5}, 64<<10)},
		{"a frame of 64 MiB", big},
	} {
		raw := append(frame.AppendUvarint(nil, uint64(len(c.cols))), c.cols...)
		decodeLog(key, raw, frame.SegmentVersion, 1, events, 1, dec) // warm the decoder
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, err := decodeLog(key, raw, frame.SegmentVersion, 1, events, 1, dec)
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want ErrCorrupt naming %s", c.what, err, key)
		}
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20+uint64(2*len(raw)) {
			t.Errorf("%s: %d bytes allocated to refuse a section of %d", c.what, n, len(raw))
		}
	}
}
