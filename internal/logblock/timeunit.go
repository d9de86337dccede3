package logblock

import "math"

// TimeUnit returns the greatest divisor of every difference between
// consecutive times of ts, the first from 0 (1 for none): times to the
// second, or the millisecond, then take a varint of seconds or
// milliseconds apart instead of one of nanoseconds. Cost: one pass.
func TimeUnit(ts []int64) int64 {
	g, prev := uint64(0), int64(0)
	for _, t := range ts {
		d := uint64(t - prev)
		if t-prev < 0 {
			d = -d
		}
		prev = t
		for d != 0 {
			g, d = d, g%d
		}
		if g == 1 {
			break
		}
	}
	if g == 0 || g > math.MaxInt64 {
		return 1
	}
	return int64(g)
}
