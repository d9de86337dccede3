package insights

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestSegmentV2DamageIsCorrupt: a format v2 segment cut short anywhere, or
// with any byte changed (its checksum made right again, so that the body
// decoder meets the damage), decodes to ErrCorrupt naming its key, or to
// a day whose log and request ids read back, or fail with ErrCorrupt
// naming the key; never a panic.
func TestSegmentV2DamageIsCorrupt(t *testing.T) {
	e, seeds := fuzzEngine(t)
	seg := seeds[kindSegment]
	if seg[len(frameMagic)+1] != segmentVersion {
		t.Fatalf("the engine wrote a segment of frame version %d", seg[len(frameMagic)+1])
	}
	var lim limits
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = len(e.userKeys)
	r, _ := openFrame("k", kindSegment, seg)
	n := r.day32()
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
	for i := frameHeader; i < len(seg)-frameTrailer; i++ {
		check("cut", sealFrame(bytes.Clone(seg[:i])))
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(seg[:len(seg)-frameTrailer])
			b[i] ^= x
			check("changed", sealFrame(b))
		}
	}
	for i := range len(seg) { // unsealed: the checksum catches it
		if _, err := decodeDay(key, seg[:i], n, lim, e.zdec); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Fatalf("cut at %d: %v, want ErrCorrupt naming %s", i, err, key)
		}
	}
}

// TestTimeUnit: the log's time unit divides every difference of
// consecutive times (the first from 0), and is the greatest that does.
func TestTimeUnit(t *testing.T) {
	const s = int64(1e9)
	for _, c := range []struct {
		ts   []int64
		want int64
	}{
		{nil, 1},
		{[]int64{0}, 1},
		{[]int64{1736000000 * s}, 1736000000 * s},
		{[]int64{1736000000 * s, 1736000007 * s, 1736000003 * s}, s},
		{[]int64{1736000000 * s, 1736000000*s + 1500e6}, 500e6},
		{[]int64{1736000000 * s, 1736000000*s + 1}, 1},
		{[]int64{-4 * s, 2 * s}, 2 * s},
		{[]int64{-1 << 63}, 1},
	} {
		if got := timeUnit(c.ts); got != c.want {
			t.Errorf("timeUnit(%v) = %d, want %d", c.ts, got, c.want)
		}
	}
}
