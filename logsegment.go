package insights

import (
	"bytes"
	"math"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// A day segment ends with the day's event log (store/FORMAT.md):
//
//	columns: length (uvarint) + one zstd frame of
//	    entries N (uvarint)
//	    time unit U (uvarint ns; format v2 only, 1 in v1): the greatest that divides every time
//	    times: the first (varint, in U), then each difference from the previous (varint, in U)
//	    users: per entry 0 for a principal, 1 for an erased user, else user id + 2 (uvarint)
//	    combinations: per entry (uvarint)
//	    record lengths: per entry (uvarint)
//	records per block B (uvarint; format v2 only: v1 blocks hold logblock.V1RecordsPerBlock)
//	blocks (uvarint), each: length (uvarint) + one zstd frame of B records (the
//	    last block may hold fewer): laid end to end in frame versions 2 and
//	    3 (logblock.Rows), cut into columns in version 4 (logblock.Tagged)
//
// The columns are read when the log is first needed; a block only when one
// of its records is (recordCursor), so finding a user's entries of a day
// decompresses a few blocks, not the day.

// Limits of a decoder of hostile input. A frame decodes into a buffer of
// the size the rest of the segment implies (WithDecodeAllCapLimit), never
// of the size the frame claims.
const (
	maxFrameBytes   = 1 << 30
	maxColumnBytes  = 32          // the most one entry takes in the columns (four varints)
	maxRecordBytes  = 4 << 20     // more than the longest record validation lets through
	maxEntriesInDay = 1<<32/4 - 1 // offsets are uint32
)

// encoders are the engine's zstd encoders: log for the event log, most of
// a segment's bytes, at the fastest level; index for the index's sections,
// a tenth as large, at the default level, which makes them an eighth
// smaller for little more time (bench/RESULTS.md, 2026-12-04).
type encoders struct{ log, index *zstd.Encoder }

// newCodec returns the engine's zstd encoders and decoder. EncodeAll and
// DecodeAll are safe for concurrent use; DecodeAll writes at most the
// capacity of its destination.
func newCodec() (encoders, *zstd.Decoder) {
	var enc encoders // valid options: cannot fail
	enc.log, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	enc.index, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxFrameBytes), zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true))
	return enc, dec
}

// encodeLog returns the log section of l, of format v2 with tagged
// blocks. Blocks already compressed and tagged are written as they are,
// with their number of records; blocks of rows (an older segment's) are
// read and written again. It fails only if such a block is corrupt.
func encodeLog(l *eventLog, enc *zstd.Encoder) ([]byte, error) {
	if l.blocks != nil && l.format != logblock.Tagged {
		p, err := l.plain()
		if err != nil {
			return nil, err
		}
		l = &p
	}
	b := frame.AppendUvarint(nil, uint64(l.len()))
	unit := logblock.TimeUnit(l.times)
	b = frame.AppendUvarint(b, uint64(unit))
	prev := int64(0)
	for _, t := range l.times {
		b = frame.AppendVarint(b, (t-prev)/unit)
		prev = t
	}
	for _, u := range l.users {
		code := uint64(u) + 2
		switch u {
		case noUser:
			code = 0
		case erasedUser:
			code = 1
		}
		b = frame.AppendUvarint(b, code)
	}
	for _, c := range l.combos {
		b = frame.AppendUvarint(b, uint64(c))
	}
	for i := range l.len() {
		b = frame.AppendUvarint(b, uint64(l.offs[i+1]-l.offs[i]))
	}
	cols := enc.EncodeAll(b, nil)
	out := frame.AppendUvarint(nil, uint64(len(cols)))
	out = append(out, cols...)
	per := logblock.RecordsPerBlock
	if l.blocks != nil {
		per = l.perBlock
	}
	n := (l.len() + per - 1) / per
	out = frame.AppendUvarint(out, uint64(per))
	out = frame.AppendUvarint(out, uint64(n))
	w := logblock.NewWriter(enc)
	for k := range n {
		var block []byte
		if l.blocks != nil {
			block = l.blocks[k]
		} else {
			end := min((k+1)*per, l.len())
			block = w.Block(l.recs[l.offs[k*per]:l.offs[end]], l.offs[k*per:end+1])
		}
		out = frame.AppendUvarint(out, uint64(len(block)))
		out = append(out, block...)
	}
	return out, nil
}

// decodeLog decodes a log section of the segment stored under key, of
// format v2 unless v1, whose day has combos combinations and events
// events, in a catalog of users users. The blocks are checked when first
// read.
func decodeLog(key string, raw []byte, version byte, combos int, events uint64, users int, dec *zstd.Decoder) (eventLog, error) {
	r := frame.Reader{Key: key, Body: bytes.Clone(raw)} // the blocks stay: keep only the section
	v1 := version == frame.Version
	if events > maxEntriesInDay {
		r.Fail("event log: %d events in a day", events)
		return eventLog{}, r.Err
	}
	cols := r.Bytes(r.Count(len(r.Body), 1))
	if r.Err != nil {
		return eventLog{}, r.Err
	}
	// The frame's header is read before its buffer is allocated.
	plain, err := logblock.DecodeFrame(dec, cols, nil, min(maxColumnBytes*events+16, maxFrameBytes))
	if err != nil {
		r.Fail("event log columns: %v", err)
		return eventLog{}, r.Err
	}
	c := frame.Reader{Key: key, Body: plain}
	n := c.Count(1<<31-1, 4)
	if c.Err == nil && uint64(n) != events {
		c.Fail("event log: %d entries for the index's %d events", n, events)
	}
	l := eventLog{times: make([]int64, n), users: make([]uint32, n), combos: make([]uint32, n), offs: make([]uint32, n+1),
		dec: dec, key: key}
	unit := int64(1)
	if !v1 {
		if u := c.Uvarint(); c.Err == nil && (u == 0 || u > math.MaxInt64) {
			c.Fail("event log: time unit %d", u)
		} else {
			unit = int64(u)
		}
	}
	prev := int64(0)
	for i := range l.times {
		prev += c.Varint() * unit
		l.times[i] = prev
	}
	for i := range l.users {
		switch u := c.Uvarint(); {
		case u == 0:
			l.users[i] = noUser
		case u == 1:
			l.users[i] = erasedUser
		case u-2 >= uint64(users):
			c.Fail("event log: user %d past the %d users", u-2, users)
		default:
			l.users[i] = uint32(u - 2)
		}
	}
	for i := range l.combos {
		v := c.Uvarint()
		if v >= uint64(combos) {
			c.Fail("event log: combination %d past the day's %d", v, combos)
		}
		l.combos[i] = uint32(v)
	}
	total := uint64(0)
	for i := range n {
		size := c.Uvarint()
		total += size
		if size > maxRecordBytes || total > 1<<32-1 {
			c.Fail("event log: record %d of %d bytes, or records longer than 4 GiB", i, size)
		}
		l.offs[i+1] = uint32(total)
	}
	if err := c.End(); err != nil {
		return eventLog{}, err
	}
	l.perBlock = logblock.V1RecordsPerBlock
	if version == frame.SegmentVersion {
		l.format = logblock.Tagged
	}
	if !v1 {
		if l.perBlock = r.Count(logblock.MaxRecordsPerBlock, 0); r.Err == nil && l.perBlock == 0 {
			r.Fail("event log: blocks of no record")
		}
	}
	if r.Err != nil {
		return eventLog{}, r.Err
	}
	want := (n + l.perBlock - 1) / l.perBlock
	blocks := r.Count(want, 1)
	if r.Err == nil && blocks != want {
		r.Fail("event log: %d blocks for %d entries", blocks, n)
	}
	l.blocks = make([][]byte, 0, blocks)
	for k := 0; k < blocks && r.Err == nil; k++ {
		l.blocks = append(l.blocks, r.Bytes(r.Count(len(r.Body), 1)))
	}
	if err := r.End(); err != nil {
		return eventLog{}, err
	}
	return l, nil
}
