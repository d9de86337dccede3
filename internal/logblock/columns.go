package logblock

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// A column block holds the records of a block cut into numColumns
// columns (record.go): uvarint length of each column, then the columns.
// appendColumns writes it; assemble lays the records back end to end.

// appendColumns appends the column block of s to dst.
func (s *split) appendColumns(dst []byte) []byte {
	var cols [numColumns][]byte
	for c := range cols {
		switch {
		case isString(c):
			cols[c] = appendStrings(nil, s.strs[c])
		case c == colStepTime:
			unit := TimeUnit(s.stepTimes)
			b := binary.AppendUvarint(nil, uint64(unit))
			prev := int64(0)
			for _, t := range s.stepTimes {
				b = binary.AppendVarint(b, (t-prev)/unit)
				prev = t
			}
			cols[c] = b
		default:
			cols[c] = s.raw[c]
		}
	}
	for _, b := range cols {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
	}
	for _, b := range cols {
		dst = append(dst, b...)
	}
	return dst
}

// columnsLimit is the most a column block of n records of size bytes may
// hold: a bound of what the encoder writes (it keeps rows otherwise), so
// a decoder never allocates more for a block than its records make.
func columnsLimit(n, size int) uint64 {
	return 4*uint64(size) + 16*uint64(n) + 1024
}

// assemble appends to dst the n records of the column block b, which must
// take size bytes in all.
func assemble(dst, b []byte, n, size int) ([]byte, error) {
	head := src{b: b}
	var lens [numColumns]uint64
	for c := range lens {
		lens[c] = head.uvarint()
	}
	var raw [numColumns]src
	var strs [numColumns]*stringsReader
	for c := range raw {
		raw[c].b = head.take(lens[c])
		if isString(c) && head.err == nil {
			strs[c] = newStrings(raw[c].b)
		}
	}
	if head.err != nil {
		return nil, fmt.Errorf("column directory: %v", head.err)
	}
	if len(head.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the columns", len(head.b))
	}
	times := &raw[colStepTime]
	unit := int64(1)
	if len(times.b) > 0 {
		if u := times.uvarint(); u == 0 || u > 1<<62 {
			times.fail("step time unit %d", u)
		} else {
			unit = int64(u)
		}
	}
	str := func(c int) {
		v := strs[c].next()
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	start, prev := len(dst), int64(0)
	for i := 0; i < n && len(dst)-start <= size; i++ {
		flags := raw[colFlags].byte()
		if flags == 0 {
			continue // an empty record
		}
		if flags&^(flagFields|flagCoords) != 0 || flags&flagFields == 0 {
			return nil, fmt.Errorf("record %d: flags %#x", i, flags)
		}
		for c := colText; c < colText+numText; c++ {
			str(c)
		}
		k := raw[colSteps].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			prev += times.varint() * unit
			dst = binary.AppendVarint(dst, prev)
			str(colStepMethod)
			dst = append(dst, raw[colStepOK].byte())
			str(colStepDetail)
			str(colStepRequirement)
		}
		k = raw[colMFA].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			str(colMFAName)
		}
		k = raw[colCA].uvarint()
		dst = binary.AppendUvarint(dst, k)
		for ; k > 0 && len(dst)-start <= size; k-- {
			str(colCAName)
			str(colCAResult)
		}
		if flags&flagCoords != 0 {
			dst = append(dst, raw[colLatitude].take(8)...)
			dst = append(dst, raw[colLongitude].take(8)...)
		}
	}
	if len(dst)-start != size {
		return nil, fmt.Errorf("records of %d bytes or more, not %d", len(dst)-start, size)
	}
	for c := range raw {
		var err error
		if strs[c] != nil {
			err = strs[c].end()
		} else if err = raw[c].err; err == nil && len(raw[c].b) != 0 {
			err = fmt.Errorf("%d bytes left", len(raw[c].b))
		}
		if err != nil {
			return nil, fmt.Errorf("column %d: %v", c, err)
		}
	}
	return dst, nil
}

// encodeColumns returns the column block of the n records recs, laid end
// to end at offsets offs (n+1, the first recs' start), or false if one
// is not a record of the engine's layout (or the block would be larger
// than columnsLimit).
func encodeColumns(recs []byte, offs []uint32) ([]byte, bool) {
	var s split
	base := offs[0]
	for i := range len(offs) - 1 {
		if !s.add(recs[offs[i]-base : offs[i+1]-base]) {
			return nil, false
		}
	}
	b := s.appendColumns(nil)
	if uint64(len(b)) > columnsLimit(len(offs)-1, len(recs)) {
		return nil, false
	}
	back, err := assemble(nil, b, len(offs)-1, len(recs))
	return b, err == nil && bytes.Equal(back, recs)
}
