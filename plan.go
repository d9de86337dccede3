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
}

// compile resolves f against the dictionaries. The read lock is held.
func (e *Engine) compile(f Filter) *matcher {
	m := &matcher{op: f.op}
	switch f.op {
	case OpAnd, OpOr, OpNot:
		for _, a := range f.args {
			m.args = append(m.args, e.compile(a))
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
// selects; And intersects the smallest sets first.
func (m *matcher) eval(d *day) *roaring.Bitmap {
	switch m.op {
	case OpAnd:
		if len(m.args) == 0 {
			return d.all()
		}
		sets := make([]*roaring.Bitmap, len(m.args))
		for i, a := range m.args {
			if sets[i] = a.eval(d); sets[i].IsEmpty() {
				return sets[i]
			}
		}
		slices.SortFunc(sets, func(a, b *roaring.Bitmap) int { return cmp.Compare(a.GetCardinality(), b.GetCardinality()) })
		out := sets[0]
		for _, s := range sets[1:] {
			if out.And(s); out.IsEmpty() {
				break
			}
		}
		return out
	case OpOr:
		sets := make([]*roaring.Bitmap, len(m.args))
		for i, a := range m.args {
			sets[i] = a.eval(d)
		}
		return metrics.Union(sets...)
	case OpNot:
		out := d.all()
		out.AndNot(m.args[0].eval(d))
		return out
	case OpEq:
		if p := d.postings(m.col); !m.none && int(m.code) < len(p) && p[m.code] != nil {
			return p[m.code].Clone()
		}
		return roaring.New()
	}
	p := d.postings(m.col)
	sets := make([]*roaring.Bitmap, 0, len(m.set))
	for c := range m.set {
		if int(c) < len(p) && p[c] != nil {
			sets = append(sets, p[c])
		}
	}
	return metrics.Union(sets...)
}

// groupKey encodes the codes of the group columns of combination i into buf.
func groupKey(buf []byte, d *day, i uint32, groupCols []int) []byte {
	buf = buf[:0]
	for _, col := range groupCols {
		buf = binary.LittleEndian.AppendUint32(buf, d.cols[col][i])
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
		out[k] = roaring.BitmapOf(l...)
	}
	return out
}

// countsByGroup returns the event counts of the matched combinations, by
// group key. Most combinations hold one event: the count is the number of
// matched combinations plus the extra events of those in d.multi, and with
// one group column, the same per value of its postings.
func countsByGroup(d *day, match *roaring.Bitmap, groupCols []int) map[string]uint64 {
	out := map[string]uint64{}
	switch {
	case len(groupCols) == 0:
		out[""] = match.GetCardinality() + d.extra(roaring.And(match, d.multiSet()), nil)[0]
		return out
	case len(groupCols) == 1:
		p := d.postings(groupCols[0])
		extra := d.extra(roaring.And(match, d.multiSet()), d.cols[groupCols[0]])
		var buf []byte
		for c, set := range p {
			if set == nil {
				continue
			}
			n := match.AndCardinality(set)
			if c < len(extra) {
				n += extra[c]
			}
			if n > 0 {
				buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(c))
				out[string(buf)] = n
			}
		}
		return out
	}
	var buf []byte
	it := match.Iterator()
	for it.HasNext() {
		i := it.Next()
		buf = groupKey(buf, d, i, groupCols)
		out[string(buf)] += uint64(d.counts[i])
	}
	return out
}
