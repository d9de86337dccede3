package insights

import (
	"testing"

	"github.com/insightslab/insights/internal/dayindex"
)

// TestMemBytesCountsDerivedSets: a sealed day's size (memBytes, what
// Options.MemoryLimit bounds) grows by exactly the bytes of a derived set
// the day builds and keeps (here a column's postings).
func TestMemBytesCountsDerivedSets(t *testing.T) {
	b := newDayBuilder()
	for i := range uint32(60) {
		b.add(combo{i % 7, i % 3}, i%11, true, i%2 == 0, int64(i), "")
	}
	d := b.seal()
	before := d.memBytes()
	p := d.ix.Postings(0)
	if got, want := d.memBytes(), before+int64(dayindex.BitmapsBytes(p)); got != want || len(p) != 7 {
		t.Fatalf("after the postings of column 0 (%d codes): %d bytes, want %d", len(p), got, want)
	}
}
