package insights

// column holds one dictionary code per combination of a day, in the
// narrowest width its largest code fits: most dimensions have fewer than
// 256 values, so most columns take one byte a combination instead of four.
// Immutable once built.
type column struct {
	u8  []uint8
	u16 []uint16
	u32 []uint32
}

// newColumn returns a column of n codes, code(i) for each i.
func newColumn(n int, code func(i int) uint32) column {
	hi := uint32(0)
	for i := range n {
		hi = max(hi, code(i))
	}
	var c column
	switch {
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

// at returns the code of combination i.
func (c *column) at(i uint32) uint32 {
	switch {
	case c.u8 != nil:
		return uint32(c.u8[i])
	case c.u16 != nil:
		return uint32(c.u16[i])
	}
	return c.u32[i]
}
