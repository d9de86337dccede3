package dayindex

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/metrics"
)

// Op is the operator of a Pred.
type Op uint8

// The operators. And is the zero value.
const (
	And Op = iota // every argument matches; And() matches every combination
	Or            // an argument matches; Or() matches none
	Not           // the argument does not match
	Eq            // the column's code is Code (none when None)
	In            // the column's code is in Set
)

// MaxKept is how many predicates a Day keeps the combinations of (Keep).
const MaxKept = 4

// Pred is a predicate on a day's combinations: a tree of And, Or and Not
// over leaves that compare one column's code with a code or a set of
// codes. The engine compiles its filters into one against its
// dictionaries (values become codes); a Pred is evaluated on a day's
// distinct combinations, never on events, so its cost grows with the
// combinations a day has, not with the events behind them. Immutable once
// built: safe for concurrent use.
type Pred struct {
	Op   Op
	Col  int                 // the column of a leaf (Eq, In)
	Code uint32              // Eq
	None bool                // Eq on a value never seen: matches no combination
	Set  map[uint32]struct{} // In
	Args []*Pred             // And, Or, Not (one)
	// Keep, when set, has a day keep what the predicate matches, in its
	// slot Keep-1 (at most MaxKept): a predicate whose codes never change
	// meaning (seeded codes), which a day computes once. One slot, one
	// predicate, on every day.
	Keep int
}

// Match returns the combinations of d that p matches, as a new set the
// caller owns. Leaves read the day's postings (code → combinations), so a
// selective predicate touches only the combinations it selects.
func (d *Day) Match(p *Pred) *roaring.Bitmap { return d.within(p, nil) }

// within returns the combinations of in (every combination when in is
// nil) that p matches, as a new set; in is not modified. And evaluates
// its cheapest arguments first and each next one within what is left, so
// a selective predicate bounds the cost of the rest.
func (d *Day) within(p *Pred, in *roaring.Bitmap) *roaring.Bitmap {
	if p.Keep != 0 {
		set := d.kept(p)
		if in == nil {
			return set.Clone()
		}
		return roaring.And(set, in)
	}
	return d.match(p, in)
}

// kept returns the combinations that p, a kept predicate, matches
// (shared: do not modify), computed on first use and kept. Concurrent
// first uses may each compute it; one result is kept.
func (d *Day) kept(p *Pred) *roaring.Bitmap {
	slot := &d.keptSets[p.Keep-1]
	if set := slot.Load(); set != nil {
		return set
	}
	set := d.match(p, nil)
	if !slot.CompareAndSwap(nil, set) {
		return slot.Load()
	}
	d.grew(int(set.GetSizeInBytes()))
	return set
}

// match is within without the kept predicates' sets.
func (d *Day) match(p *Pred, in *roaring.Bitmap) *roaring.Bitmap {
	switch p.Op {
	case And:
		order := make([]int, len(p.Args))
		costs := make([]uint64, len(p.Args))
		for i, a := range p.Args {
			order[i], costs[i] = i, d.estimate(a)
			if a.Op == In {
				costs[i] *= 2 // first, a union of postings; later, an intersection per posting
			}
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(costs[i], costs[j]) })
		out := in
		for _, i := range order {
			if out = d.within(p.Args[i], out); out.IsEmpty() {
				break
			}
		}
		return d.own(out, in)
	case Or:
		sets := make([]*roaring.Bitmap, len(p.Args))
		for i, a := range p.Args {
			sets[i] = d.within(a, in)
		}
		return metrics.Union(sets...)
	case Not:
		out := d.own(in, in)
		out.AndNot(d.within(p.Args[0], in))
		return out
	}
	post := d.Postings(p.Col)
	var sets []*roaring.Bitmap
	switch {
	case p.Op == Eq && !p.None && int(p.Code) < len(post) && post[p.Code] != nil:
		sets = []*roaring.Bitmap{post[p.Code]}
	case p.Op != Eq:
		for c := range p.Set {
			if int(c) < len(post) && post[c] != nil {
				sets = append(sets, post[c])
			}
		}
	}
	if in != nil { // intersect first: the postings may be far larger than in
		for i, set := range sets {
			sets[i] = roaring.And(set, in)
		}
	}
	return metrics.Union(sets...)
}

// own returns s as a set the caller may modify: a copy if s is in (the
// caller's) or nil (every combination).
func (d *Day) own(s, in *roaring.Bitmap) *roaring.Bitmap {
	switch {
	case s == nil:
		return d.all()
	case s == in:
		return s.Clone()
	}
	return s
}

// estimate is a cheap upper bound of how many combinations p matches, for
// ordering And's arguments: a kept set's size, a leaf's postings sizes,
// or, for a composite, every combination.
func (d *Day) estimate(p *Pred) uint64 {
	if p.Keep != 0 {
		if set := d.keptSets[p.Keep-1].Load(); set != nil {
			return set.GetCardinality()
		}
	}
	switch p.Op {
	case Eq:
		if post := d.Postings(p.Col); !p.None && int(p.Code) < len(post) && post[p.Code] != nil {
			return post[p.Code].GetCardinality()
		}
		return 0
	case In:
		post, n := d.Postings(p.Col), uint64(0)
		for c := range p.Set {
			if int(c) < len(post) && post[c] != nil {
				n += post[c].GetCardinality()
			}
		}
		return n
	}
	return uint64(d.Combos) + 1 // composite: after the leaves
}
