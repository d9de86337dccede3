package insights

import (
	"encoding/binary"
	"math/bits"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
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

// bitset is a set of combination indexes of one day.
type bitset []uint64

func newBitset(n int, full bool) bitset {
	b := make(bitset, (n+63)/64)
	if full {
		for i := range b {
			b[i] = ^uint64(0)
		}
		b.trim(n)
	}
	return b
}

// trim clears the bits at and past n.
func (b bitset) trim(n int) {
	if r := n % 64; r != 0 {
		b[len(b)-1] &= 1<<r - 1
	}
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls fn with every member, ascending.
func (b bitset) each(fn func(i int)) {
	for wi, w := range b {
		for w != 0 {
			fn(wi*64 + bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
}

// eval returns the combinations of d that m matches.
func (m *matcher) eval(d *day) bitset {
	n := d.numCombos()
	switch m.op {
	case OpAnd:
		out := newBitset(n, true)
		for _, a := range m.args {
			if out.empty() {
				break
			}
			r := a.eval(d)
			for i := range out {
				out[i] &= r[i]
			}
		}
		return out
	case OpOr:
		out := newBitset(n, false)
		for _, a := range m.args {
			r := a.eval(d)
			for i := range out {
				out[i] |= r[i]
			}
		}
		return out
	case OpNot:
		out := m.args[0].eval(d)
		for i := range out {
			out[i] = ^out[i]
		}
		if len(out) > 0 {
			out.trim(n)
		}
		return out
	}
	out := newBitset(n, false)
	if m.none {
		return out
	}
	for i, c := range d.cols[m.col] {
		match := c == m.code
		if m.op != OpEq {
			_, match = m.set[c]
		}
		if match {
			out[i/64] |= 1 << (i % 64)
		}
	}
	return out
}

// groupKey encodes the codes of the group columns of combination i.
func groupKey(d *day, i int, groupCols []int) string {
	if len(groupCols) == 0 {
		return ""
	}
	var buf [4 * MaxGroupBy]byte
	for k, col := range groupCols {
		binary.LittleEndian.PutUint32(buf[4*k:], d.cols[col][i])
	}
	return string(buf[:4*len(groupCols)])
}

// usersByGroup returns the users of the matched combinations, by group key.
func usersByGroup(d *day, match bitset, groupCols []int) map[string]*roaring.Bitmap {
	lists := map[string][]uint32{}
	match.each(func(i int) {
		if us := d.usersOf(i); len(us) > 0 {
			k := groupKey(d, i, groupCols)
			lists[k] = append(lists[k], us...)
		}
	})
	out := make(map[string]*roaring.Bitmap, len(lists))
	for k, l := range lists {
		out[k] = roaring.BitmapOf(l...)
	}
	return out
}

// countsByGroup returns the event counts of the matched combinations, by group key.
func countsByGroup(d *day, match bitset, groupCols []int) map[string]uint64 {
	out := map[string]uint64{}
	match.each(func(i int) { out[groupKey(d, i, groupCols)] += uint64(d.counts[i]) })
	return out
}
