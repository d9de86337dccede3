package segment

import "slices"

// Column holds one dictionary code per combination of a day, in the
// narrowest width its largest code fits: most dimensions have fewer than
// 256 values, so most columns take one byte a combination instead of four,
// and a column of one code throughout (a dimension the traffic leaves
// empty) takes none. Its zero value is a column of code 0 throughout.
// Immutable once built: safe for concurrent reads.
type Column struct {
	u8   []uint8
	u16  []uint16
	u32  []uint32
	same uint32 // every code, when the slices are nil
}

// NewColumn returns a column of n codes, code(i) for each i. Cost: two
// calls of code per combination, and one slice of the narrowest width.
func NewColumn(n int, code func(i int) uint32) Column {
	hi, lo := uint32(0), ^uint32(0)
	for i := range n {
		v := code(i)
		hi, lo = max(hi, v), min(lo, v)
	}
	var c Column
	switch {
	case hi == lo:
		c.same = hi
	case hi <= 0xff:
		c.u8 = make([]uint8, n)
		for i := range c.u8 {
			c.u8[i] = uint8(code(i))
		}
	case hi <= 0xffff:
		c.u16 = make([]uint16, n)
		for i := range c.u16 {
			c.u16[i] = uint16(code(i))
		}
	default:
		c.u32 = make([]uint32, n)
		for i := range c.u32 {
			c.u32[i] = code(i)
		}
	}
	return c
}

// byteColumn returns the column of codes, one byte each, whose least is
// lo and greatest hi: a copy of codes (the caller keeps its buffer).
func byteColumn(codes []byte, lo, hi byte) Column {
	if lo == hi {
		return Column{same: uint32(lo)}
	}
	return Column{u8: slices.Clone(codes)}
}

// At returns the code of combination i, which must be below the
// column's length.
func (c *Column) At(i uint32) uint32 {
	switch {
	case c.u8 != nil:
		return uint32(c.u8[i])
	case c.u16 != nil:
		return uint32(c.u16[i])
	case c.u32 != nil:
		return c.u32[i]
	}
	return c.same
}

// Bytes returns the bytes of heap the column's codes take.
func (c *Column) Bytes() int64 { return int64(len(c.u8) + 2*len(c.u16) + 4*len(c.u32)) }
