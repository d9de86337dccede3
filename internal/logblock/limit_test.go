package logblock

import (
	"bytes"
	"strings"
	"testing"
)

// TestBlockWithinRecordsLimit: records whose columns compress past what a
// zstd frame of their block's length can decompress into (one long value
// repeated: its dictionary holds it once) are kept as rows, so that the
// block holds no more than RecordsLimit, which a reader checks before it
// allocates; they still decode to exactly the records.
func TestBlockWithinRecordsLimit(t *testing.T) {
	enc, dec := codec(t)
	r := testRecord{text: [numText]string{strings.Repeat("a", 40<<10)}}
	var recs []byte
	offs := []uint32{0}
	for range 200 {
		recs = append(recs, r.bytes()...)
		offs = append(offs, uint32(len(recs)))
	}
	w := NewWriter(enc)
	b, ok := w.columns(recs, offs)
	if !ok {
		t.Fatal("the records are not cut into columns: nothing to check")
	}
	if z := enc.EncodeAll(b, nil); uint64(len(recs)) <= RecordsLimit(Tagged, len(z)) {
		t.Fatalf("the columns compress to %d bytes, within the limit for %d of records: nothing to check", len(z), len(recs))
	}
	block := w.Block(nil, recs, offs)
	if lim := RecordsLimit(Tagged, len(block)); uint64(len(recs)) > lim {
		t.Errorf("a block of %d bytes holds %d bytes of records, past its limit %d", len(block), len(recs), lim)
	}
	got, err := decodeBlock(dec, Tagged, block, nil, 200, len(recs))
	if err != nil || !bytes.Equal(got, recs) {
		t.Errorf("the block decodes to %d bytes (%v), not its %d", len(got), err, len(recs))
	}
}

// TestRecordsLimit: a Tagged block's frame holds the kind byte before
// the records; a block of rows, the records alone.
func TestRecordsLimit(t *testing.T) {
	for _, c := range []struct {
		f    Format
		n    int
		want uint64
	}{{Rows, 0, 0}, {Tagged, 0, 0}, {Rows, 3, 3 * MaxZstdExpansion}, {Tagged, 3, 3*MaxZstdExpansion - 1}} {
		if got := RecordsLimit(c.f, c.n); got != c.want {
			t.Errorf("RecordsLimit(%d, %d) = %d, want %d", c.f, c.n, got, c.want)
		}
	}
	if got := columnsLimit(MaxRecordsPerBlock, MaxBlockBytes); got != MaxFrameBytes {
		t.Errorf("MaxFrameBytes = %d, want columnsLimit of a largest block, %d", uint64(MaxFrameBytes), got)
	}
}
