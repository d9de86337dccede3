package insights

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// TestDayLogOffsetsWrap: a day's log whose records pass 4 GiB has its
// offsets wrap (they are positions modulo 2^32); its records read the
// same, plain and from the segment written of it. The log here starts
// 3,000 bytes short of the wrap, as if that many records came before,
// so that its first chunk's offsets wrap without 4 GiB held.
func TestDayLogOffsetsWrap(t *testing.T) {
	l := eventLog{offs: []uint32{1<<32 - 3000}}
	var recs []string
	for i := range 2*logChunk + 7 {
		rec := fmt.Sprintf("record %d %s", i, bytes.Repeat([]byte("x"), i%13))
		recs = append(recs, rec)
		l.add(int64(i)*1e9, noUser, 0, rec)
	}
	if l.offs[len(l.offs)-1] > l.offs[0] {
		t.Fatal("the offsets do not wrap")
	}
	for i, want := range recs {
		if got := string(l.plainRecord(i)); got != want {
			t.Fatalf("record %d reads %q, want %q", i, got, want)
		}
	}
	enc, dec := newCodec()
	raw, err := encodeLog(&l, enc.log)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeLog("seg", raw, frame.SegmentVersion, 1, uint64(len(recs)), 0, dec)
	if err != nil {
		t.Fatal(err)
	}
	c := back.cursor()
	for i, want := range recs {
		if got, err := c.record(i); err != nil || string(got) != want {
			t.Fatalf("record %d of the segment reads %q (%v), want %q", i, got, err, want)
		}
	}
}
