package insights

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// TestRegistersEstimate checks the estimator against the true count of
// distinct users, from empty to a million, at two precisions, within four
// standard errors (to a few units while most registers are still zero),
// and against the library's own estimate.
func TestRegistersEstimate(t *testing.T) {
	for _, p := range []uint8{10, 14} {
		sk, _ := hyperloglog.NewSketch(p, false)
		rse := 1.04 / math.Sqrt(float64(uint64(1)<<p))
		inserted := 0
		for _, n := range []int{0, 1, 2, 10, 100, 1_000, 5_000, 20_000, 50_000, 100_000, 400_000, 1_000_000} {
			for ; inserted < n; inserted++ {
				sk.InsertHash(userHash(testKey(inserted)))
			}
			regs, _, ok := denseRegisters(sk, nil)
			if !ok {
				t.Fatalf("p=%d: a dense sketch's registers were not read", p)
			}
			got := float64(registersEstimate(regs, p))
			// Four standard errors: of HyperLogLog, or, while few
			// registers are set, of linear counting, sqrt(m(e^t - t - 1))
			// for t = n/m, which is far smaller (0.55 at 100 users, p=14).
			m, nf := float64(uint64(1)<<p), float64(n)
			lc := math.Sqrt(m * (math.Exp(nf/m) - nf/m - 1))
			tol := math.Max(2, 4*math.Min(rse*nf, lc))
			if math.Abs(got-float64(n)) > tol {
				t.Errorf("p=%d, %d users: estimate %.0f, want within %.0f", p, n, got, tol)
			}
			if lib := float64(sk.Estimate()); math.Abs(got-lib) > math.Max(2, 4*rse*float64(n)) {
				t.Errorf("p=%d, %d users: estimate %.0f, the library's %.0f", p, n, got, lib)
			}
		}
	}
}

// TestDenseRegistersRefusesSparse: a sparse sketch has no registers to read.
func TestDenseRegistersRefusesSparse(t *testing.T) {
	sk, _ := hyperloglog.NewSketch(14, true)
	sk.InsertHash(userHash(testKey(7)))
	if _, _, ok := denseRegisters(sk, nil); ok {
		t.Fatal("a sparse sketch's encoding was read as registers")
	}
}

// TestMaxRegisters compares the word-at-a-time maximum with a byte loop.
func TestMaxRegisters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		a, b := make([]byte, 64), make([]byte, 64)
		for i := range a {
			a[i], b[i] = byte(r.IntN(66)), byte(r.IntN(66))
		}
		want := make([]byte, len(a))
		for i := range a {
			want[i] = max(a[i], b[i])
		}
		maxRegisters(a, b)
		if string(a) != string(want) {
			t.Fatalf("got %v, want %v", a, want)
		}
	}
}

// TestSketchesEstimateMatchesLibraryMerge: a range merged by registers
// estimates the same union as the library's Merge of the same sketches,
// with sparse day sketches among them.
func TestSketchesEstimateMatchesLibraryMerge(t *testing.T) {
	s := newSketches(14)
	r := rand.New(rand.NewPCG(5, 6))
	for n := int32(20000); n < 20100; n++ {
		users := 50 // sparse
		if n%3 == 0 {
			users = 20_000 // dense
		}
		for range users {
			s.add(n, testKey(r.IntN(300_000)))
		}
	}
	for _, rng := range [][2]int32{{20000, 20100}, {20003, 20040}, {20010, 20011}, {20001, 20002}} {
		lib, _ := hyperloglog.NewSketch(14, false)
		for n := rng[0]; n < rng[1]; n++ {
			_ = lib.Merge(s.day[n])
		}
		regs, _, _ := denseRegisters(lib, nil)
		if got, want := s.estimate(rng[0], rng[1]), registersEstimate(regs, 14); got != want {
			t.Errorf("days %v: estimate %d, from the library's merge %d", rng, got, want)
		}
	}
}

// BenchmarkRegistersEstimate compares the library's Estimate with
// registersEstimate on one dense sketch of 500,000 users (precision 14).
func BenchmarkRegistersEstimate(b *testing.B) {
	sk, _ := hyperloglog.NewSketch(14, false)
	for u := range 500_000 {
		sk.InsertHash(userHash(testKey(u)))
	}
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			sk.Estimate()
		}
	})
	b.Run("registers", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var regs []byte
			regs, buf, _ = denseRegisters(sk, buf)
			registersEstimate(regs, 14)
		}
	})
}

// BenchmarkSketchesEstimate estimates 30, 90 and 180 days of a history of
// 180 days of 40,000 users a day out of 200,000, by the engine's register
// merge and by the library's Merge and Estimate.
func BenchmarkSketchesEstimate(b *testing.B) {
	s := newSketches(14)
	r := rand.New(rand.NewPCG(1, 2))
	const last = int32(20180)
	for n := last - 180; n < last; n++ {
		for range 40_000 {
			s.add(n, testKey(r.IntN(200_000)))
		}
	}
	for _, days := range []int32{30, 90, 180} {
		b.Run(fmt.Sprintf("registers/%dd", days), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.estimate(last-days, last)
			}
		})
		b.Run(fmt.Sprintf("library/%dd", days), func(b *testing.B) {
			for b.Loop() {
				acc, _ := hyperloglog.NewSketch(14, false)
				s.cover(last-days, last, func(sk *hyperloglog.Sketch) { _ = acc.Merge(sk) })
				acc.Estimate()
			}
		})
	}
}
