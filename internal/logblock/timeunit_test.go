package logblock

import (
	"bytes"
	"math"
	"testing"
)

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
		if got := TimeUnit(c.ts); got != c.want {
			t.Errorf("TimeUnit(%v) = %d, want %d", c.ts, got, c.want)
		}
	}
}

// TestStepUnitRange: steps whose time unit is past 1<<62, up to
// math.MaxInt64 (TimeUnit's range), are cut into columns and come back.
func TestStepUnitRange(t *testing.T) {
	enc, dec := codec(t)
	for _, at := range []int64{5e18, math.MaxInt64} {
		var r testRecord
		r.text[1] = "0f8fad5b-d9cb-469f-a165-70867728950e"
		r.steps = []testStep{{time: at, method: "Password", req: "singleFactor"}}
		rec := r.bytes()
		block := encodeBlock(enc, rec, []uint32{0, uint32(len(rec))})
		if k := kindOf(t, dec, block); k != kindColumns {
			t.Errorf("a step at %d (unit %d): kind %d, not columns", at, TimeUnit([]int64{at}), k)
		}
		if got, err := decodeBlock(dec, Tagged, block, nil, 1, len(rec)); err != nil || !bytes.Equal(got, rec) {
			t.Errorf("a step at %d: %v", at, err)
		}
	}
}
