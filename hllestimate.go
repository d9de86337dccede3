package insights

import (
	"encoding/binary"
	"math"

	"github.com/axiomhq/hyperloglog"
)

// Approximate counts merge the registers of the sketches a range needs
// and estimate from them here, instead of merging with Sketch.Merge and
// calling Sketch.Estimate: Estimate computes a power per register, and
// Merge compares one register at a time (BenchmarkRegistersEstimate and
// BenchmarkSketchesEstimate measure both ways). Sparse sketches (days of small
// tenants) are still merged by the library.

// denseRegisters returns sk's registers, a byte each, written into buf
// (grown as needed; the registers alias it), or ok false when sk is not
// dense. It reads the dense encoding of hyperloglog v0.3: version,
// precision, bias (0), 0 for dense, the register count (4 bytes,
// big-endian), the registers.
func denseRegisters(sk *hyperloglog.Sketch, buf []byte) (regs, grown []byte, ok bool) {
	const header = 8
	b, err := sk.AppendBinary(buf[:0])
	if err != nil || len(b) < header || b[2] != 0 || b[3] != 0 || b[1] < 4 || b[1] > 18 {
		return nil, b, false
	}
	if m := binary.BigEndian.Uint32(b[4:]); m != 1<<b[1] || len(b) != header+int(m) {
		return nil, b, false
	}
	return b[header:], b, true
}

// maxRegisters sets each register of acc to the larger of it and the one
// of regs (same length, a multiple of 8, values below 128): eight at a
// time, in the bytes of a word.
func maxRegisters(acc, regs []byte) {
	const high = 0x8080808080808080
	for i := 0; i+8 <= len(acc) && i+8 <= len(regs); i += 8 {
		a, b := binary.LittleEndian.Uint64(acc[i:]), binary.LittleEndian.Uint64(regs[i:])
		// Per byte, 128 + a - b cannot borrow from the next byte, and
		// has its high bit set where a >= b.
		ge := ((a | high) - b) & high
		keep := (ge >> 7) * 0xff
		binary.LittleEndian.PutUint64(acc[i:], a&keep|b&^keep)
	}
}

// registersEstimate estimates the distinct hashes behind the registers of
// a sketch of precision p with Ertl's improved raw estimator ("New
// cardinality estimation algorithms for HyperLogLog sketches", 2017,
// Algorithm 6): nearly unbiased over the whole range without empirical
// corrections, from the histogram of register values alone.
func registersEstimate(regs []byte, p uint8) uint64 {
	q := 64 - int(p) // hyperloglog's register values run from 0 to q+1
	var counts [256]int
	for _, v := range regs {
		counts[v]++
	}
	for v := q + 2; v < len(counts); v++ { // none in a valid sketch
		counts[q+1] += counts[v]
	}
	m := float64(len(regs))
	z := m * ertlTau(1-float64(counts[q+1])/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + float64(counts[k]))
	}
	z += m * ertlSigma(float64(counts[0])/m)
	return uint64(m*m/(2*math.Ln2)/z + 0.5)
}

// ertlSigma is σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), infinite at 1 (an
// empty sketch, whose estimate is then 0).
func ertlSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

// ertlTau is τ(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))² 2^-k) / 3, zero at 0
// and 1.
func ertlTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}
