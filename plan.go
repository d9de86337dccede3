package insights

import (
	"encoding/binary"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/dayindex"
)

// matcher is a Filter compiled against the engine's dictionaries: values
// become codes, prefixes and value lists code sets, dimensions columns. A
// day evaluates it on its distinct combinations (dayindex.Day.Match),
// never on events: its cost grows with the combinations a day has, not
// with the events behind them.
type matcher = dayindex.Pred

// basePred names a base predicate of the user metrics (eval.go). Their
// codes are seeded, so what one matches on a sealed day never changes: a
// day keeps it (dayindex.Pred.Keep).
type basePred int

const (
	baseActivity basePred = iota
	baseSignIn
	baseCreated
	numBases
)

// A day keeps the combinations of each base predicate: it has a slot for
// each, which this constant fails to compile unless it does.
const _ = uint(dayindex.MaxKept - numBases)

// compileBase compiles And(f, base), where base is the filter of the base
// predicate b, with f's own And flattened into it: a filter and a base
// predicate are evaluated as one conjunction, cheapest leaf first.
func (e *Engine) compileBase(f, base Filter, b basePred) *matcher {
	bm := e.compile(base)
	bm.Keep = int(b) + 1
	m := e.compile(f)
	if m.Op != dayindex.And || m.Keep != 0 {
		m = &matcher{Op: dayindex.And, Args: []*matcher{m}}
	}
	m.Args = append(m.Args, bm)
	return m
}

// treeOps are the index's operators of the filters' And, Or and Not.
var treeOps = [...]dayindex.Op{OpAnd: dayindex.And, OpOr: dayindex.Or, OpNot: dayindex.Not}

// compile resolves f against the dictionaries. The read lock is held.
// OpIn and OpPrefix become code sets (In); an operator the index does not
// answer (OpCIDR, a log field's) becomes an In with no codes: it matches
// no combination, and its estimate is 0, so an And tries it among the
// first and stops there, empty.
func (e *Engine) compile(f Filter) *matcher {
	m := &matcher{}
	switch f.op {
	case OpAnd, OpOr, OpNot:
		m.Op = treeOps[f.op]
		for _, a := range f.args {
			c := e.compile(a)
			if f.op == OpAnd && c.Op == dayindex.And && c.Keep == 0 {
				m.Args = append(m.Args, c.Args...) // And(a, And(b, c)) is And(a, b, c)
				continue
			}
			m.Args = append(m.Args, c)
		}
	case OpEq:
		m.Op, m.Col = dayindex.Eq, int(f.dim)-1
		m.Code, m.None = 0, true
		if c, ok := e.dims[m.Col].lookup(f.values[0]); ok {
			m.Code, m.None = c, false
		}
	case OpIn:
		m.Op, m.Col, m.Set = dayindex.In, int(f.dim)-1, map[uint32]struct{}{}
		for _, v := range f.values {
			if c, ok := e.dims[m.Col].lookup(v); ok {
				m.Set[c] = struct{}{}
			}
		}
	case OpPrefix:
		m.Op, m.Col, m.Set = dayindex.In, int(f.dim)-1, map[uint32]struct{}{}
		for c, v := range e.dims[m.Col].values {
			if strings.HasPrefix(v, f.values[0]) {
				m.Set[uint32(c)] = struct{}{}
			}
		}
	default: // OpCIDR, a log field's: an In with no codes (above)
		m.Op = dayindex.In
	}
	return m
}

// groupKey encodes the codes of the group columns of combination i into buf.
func groupKey(buf []byte, d *day, i uint32, groupCols []int) []byte {
	buf = buf[:0]
	for _, col := range groupCols {
		buf = binary.LittleEndian.AppendUint32(buf, d.ix.Cols[col].At(i))
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
		for c, set := range d.ix.Postings(groupCols[0]) {
			if set == nil || !match.Intersects(set) {
				continue
			}
			if users := d.ix.UsersIn(roaring.And(match, set)); !users.IsEmpty() {
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
		if us := d.ix.UsersOf(int(i)); len(us) > 0 {
			buf = groupKey(buf, d, i, groupCols)
			lists[string(buf)] = append(lists[string(buf)], us...) // no allocation for a key already there
		}
	}
	for k, l := range lists {
		out[k] = dayindex.BitmapOfList(l)
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
		out[string(buf)] += uint64(d.ix.Counts.At(i))
	}
	return out
}
