package segment

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
)

// withBlocks returns the log section raw with its blocks replaced by
// blocks of perBlock records: its columns as they are.
func withBlocks(raw []byte, perBlock int, blocks ...[]byte) []byte {
	r := frame.Reader{Key: "seg", Body: raw}
	cols := r.Bytes(r.Count(len(raw), 1))
	out := append(frame.AppendUvarint(nil, uint64(len(cols))), cols...)
	out = frame.AppendUvarint(frame.AppendUvarint(out, uint64(perBlock)), uint64(len(blocks)))
	for _, b := range blocks {
		out = append(frame.AppendUvarint(out, uint64(len(b))), b...)
	}
	return out
}

// claimLog returns a log of n records of size bytes each, in one block
// long enough to hold them (never read).
func claimLog(n int, size uint32) *Log {
	l := &Log{Times: make([]int64, n), Users: make([]uint32, n), Combos: make([]uint32, n), Offs: make([]uint32, n+1),
		PerBlock: n, Format: logblock.Tagged}
	for i := range n {
		l.Users[i] = NoUser
		l.Offs[i+1] = l.Offs[i] + size
	}
	l.Blocks = [][]byte{make([]byte, uint64(n)*uint64(size)/logblock.MaxZstdExpansion+1)}
	return l
}

// TestDecodeLogRefusesBlockPastItsLength: a section whose columns claim
// 16 records of 4 MiB in a block of one byte is refused by DecodeLog,
// naming the block, so reading it never allocates the 64 MiB claimed
// (it decoded, and the block's first read allocated them); EncodeLog
// writes no such block. A block long enough to hold its records decodes.
func TestDecodeLogRefusesBlockPastItsLength(t *testing.T) {
	enc, dec := codec()
	const n = 16
	l := claimLog(n, maxRecordBytes)
	raw := encodeLog(t, l, enc)
	if _, err := DecodeLog("seg", raw, frame.SegmentVersion, 1, n, 0, dec); err != nil {
		t.Fatalf("a block of %d bytes for %d records of %d bytes: %v", len(l.Blocks[0]), n, maxRecordBytes, err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := DecodeLog("seg", withBlocks(raw, n, []byte{0}), frame.SegmentVersion, 1, n, 0, dec)
	runtime.ReadMemStats(&m1)
	if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "block 0 of 1 bytes") {
		t.Errorf("a block of 1 byte claiming %d bytes of records decodes with %v, want an error naming it", n*maxRecordBytes, err)
	}
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 1<<20 {
		t.Errorf("refusing the block allocated %d bytes", a)
	}
	l.Blocks = [][]byte{{0}}
	if b, err := EncodeLog(l, enc); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "block 0 of 1 bytes") || b != nil {
		t.Errorf("EncodeLog of a block of 1 byte claiming %d bytes: %d bytes, %v; want an error naming it", n*maxRecordBytes, len(b), err)
	}
}

// TestDecodeLogRefusesLongRecord: a record of more than maxRecordBytes is
// refused, named, though its block could hold it.
func TestDecodeLogRefusesLongRecord(t *testing.T) {
	enc, dec := codec()
	cols := frame.AppendUvarint(nil, 1)                // one entry
	cols = frame.AppendUvarint(cols, 1)                // time unit
	cols = frame.AppendVarint(cols, 0)                 // time
	cols = frame.AppendUvarint(cols, 0)                // user: none
	cols = frame.AppendUvarint(cols, 0)                // combination
	cols = frame.AppendUvarint(cols, maxRecordBytes+1) // length
	z := enc.EncodeAll(cols, nil)
	raw := append(frame.AppendUvarint(nil, uint64(len(z))), z...)
	raw = withBlocks(raw, 1, make([]byte, maxRecordBytes/logblock.MaxZstdExpansion+2))
	_, err := DecodeLog("seg", raw, frame.SegmentVersion, 1, 1, 0, dec)
	if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "record 0 of 4194305 bytes") {
		t.Errorf("a record of %d bytes decodes with %v, want an error naming it", maxRecordBytes+1, err)
	}
}

// TestEncodeLogWithinDecoderLimits: EncodeLog refuses a day DecodeLog
// would (more entries than it takes, columns past its frame's limit),
// here with the limits small; at the limits, it writes.
func TestEncodeLogWithinDecoderLimits(t *testing.T) {
	enc, _ := codec()
	_, l, _, _ := fixture(t)
	n := uint64(len(l.Times))
	full := logLimits{entries: n, columns: 1 << 20}
	raw, err := encodeLogWithin(l, enc, full)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		lim  logLimits
		want string
	}{
		{"an entry past the limit", logLimits{entries: n - 1, columns: full.columns}, "entries, past"},
		{"columns a byte past the limit", logLimits{entries: n, columns: columnsLen(t, raw) - 1}, "columns of"},
	} {
		if b, err := encodeLogWithin(l, enc, c.lim); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), c.want) || b != nil {
			t.Errorf("%s: %d bytes, %v; want an error naming %q", c.name, len(b), err, c.want)
		}
	}
	if _, err := encodeLogWithin(l, enc, logLimits{entries: n, columns: columnsLen(t, raw)}); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

// columnsLen returns the bytes of the log section raw's columns, plain.
func columnsLen(t *testing.T, raw []byte) uint64 {
	t.Helper()
	_, dec := codec()
	r := frame.Reader{Key: "seg", Body: raw}
	cols, err := logblock.DecodeFrame(dec, r.Bytes(r.Count(len(raw), 1)), nil, MaxFrameBytes)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(len(cols))
}

// TestEncodeLogTakesRoomAhead: a log of no entry with an empty chunk
// given ahead (a builder made like the day before, sealed empty) writes
// and reads back as no entry (EncodeLog refused it: "1 chunks for 0").
func TestEncodeLogTakesRoomAhead(t *testing.T) {
	enc, dec := codec()
	l := &Log{Times: []int64{}, Users: []uint32{}, Combos: []uint32{}, Offs: []uint32{0}, Chunks: [][]byte{make([]byte, 0, 1000)}}
	raw, err := EncodeLog(l, enc)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeLog("seg", raw, frame.SegmentVersion, 1, 0, 0, dec); err != nil || len(got.Times) != 0 || len(got.Blocks) != 0 {
		t.Errorf("decodes to %d entries, %d blocks, %v", len(got.Times), len(got.Blocks), err)
	}
	l.Chunks = append(l.Chunks, []byte("x"))
	if _, err := EncodeLog(l, enc); err == nil {
		t.Error("a chunk of records past the entries written")
	}
}
