package logblock

import "testing"

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
