package segment

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
)

// TestEncodeLogRefusesDisagreeingParts: EncodeLog writes nothing of a log
// whose columns, offsets and chunks or blocks disagree, and its error
// wraps frame.ErrCorrupt and names what disagrees (it trusted the chunks'
// lengths, and wrote a segment whose records read back shifted, or not
// at all).
func TestEncodeLogRefusesDisagreeingParts(t *testing.T) {
	enc, _ := codec()
	for _, c := range []struct {
		name, want string
		spoil      func(l *Log)
	}{
		{"a chunk a byte short", "chunk 0 holds", func(l *Log) { l.Chunks[0] = l.Chunks[0][:len(l.Chunks[0])-1] }},
		{"the last offset past the chunk", "chunk 0 holds", func(l *Log) { l.Offs[len(l.Offs)-1]++ }},
		{"no chunk", "0 chunks for", func(l *Log) { l.Chunks = nil }},
		{"an offset short", "offsets for", func(l *Log) { l.Offs = l.Offs[:len(l.Offs)-1] }},
		{"a user short", "users", func(l *Log) { l.Users = l.Users[:len(l.Users)-1] }},
		{"a combination more", "combinations", func(l *Log) { l.Combos = append(l.Combos, 0) }},
		{"an offset before the one before", "record 0 of", func(l *Log) { l.Offs[1] = l.Offs[0] - 1 }},
		{"blocks of no record", "blocks of 0 records", func(l *Log) { l.Blocks, l.PerBlock, l.Format = [][]byte{{1}}, 0, logblock.Tagged }},
		{"blocks of rows", "format", func(l *Log) { l.Blocks, l.PerBlock, l.Format = [][]byte{{1}}, 1024, logblock.Rows }},
		{"a block short", "blocks for", func(l *Log) { l.Blocks, l.PerBlock, l.Format = [][]byte{{1}}, 1, logblock.Tagged }},
	} {
		_, l, _, _ := fixture(t)
		l.Chunks = slices.Clone(l.Chunks)
		c.spoil(l)
		b, err := EncodeLog(l, enc)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), c.want) || b != nil {
			t.Errorf("%s: %d bytes, error %v; want none and an error naming %q", c.name, len(b), err, c.want)
		}
	}
}

// TestLogPastFourGiB: a day's records may take more than 4 GiB: the
// offsets wrap, and a block past them decodes and reads its records (the
// decoder refused a log whose records summed past 4 GiB, so a day that
// large, written, could not be read back). The records before are
// claimed, not held: their blocks are never read.
func TestLogPastFourGiB(t *testing.T) {
	enc, dec := codec()
	const big, n = maxRecordBytes, 1<<32/maxRecordBytes + 2 // the last record starts past 4 GiB
	last := []byte("the record past 4 GiB")
	claimed := make([]byte, big/logblock.MaxZstdExpansion+1) // long enough to hold a record of big bytes (logblock.RecordsLimit)
	l := &Log{Times: make([]int64, n), Users: make([]uint32, n), Combos: make([]uint32, n), Offs: make([]uint32, n+1),
		PerBlock: 1, Format: logblock.Tagged}
	for i := range n {
		l.Users[i], l.Times[i] = NoUser, int64(i)*1e9
		size := uint32(big)
		if i == n-1 {
			size = uint32(len(last))
		}
		l.Offs[i+1] = l.Offs[i] + size
		l.Blocks = append(l.Blocks, claimed) // never read
	}
	l.Blocks[n-1] = logblock.NewWriter(enc).Block(nil, last, l.Offs[n-1:])
	raw, err := EncodeLog(l, enc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLog("seg", raw, frame.SegmentVersion, 1, n, 0, dec)
	if err != nil {
		t.Fatalf("a log of %d bytes of records does not decode: %v", uint64(big)*(n-1)+uint64(len(last)), err)
	}
	if !sameLog(&got, l) || len(got.Blocks) != n {
		t.Fatalf("the log decodes to another: offsets %v ... %v, want %v ... %v", got.Offs[:2], got.Offs[n-1:], l.Offs[:2], l.Offs[n-1:])
	}
	var rd logblock.Reader
	rec, err := rd.Decode(dec, got.Format, got.Blocks[n-1], nil, 1, int(got.Offs[n]-got.Offs[n-1]))
	if err != nil || !bytes.Equal(rec, last) {
		t.Fatalf("the last record reads %q (%v), want %q", rec, err, last)
	}

	// The same records in one block: its offsets' differences would not
	// be exact, and EncodeLog and DecodeLog refuse it.
	whole := *l
	whole.PerBlock, whole.Blocks = n, [][]byte{{0}}
	if b, err := EncodeLog(&whole, enc); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "block 0: records of") || b != nil {
		t.Fatalf("a block of %d records of %d bytes encodes to %d bytes with %v, want an error naming it", n, big, len(b), err)
	}
	r := frame.Reader{Key: "seg", Body: raw}
	cols := r.Bytes(r.Count(len(raw), 1))
	one := frame.AppendUvarint(nil, uint64(len(cols)))
	one = frame.AppendUvarint(frame.AppendUvarint(append(one, cols...), n), 1) // n records a block, one block
	one = append(frame.AppendUvarint(one, 1), 0)
	if _, err := DecodeLog("seg", one, frame.SegmentVersion, 1, n, 0, dec); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "block 0: records of more than") {
		t.Fatalf("a block of %d records of %d bytes decodes with %v, want an error naming it", n, big, err)
	}
}

// TestDecodedBlocksHoldOnlyTheirBytes: a decoded log's blocks are one
// buffer of exactly their bytes, apart from the section given: what a
// day's size counts of a stored log is its blocks' bytes (they were
// sub-slices of a copy of the whole section, whose columns' frame and
// lengths were held beside them unseen).
// The fixture's records take less than 4 GiB: their offsets are
// positions in recs here, as a Log's are below 4 GiB only.
func TestDecodedBlocksHoldOnlyTheirBytes(t *testing.T) {
	x, l, lim, _ := fixture(t)
	enc, dec := codec()
	recs := bytes.Join(l.Chunks, nil)
	const per = 10
	n := len(l.Times)
	w := logblock.NewWriter(enc)
	l.Chunks, l.PerBlock, l.Format = nil, per, logblock.Tagged
	for from := 0; from < n; from += per {
		to := min(from+per, n)
		l.Blocks = append(l.Blocks, w.Block(nil, recs[l.Offs[from]:l.Offs[to]], l.Offs[from:to+1]))
	}
	raw := encodeLog(t, l, enc)
	got, err := DecodeLog("seg", raw, frame.SegmentVersion, x.Combos, uint64(n), lim.Users, dec)
	if err != nil || len(got.Blocks) < 2 {
		t.Fatalf("%d blocks decoded (%v), want %d", len(got.Blocks), err, len(l.Blocks))
	}
	start, held := unsafe.Pointer(unsafe.SliceData(got.Blocks[0])), 0
	for k, b := range got.Blocks {
		if unsafe.Pointer(unsafe.SliceData(b)) != unsafe.Add(start, held) || cap(b) != len(b) {
			t.Fatalf("block %d does not start where the one before ends, or has room after it (%d of %d bytes)", k, len(b), cap(b))
		}
		held += len(b)
	}
	if p, r := uintptr(start), uintptr(unsafe.Pointer(unsafe.SliceData(raw))); p >= r && p < r+uintptr(len(raw)) {
		t.Fatal("the blocks are the section's bytes, not a copy")
	}
}
