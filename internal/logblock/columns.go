package logblock

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// A column block holds the records of a block cut into numColumns
// columns (record.go): uvarint length of each column, then the columns.
// Writer.columns writes it; Reader.assemble lays the records back end to
// end.

// columnsLimit is the most a column block of n records of size bytes may
// hold: a bound of what the encoder writes (it keeps rows otherwise), so
// a decoder never allocates more for a block than its records make.
func columnsLimit(n, size int) uint64 {
	return 4*uint64(size) + 16*uint64(n) + 1024
}

// columns returns the kind byte and the column block of the n records recs, laid end to end
// at offsets offs (n+1, the first recs' start), or false if one is not a
// record of the engine's layout, or they do not come back exactly (or
// the block would be larger than columnsLimit). The block is valid until
// the next call.
func (w *Writer) columns(recs []byte, offs []uint32) ([]byte, bool) {
	s := &w.split
	s.reset()
	base := offs[0]
	for i := range len(offs) - 1 {
		if !s.add(recs[offs[i]-base : offs[i+1]-base]) {
			return nil, false
		}
	}
	for c := range w.cols {
		b := w.cols[c][:0]
		switch {
		case isString(c):
			b = w.strs.appendStrings(b, s.strs[c])
		case c == colStepTime:
			unit := TimeUnit(s.stepTimes)
			b = binary.AppendUvarint(b, uint64(unit))
			prev := int64(0)
			for _, t := range s.stepTimes {
				b = binary.AppendVarint(b, (t-prev)/unit)
				prev = t
			}
		default:
			b = append(b, s.raw[c]...)
		}
		w.cols[c] = b
	}
	out := append(w.block[:0], kindColumns)
	for _, b := range w.cols {
		out = binary.AppendUvarint(out, uint64(len(b)))
	}
	for _, b := range w.cols {
		out = append(out, b...)
	}
	w.block = out
	if uint64(len(out)) > columnsLimit(len(offs)-1, len(recs)) {
		return nil, false
	}
	back, err := w.check.assemble(w.back[:0], out[1:], len(offs)-1, len(recs))
	if err != nil {
		return nil, false
	}
	w.back = back
	return out, bytes.Equal(back, recs)
}

// assemble appends to dst the n records of the column block b, which must
// take size bytes in all.
func (r *Reader) assemble(dst, b []byte, n, size int) ([]byte, error) {
	head := src{b: b}
	var lens [numColumns]uint64
	for c := range lens {
		lens[c] = head.uvarint()
	}
	var raw [numColumns]src
	strs := &r.strs
	dictLeft := uint64(size) // each dictionary value makes a byte of the records at least
	for c := range raw {
		raw[c].b = head.take(lens[c])
		if isString(c) {
			strs[c].reset(raw[c].b, dictLeft)
			dictLeft -= uint64(len(strs[c].dict))
		}
	}
	if head.err != nil {
		return nil, fmt.Errorf("column directory: %v", head.err)
	}
	if head.left() != 0 {
		return nil, fmt.Errorf("%d bytes after the columns", head.left())
	}
	times := &raw[colStepTime]
	unit := int64(1)
	if times.left() > 0 {
		if u := times.uvarint(); u == 0 || u > math.MaxInt64 { // TimeUnit's range
			times.fail("step time unit %d", u)
		} else {
			unit = int64(u)
		}
	}
	start, prev := len(dst), int64(0)
	end := start + size
	for i := 0; i < n && len(dst)-start <= size; i++ {
		flags := raw[colFlags].byte()
		if flags == 0 {
			continue // an empty record
		}
		if flags&^(flagFields|flagCoords) != 0 || flags&flagFields == 0 {
			return nil, fmt.Errorf("record %d: flags %#x", i, flags)
		}
		for c := colText; c < colText+numText; c++ {
			dst = strs[c].appendNext(dst, end)
		}
		k := raw[colSteps].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			prev += times.varint() * unit
			dst = binary.AppendVarint(dst, prev)
			dst = strs[colStepMethod].appendNext(dst, end)
			dst = append(dst, raw[colStepOK].byte())
			dst = strs[colStepDetail].appendNext(dst, end)
			dst = strs[colStepRequirement].appendNext(dst, end)
		}
		k = raw[colMFA].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			dst = strs[colMFAName].appendNext(dst, end)
		}
		k = raw[colCA].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			dst = strs[colCAName].appendNext(dst, end)
			dst = strs[colCAResult].appendNext(dst, end)
		}
		if flags&flagCoords != 0 {
			dst = append(dst, raw[colLatitude].take(8)...)
			dst = append(dst, raw[colLongitude].take(8)...)
		}
	}
	for c := range raw {
		var err error
		if isString(c) {
			err = strs[c].end()
		} else if err = raw[c].err; err == nil && raw[c].left() != 0 {
			err = fmt.Errorf("%d bytes left", raw[c].left())
		}
		if err != nil {
			return nil, fmt.Errorf("column %d: %v", c, err)
		}
	}
	if len(dst)-start != size {
		return nil, fmt.Errorf("records of %d bytes or more, not %d", len(dst)-start, size)
	}
	return dst, nil
}
