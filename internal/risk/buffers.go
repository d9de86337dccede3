package risk

import "math/bits"

// bufPools keeps a rule's buffer arrays that nothing uses any more, by
// room: class c holds arrays of room newBuffer<<c or more (less than
// newBuffer<<(c+1)), up to keptBuffer. A buffer outgrowing its array
// swaps it for one of the next class when the pool has one (grow), so
// that a key whose buffer grows each day to the same size (a source's
// sign-ins of a working day) reuses the arrays of the days before,
// where append made each anew and arrays over 32 events were not kept:
// buffer growth was 71 MB a million events in
// BenchmarkDetectorTraffic/users=100000, 63 MB less with the pools (#18,
// session 12).
type bufPools [bufClasses]pool[[]rec]

// newBuffer is the room of a buffer array made anew (the pool had none):
// grown from one event, a key's second event left an array behind, and
// the pool, which keeps the grown arrays, runs short whenever more keys
// than before hold events, so that buffers were 36% of the detector's
// allocations in BenchmarkDetectorAdd (users=100000, lateHorizon=2h:
// 259,056 in 2M events; 183,704 with a room of 2, 107,779 with 4, but
// then its state after Compact of 500,000 events, mostly users' first,
// was 5% larger, 1.2% with 2; #18, session 11).
const newBuffer = 2

// bufClasses is the number of rooms of arrays kept, newBuffer to
// keptBuffer: a hot key's larger array (64 KiB and more) is not kept
// idle, nor is it made from the pool.
const bufClasses = 10

// keptBuffer is the room of the largest class of arrays kept for reuse.
const keptBuffer = newBuffer << (bufClasses - 1)

// bufClass is the class of an array of room n: the largest c with
// newBuffer<<c ≤ n; below 0 for a room under newBuffer.
func bufClass(n int) int { return bits.Len(uint(n/newBuffer)) - 1 }

// take returns an empty array of class c (< bufClasses), made when the
// pool has none.
func (p *bufPools) take(c int) []rec {
	if b := p[c].take(); b != nil {
		return b
	}
	return make([]rec, 0, newBuffer<<c)
}

// put keeps b's array, emptied, unless its room is under newBuffer or
// over keptBuffer (append grows a full array of keptBuffer to more: that
// one is not kept).
func (p *bufPools) put(b []rec) {
	if c := bufClass(cap(b)); c >= 0 && cap(b) <= keptBuffer {
		p[c].put(b[:0])
	}
}

// grow returns b with room for one more event: b itself when it has
// some, else its events in an array of the next class from the pool, b's
// kept in its place (a swap); when the pool has none, b, for append to
// grow, b's array left to the collector: the pools gain arrays only from
// emptied buffers (put), where keeping every outgrown array kept each
// key's smaller ones (BenchmarkDetectorAdd's state at 5,000 users, whose
// buffers never empty, was 52% larger).
func (p *bufPools) grow(b []rec) []rec {
	c := bufClass(cap(b)) + 1
	if len(b) < cap(b) || c >= bufClasses {
		return b
	}
	g := p[c].take()
	if g == nil {
		return b
	}
	g = append(g, b...)
	p.put(b)
	return g
}

// trim releases the arrays not taken since the last trim, or all.
func (p *bufPools) trim(all bool) {
	for c := range p {
		p[c].trim(all)
	}
}
