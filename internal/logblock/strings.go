package logblock

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"slices"
)

// A string column starts with its mode (1 byte):
//
//	modePlain: the values as a plain list
//	modeDict:  the distinct values (uvarint count, then a plain list;
//	           written in ascending order), then per value its code (uvarint)
//	modeGUID, modeIPv4: the count of values (uvarint), per value a tag (1 byte: 1 packed, 0 not), then the
//	           packed values (16 bytes a lowercase GUID, 4 an IPv4 address
//	           in dotted decimal, each only when spelled as it unpacks),
//	           then the others as a plain list
//
// A plain list is: uvarint L, L bytes of lengths (uvarint each), uvarint
// D, D bytes of the values end to end. The encoder packs when at least
// half the values pack, else takes the dictionary when it has at most
// half as many values as the column, else writes the values plain.
const (
	modePlain = iota
	modeDict
	modeGUID
	modeIPv4
	numModes
)

// packers turn a value of a packed mode into its fixed size and back:
// pack appends the packed value to dst when v is spelled as unpack would
// write it, else returns dst and false. Neither allocates.
var packers = [numModes]struct {
	size   int
	pack   func(dst, v []byte) ([]byte, bool)
	unpack func(dst, b []byte) []byte
}{
	modeGUID: {16, packGUID, unpackGUID},
	modeIPv4: {4, packIPv4, unpackIPv4},
}

// guidDashes are the positions of a GUID's dashes.
var guidDashes = [...]int{8, 13, 18, 23}

// nibbles maps a lowercase hex digit to its value, every other byte to
// 0xff (high bits set: packGUID ORs them to find one), so that packGUID
// validates and decodes in one pass, a look-up a digit (doc.go, "Speed").
// Never written.
var nibbles = func() (t [256]byte) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = byte(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

func packGUID(dst, v []byte) ([]byte, bool) {
	if len(v) != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
		return dst, false
	}
	var b [16]byte
	bad := byte(0)
	hexBytes := func(b, h []byte) { // len(h) == 2*len(b)
		for i := range b {
			hi, lo := nibbles[h[2*i]], nibbles[h[2*i+1]]
			bad |= hi | lo
			b[i] = hi<<4 | lo&0xf
		}
	}
	hexBytes(b[:4], v[:8])
	hexBytes(b[4:6], v[9:13])
	hexBytes(b[6:8], v[14:18])
	hexBytes(b[8:10], v[19:23])
	hexBytes(b[10:], v[24:])
	if bad&0xf0 != 0 {
		return dst, false
	}
	return append(dst, b[:]...), true
}

func unpackGUID(dst, b []byte) []byte {
	if len(b) != 16 {
		return dst
	}
	var h [32]byte
	hex.Encode(h[:], b)
	prev := 0
	for k, d := range guidDashes {
		dst = append(dst, h[prev:d-k]...)
		dst = append(dst, '-')
		prev = d - k
	}
	return append(dst, h[prev:]...)
}

// packIPv4 packs an IPv4 address in dotted decimal without leading zeros.
func packIPv4(dst, v []byte) ([]byte, bool) {
	var a [4]byte
	k := 0
	for i := range a {
		if i > 0 {
			if k >= len(v) || v[k] != '.' {
				return dst, false
			}
			k++
		}
		start, n := k, 0
		for k < len(v) && v[k] >= '0' && v[k] <= '9' && k-start < 3 {
			n = n*10 + int(v[k]-'0')
			k++
		}
		if k == start || n > 255 || v[start] == '0' && k-start > 1 {
			return dst, false
		}
		a[i] = byte(n)
	}
	if k != len(v) {
		return dst, false
	}
	return append(dst, a[:]...), true
}

func unpackIPv4(dst, b []byte) []byte {
	if len(b) != 4 {
		return dst
	}
	return netip.AddrFrom4([4]byte(b)).AppendTo(dst)
}

// stringsWriter encodes string columns, reusing its buffers. Not safe
// for concurrent use.
type stringsWriter struct {
	tags   []byte
	packed []byte
	lens   []byte
	idx    []int32
	codes  []uint32
	table  []int32 // distinct's hash table
	seed   maphash.Seed
	dict   [][]byte
	rest   [][]byte
}

// appendStrings appends the string column of vals to dst.
func (w *stringsWriter) appendStrings(dst []byte, vals [][]byte) []byte {
	for mode := modeGUID; mode < numModes && len(vals) > 0; mode++ {
		if dst, ok := w.appendPacked(dst, vals, mode); ok {
			return dst
		}
	}
	if len(vals) == 0 || !w.distinct(vals) {
		return w.appendPlain(append(dst, modePlain), vals)
	}
	dst = append(dst, modeDict)
	dst = binary.AppendUvarint(dst, uint64(len(w.dict)))
	dst = w.appendPlain(dst, w.dict)
	for _, c := range w.codes {
		dst = binary.AppendUvarint(dst, uint64(c))
	}
	return dst
}

// distinct sets w.dict to the distinct values of vals in ascending order
// and w.codes to each value's position in it, unless more than half of
// vals are distinct: then it reports false as soon as it finds so. The
// values are told apart by a hash table of their positions in w.dict,
// and only the distinct ones are sorted (doc.go, "Speed").
func (w *stringsWriter) distinct(vals [][]byte) bool {
	if w.seed == (maphash.Seed{}) {
		w.seed = maphash.MakeSeed()
	}
	size := 1 << bits.Len(uint(2*len(vals))) // more than twice the values: short probes
	mask := uint64(size - 1)
	w.table = slices.Grow(w.table[:0], size)[:size]
	clear(w.table)
	w.codes = slices.Grow(w.codes[:0], len(vals))[:len(vals)]
	w.dict = w.dict[:0]
	for i, v := range vals {
		h := maphash.Bytes(w.seed, v) & mask
		for w.table[h] != 0 && !bytes.Equal(w.dict[w.table[h]-1], v) {
			h = (h + 1) & mask
		}
		if w.table[h] == 0 {
			if 2*(len(w.dict)+1) > len(vals) {
				return false
			}
			w.dict = append(w.dict, v)
			w.table[h] = int32(len(w.dict))
		}
		w.codes[i] = uint32(w.table[h] - 1)
	}
	// Sort the distinct values, then code each value by its rank (w.table
	// reused: it holds more than twice as many).
	w.idx = w.idx[:0]
	for k := range w.dict {
		w.idx = append(w.idx, int32(k))
	}
	slices.SortFunc(w.idx, func(a, b int32) int { return bytes.Compare(w.dict[a], w.dict[b]) })
	rank, sorted := w.table[:len(w.dict)], w.rest[:0]
	for r, k := range w.idx {
		rank[k] = int32(r)
		sorted = append(sorted, w.dict[k])
	}
	for i, c := range w.codes {
		w.codes[i] = uint32(rank[c])
	}
	w.dict, w.rest = sorted, w.dict
	return true
}

// appendPacked appends the column of vals in packed mode, if at least half
// of vals pack: each value is packed once, and the pass stops as soon as
// more than half fail.
func (w *stringsWriter) appendPacked(dst []byte, vals [][]byte, mode int) ([]byte, bool) {
	pack := packers[mode].pack
	w.tags, w.packed, w.rest = w.tags[:0], w.packed[:0], w.rest[:0]
	for _, v := range vals {
		var ok bool
		if w.packed, ok = pack(w.packed, v); ok {
			w.tags = append(w.tags, 1)
			continue
		}
		if w.rest = append(w.rest, v); 2*len(w.rest) > len(vals) {
			return dst, false
		}
		w.tags = append(w.tags, 0)
	}
	dst = binary.AppendUvarint(append(dst, byte(mode)), uint64(len(vals)))
	dst = append(append(dst, w.tags...), w.packed...)
	return w.appendPlain(dst, w.rest), true
}

// appendPlain appends the plain list of vals to dst.
func (w *stringsWriter) appendPlain(dst []byte, vals [][]byte) []byte {
	lens, size := w.lens[:0], 0
	for _, v := range vals {
		lens = binary.AppendUvarint(lens, uint64(len(v)))
		size += len(v)
	}
	w.lens = lens
	dst = binary.AppendUvarint(dst, uint64(len(lens)))
	dst = append(dst, lens...)
	dst = binary.AppendUvarint(dst, uint64(size))
	for _, v := range vals {
		dst = append(dst, v...)
	}
	return dst
}

// plainList reads a plain list.
type plainList struct{ lens, data src }

func readPlain(s *src) plainList {
	var l plainList
	l.lens.b = s.take(s.uvarint())
	l.data.b = s.take(s.uvarint())
	return l
}

func (l *plainList) next(s *src) []byte {
	v := l.data.take(l.lens.uvarint())
	if l.lens.err != nil || l.data.err != nil {
		s.fail("a plain list shorter than its column")
	}
	return v
}

func (l *plainList) done() bool { return l.lens.left() == 0 && l.data.left() == 0 }

// strings reads a string column.
type stringsReader struct {
	s       src
	mode    byte
	plain   plainList
	dict    []uint32 // modeDict: where each value ends in plain.data
	tags    src
	packed  src
	scratch [40]byte
}

// reset makes r read the string column col, reusing its dictionary,
// which may hold at most most values (and one a byte of lengths): it
// costs 4 bytes a value.
func (r *stringsReader) reset(col []byte, most uint64) {
	*r = stringsReader{s: src{b: col}, dict: r.dict[:0]}
	r.mode = r.s.byte()
	switch r.mode {
	case modePlain:
		r.plain = readPlain(&r.s)
	case modeDict:
		d := r.s.uvarint()
		l := readPlain(&r.s)
		if d > min(most, uint64(l.lens.left())) {
			r.s.fail("a dictionary of %d values, past the %d it can take", d, min(most, uint64(l.lens.left())))
			break
		}
		for range d {
			l.next(&r.s)
			if r.s.err != nil {
				break
			}
			r.dict = append(r.dict, uint32(l.data.off))
		}
		r.plain = l
		if !l.done() {
			r.s.fail("a dictionary longer than its count")
		}
	case modeGUID, modeIPv4:
		r.tags.b = r.s.take(r.s.uvarint())
		k := 0
		for _, t := range r.tags.b {
			k += int(t & 1)
		}
		r.packed.b = r.s.take(uint64(k * packers[r.mode].size))
		r.plain = readPlain(&r.s)
	default:
		r.s.fail("string column mode %d", r.mode)
	}
}

// appendNext appends the next value to dst, length-prefixed (uvarint),
// unless dst would grow past end bytes: then the column fails and dst is
// returned as it is.
func (r *stringsReader) appendNext(dst []byte, end int) []byte {
	v := r.next()
	if len(v) >= end-len(dst) {
		r.s.fail("a value of %d bytes past the records' size", len(v))
		return dst
	}
	if len(v) < 0x80 {
		dst = append(dst, byte(len(v)))
	} else {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
	}
	return append(dst, v...)
}

// next returns the next value, valid until the next call.
func (r *stringsReader) next() []byte {
	if r.s.err != nil {
		return nil
	}
	switch r.mode {
	case modeDict:
		c := r.s.uvarint()
		if c >= uint64(len(r.dict)) {
			r.s.fail("code %d past a dictionary of %d", c, len(r.dict))
			return nil
		}
		start := uint32(0)
		if c > 0 {
			start = r.dict[c-1]
		}
		return r.plain.data.b[start:r.dict[c]]
	case modeGUID, modeIPv4:
		switch r.tags.byte() {
		case 0:
		case 1:
			p := packers[r.mode]
			return p.unpack(r.scratch[:0], r.packed.take(uint64(p.size)))
		default:
			r.s.fail("tag not 0 or 1")
			return nil
		}
	}
	return r.plain.next(&r.s)
}

// end returns the column's error, or one if values are left. Packed
// values left mean tags left: reset takes a packed value for each tag
// with its low bit set, and next reads one for each tag 1, failing on
// the others.
func (r *stringsReader) end() error {
	if r.s.err == nil && r.tags.err == nil && r.packed.err == nil &&
		(r.s.left() != 0 || !r.plain.done() || r.tags.left() != 0) {
		return fmt.Errorf("values left")
	}
	return cmp.Or(r.s.err, r.tags.err, r.packed.err)
}
