package dayindex

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// holds is the oracle of a Pred: whether combination c satisfies p.
func holds(p *Pred, c Combo) bool {
	switch p.Op {
	case And:
		for _, a := range p.Args {
			if !holds(a, c) {
				return false
			}
		}
		return true
	case Or:
		for _, a := range p.Args {
			if holds(a, c) {
				return true
			}
		}
		return false
	case Not:
		return !holds(p.Args[0], c)
	case Eq:
		return !p.None && c[p.Col] == p.Code
	}
	_, ok := p.Set[c[p.Col]]
	return ok
}

// randomPred returns a random predicate over testCols of depth at most
// depth, its leaves naming codes the days have and some they lack; each
// kept predicate takes a slot of keep, once.
func randomPred(r *rand.Rand, depth int, keep *int) *Pred {
	if depth == 0 || r.IntN(3) == 0 {
		p := &Pred{Op: Eq + Op(r.IntN(2)), Col: testCols[r.IntN(len(testCols))]}
		if p.Op == Eq {
			p.Code, p.None = r.Uint32N(12), r.IntN(6) == 0
		} else {
			p.Set = map[uint32]struct{}{}
			for range r.IntN(4) {
				p.Set[r.Uint32N(12)] = struct{}{}
			}
		}
		return p
	}
	p := &Pred{Op: Op(r.IntN(3))}
	n := r.IntN(4)
	if p.Op == Not {
		n = 1
	}
	for range n {
		p.Args = append(p.Args, randomPred(r, depth-1, keep))
	}
	if *keep < MaxKept && r.IntN(4) == 0 {
		*keep++
		p.Keep = *keep
	}
	return p
}

// TestPredIsItsOracle: random predicates (And, Or, Not of any arity,
// codes present and absent, kept ones) match, on a random day, exactly the
// combinations their oracle holds for, whole and within a subset, and a
// kept one again from the day's kept set; the subset is not modified,
// and the results are the caller's: clearing them changes no later match.
func TestPredIsItsOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for day := range 20 {
		d, _ := sealed(randomDay(r, 500), []int{3, 0})
		keep := 0
		for range 40 {
			p := randomPred(r, 4, &keep)
			in := roaring.New()
			want, wantIn := roaring.New(), roaring.New()
			for i := range uint32(d.NumCombos()) {
				odd := i%3 != 0
				if odd {
					in.Add(i)
				}
				if holds(p, d.comboOf(i)) {
					want.Add(i)
					if odd {
						wantIn.Add(i)
					}
				}
			}
			inCopy := in.Clone()
			for round := range 2 { // the second reads the kept sets
				got := d.Match(p)
				if !got.Equals(want) {
					t.Fatalf("day %d round %d: %+v matches %v, want %v", day, round, p, got, want)
				}
				got.Clear() // the caller's: the day's sets are untouched
				if got = d.within(p, in); !got.Equals(wantIn) || !in.Equals(inCopy) {
					t.Fatalf("day %d round %d: %+v within %v matches %v, want %v", day, round, p, inCopy, got, wantIn)
				}
				got.Clear()
			}
		}
	}
}
