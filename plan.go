package insights

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// matcher is a Filter compiled against the engine's dictionaries: values
// become codes, prefixes become code sets. It is evaluated on a day's
// distinct combinations, never on events: its cost grows with the
// combinations a day has, not with the events behind them.
type matcher struct {
	op   Op
	col  int                 // dimension index, for leaves
	code uint32              // OpEq
	none bool                // OpEq on a value never seen: matches no combination
	set  map[uint32]struct{} // OpIn, OpPrefix
	args []*matcher
	// base, when set, names the base predicate m is (basePred + 1): a
	// day computes its combinations once and keeps them.
	base int
}

// basePred names a base predicate of the user metrics (eval.go). Their
// codes are seeded, so what one matches on a sealed day never changes.
type basePred int

const (
	baseActivity basePred = iota
	baseSignIn
	baseCreated
	numBases
)

// compileBase compiles And(f, base), where base is the filter of the base
// predicate b, with f's own And flattened into it: a filter and a base
// predicate are evaluated as one conjunction, cheapest leaf first.
func (e *Engine) compileBase(f, base Filter, b basePred) *matcher {
	bm := e.compile(base)
	bm.base = int(b) + 1
	m := e.compile(f)
	if m.op != OpAnd || m.base != 0 {
		m = &matcher{op: OpAnd, args: []*matcher{m}}
	}
	m.args = append(m.args, bm)
	return m
}

// compile resolves f against the dictionaries. The read lock is held.
func (e *Engine) compile(f Filter) *matcher {
	m := &matcher{op: f.op}
	switch f.op {
	case OpAnd, OpOr, OpNot:
		for _, a := range f.args {
			c := e.compile(a)
			if f.op == OpAnd && c.op == OpAnd && c.base == 0 {
				m.args = append(m.args, c.args...) // And(a, And(b, c)) is And(a, b, c)
				continue
			}
			m.args = append(m.args, c)
		}
	case OpEq:
		m.col = int(f.dim) - 1
		m.code, m.none = 0, true
		if c, ok := e.dims[m.col].lookup(f.values[0]); ok {
			m.code, m.none = c, false
		}
	case OpIn:
		m.col = int(f.dim) - 1
		m.set = map[uint32]struct{}{}
		for _, v := range f.values {
			if c, ok := e.dims[m.col].lookup(v); ok {
				m.set[c] = struct{}{}
			}
		}
	case OpPrefix:
		m.col = int(f.dim) - 1
		m.set = map[uint32]struct{}{}
		for c, v := range e.dims[m.col].values {
			if strings.HasPrefix(v, f.values[0]) {
				m.set[uint32(c)] = struct{}{}
			}
		}
	}
	return m
}

// eval returns the combinations of d that m matches, as a new bitmap the
// caller owns. Leaves read the day's postings (dimension value →
// combinations), so a selective filter touches only the combinations it
// selects.
func (m *matcher) eval(d *day) *roaring.Bitmap { return m.within(d, nil) }

// within returns the combinations of in (every combination when in is
// nil) that m matches, as a new bitmap; in is not modified. And evaluates
// its cheapest arguments first and each next one within what is left, so
// a selective predicate bounds the cost of the rest (the activity
// predicate's dense leaves, for one).
func (m *matcher) within(d *day, in *roaring.Bitmap) *roaring.Bitmap {
	if m.base != 0 {
		set := d.baseSet(basePred(m.base-1), m)
		if in == nil {
			return set.Clone()
		}
		return roaring.And(set, in)
	}
	return m.match(d, in)
}

// match is within without the base predicates' cache.
func (m *matcher) match(d *day, in *roaring.Bitmap) *roaring.Bitmap {
	switch m.op {
	case OpAnd:
		order := make([]int, len(m.args))
		costs := make([]uint64, len(m.args))
		for i, a := range m.args {
			order[i], costs[i] = i, a.estimate(d)
			if a.op == OpIn || a.op == OpPrefix {
				costs[i] *= 2 // first, a union of postings; later, an intersection per posting
			}
		}
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(costs[i], costs[j]) })
		out := in
		for _, i := range order {
			a := m.args[i]
			if out = a.within(d, out); out.IsEmpty() {
				break
			}
		}
		return own(d, out, in)
	case OpOr:
		sets := make([]*roaring.Bitmap, len(m.args))
		for i, a := range m.args {
			sets[i] = a.within(d, in)
		}
		return metrics.Union(sets...)
	case OpNot:
		out := own(d, in, in)
		out.AndNot(m.args[0].within(d, in))
		return out
	}
	p := d.postings(m.col)
	var sets []*roaring.Bitmap
	switch {
	case m.op == OpEq && !m.none && int(m.code) < len(p) && p[m.code] != nil:
		sets = []*roaring.Bitmap{p[m.code]}
	case m.op != OpEq:
		for c := range m.set {
			if int(c) < len(p) && p[c] != nil {
				sets = append(sets, p[c])
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

// own returns s as a bitmap the caller may modify: a copy if s is in (the
// caller's) or nil (every combination).
func own(d *day, s, in *roaring.Bitmap) *roaring.Bitmap {
	switch {
	case s == nil:
		return d.all()
	case s == in:
		return s.Clone()
	}
	return s
}

// estimate is a cheap upper bound of how many combinations m matches, for
// ordering And's arguments: a leaf's postings sizes, or every combination.
func (m *matcher) estimate(d *day) uint64 {
	if m.base != 0 {
		if set := d.base[m.base-1].Load(); set != nil {
			return set.GetCardinality()
		}
	}
	switch m.op {
	case OpEq:
		if p := d.postings(m.col); !m.none && int(m.code) < len(p) && p[m.code] != nil {
			return p[m.code].GetCardinality()
		}
		return 0
	case OpIn, OpPrefix:
		p, n := d.postings(m.col), uint64(0)
		for c := range m.set {
			if int(c) < len(p) && p[c] != nil {
				n += p[c].GetCardinality()
			}
		}
		return n
	}
	return uint64(d.numCombos()) + 1 // composite: after the leaves
}

// groupKey encodes the codes of the group columns of combination i into buf.
func groupKey(buf []byte, d *day, i uint32, groupCols []int) []byte {
	buf = buf[:0]
	for _, col := range groupCols {
		buf = binary.LittleEndian.AppendUint32(buf, d.cols[col].at(i))
	}
	return buf
}

// usersByGroup returns the users of the matched combinations, by group
// key. With one group column it walks that column's postings, one
// intersection per value, instead of keying every combination.
func usersByGroup(d *day, match *roaring.Bitmap, groupCols []int) map[string]*roaring.Bitmap {
	out := map[string]*roaring.Bitmap{}
	var buf []byte
	if len(groupCols) == 1 {
		for c, set := range d.postings(groupCols[0]) {
			if set == nil || !match.Intersects(set) {
				continue
			}
			if users := d.usersIn(roaring.And(match, set)); !users.IsEmpty() {
				buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(c))
				out[string(buf)] = users
			}
		}
		return out
	}
	lists := map[string][]uint32{}
	it := match.Iterator()
	for it.HasNext() {
		i := it.Next()
		if us := d.usersOf(int(i)); len(us) > 0 {
			buf = groupKey(buf, d, i, groupCols)
			lists[string(buf)] = append(lists[string(buf)], us...) // no allocation for a key already there
		}
	}
	for k, l := range lists {
		out[k] = bitmapOfList(l)
	}
	return out
}

// countsByGroup returns the event counts of the matched combinations, by
// group key: with one group column or none, per code (countCodes); with
// more, keying every matched combination.
func countsByGroup(d *day, match *roaring.Bitmap, groupCols []int) map[string]uint64 {
	if len(groupCols) <= 1 {
		col := -1
		if len(groupCols) == 1 {
			col = groupCols[0]
		}
		return countsMap(countCodes(d, match, col), col)
	}
	out := map[string]uint64{}
	var buf []byte
	it := match.Iterator()
	for it.HasNext() {
		i := it.Next()
		buf = groupKey(buf, d, i, groupCols)
		out[string(buf)] += uint64(d.counts.at(i))
	}
	return out
}
