package insights

import "github.com/insightslab/insights/internal/segment"

// column holds one dictionary code per combination of a day: the
// segment package's Column (its layout and widths), spelled as the
// evaluation reads it. Immutable once built.
type column segment.Column

// newColumn returns a column of n codes, code(i) for each i.
func newColumn(n int, code func(i int) uint32) column {
	return column(segment.NewColumn(n, code))
}

// at returns the code of combination i.
func (c *column) at(i uint32) uint32 { return (*segment.Column)(c).At(i) }

// bytes returns the bytes the column's codes take.
func (c *column) bytes() int64 { return (*segment.Column)(c).Bytes() }
