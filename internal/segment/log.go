package segment

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// Limits of a decoder of hostile input. A frame decodes into a buffer of
// the size the rest of the segment implies (WithDecodeAllCapLimit), never
// of the size the frame claims. MaxFrameBytes bounds an index section and
// a log's columns; a log's block is bounded by its records' bytes
// (logblock.MaxBlockBytes, and logblock.RecordsLimit of its length), its
// frame by logblock.MaxFrameBytes, so the zstd decoder given to this
// package's decoders must take frames of DecoderMaxMemory
// (zstd.WithDecoderMaxMemory), each call being limited to its part's
// figure.
const (
	MaxFrameBytes    = 1 << 30
	DecoderMaxMemory = logblock.MaxFrameBytes
	maxColumnBytes   = 32          // the most one entry takes in the columns (four varints)
	maxRecordBytes   = 4 << 20     // more than the longest record validation lets through
	maxEntriesInDay  = 1<<32/4 - 1 // entries are numbered by uint32, with room to spare
	maxBlockBytes    = logblock.MaxBlockBytes
)

// logLimits are what EncodeLog writes at most, DecodeLog's limits: the
// entries of a day and the bytes of its columns' frame (before
// compression). Parameters of encodeLogWithin, so that tests may check them
// small.
type logLimits struct {
	entries, columns uint64
}

// Users of log entries without a (remaining) user.
const (
	NoUser     = ^uint32(0)     // a principal sign-in
	ErasedUser = ^uint32(0) - 1 // the user was erased: the entry is hidden, its record empty
)

// Log is a day's event log as a segment holds it: entry i happened at
// Times[i] (Unix ns), by Users[i] (or NoUser, ErasedUser), with the
// indexed values of combination Combos[i] of the day's index, and its log
// record at Offs[i]:Offs[i+1] of the records laid end to end: compressed
// in Blocks of PerBlock records each (the last may hold fewer), in Format,
// or, for EncodeLog only, plain in Chunks of logblock.RecordsPerBlock
// records each (the last may hold fewer; chunk k starts at
// Offs[k*logblock.RecordsPerBlock]).
//
// Offsets are positions modulo 2^32: a day's records may pass 4 GiB (28
// million records of 150 bytes), and then Offs wraps. Only differences of
// offsets within one block or chunk are taken (uint32 subtraction, exact
// modulo 2^32), and a block's records take less than 4 GiB (DecodeLog
// and EncodeLog check it): never compare two offsets, nor take one as a
// position in the day's records.
type Log struct {
	Times    []int64
	Users    []uint32
	Combos   []uint32
	Offs     []uint32 // len = entries + 1
	Chunks   [][]byte // EncodeLog only: the plain records, if Blocks is nil
	Blocks   [][]byte
	PerBlock int
	Format   logblock.Format
}

// EncodeLog returns the log section of l, of format v2 with tagged
// blocks: l's blocks, which must be tagged (logblock.Tagged) if any, as
// they are, else its plain Chunks, compressed a block each.
// enc compresses the columns and the blocks. It first checks that l's
// parts agree (check), and writes nothing of a log that does not: the
// error wraps frame.ErrCorrupt and names the column, block or chunk. It
// also refuses a day that DecodeLog would: more than 2^30-1 entries, or
// columns (4 to 32 bytes an entry) of more than MaxFrameBytes.
func EncodeLog(l *Log, enc *zstd.Encoder) ([]byte, error) {
	return encodeLogWithin(l, enc, logLimits{entries: maxEntriesInDay, columns: MaxFrameBytes})
}

// encodeLogWithin is EncodeLog within lim.
func encodeLogWithin(l *Log, enc *zstd.Encoder, lim logLimits) ([]byte, error) {
	n := len(l.Times)
	if uint64(n) > lim.entries {
		return nil, fmt.Errorf("%w: event log to write: %d entries, past %d", frame.ErrCorrupt, n, lim.entries)
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	b := frame.AppendUvarint(nil, uint64(n))
	unit := logblock.TimeUnit(l.Times)
	b = frame.AppendUvarint(b, uint64(unit))
	prev := int64(0)
	for _, t := range l.Times {
		b = frame.AppendVarint(b, (t-prev)/unit)
		prev = t
	}
	for _, u := range l.Users {
		code := uint64(u) + 2
		switch u {
		case NoUser:
			code = 0
		case ErasedUser:
			code = 1
		}
		b = frame.AppendUvarint(b, code)
	}
	for _, c := range l.Combos {
		b = frame.AppendUvarint(b, uint64(c))
	}
	for i := range n {
		b = frame.AppendUvarint(b, uint64(l.Offs[i+1]-l.Offs[i]))
	}
	if uint64(len(b)) > lim.columns {
		return nil, fmt.Errorf("%w: event log to write: columns of %d bytes, past %d", frame.ErrCorrupt, len(b), lim.columns)
	}
	// The columns' frame and the blocks compressed end to end in z (which
	// grows by append), then laid out with their lengths in out, allocated
	// once at its size: no allocation per block and no doubling of out
	// (doc.go, "Speed"); the compressed bytes are held twice, in z and out,
	// until EncodeLog returns.
	z := enc.EncodeAll(b, nil)
	cols := len(z)
	per := logblock.RecordsPerBlock
	if l.Blocks != nil {
		per = l.PerBlock
	}
	nb := (n + per - 1) / per
	blocks := l.Blocks
	if blocks == nil {
		w := logblock.NewWriter(enc)
		ends := make([]int, nb)
		for k := range nb {
			z = w.Block(z, l.Chunks[k], l.Offs[k*per:min((k+1)*per, n)+1])
			ends[k] = len(z)
		}
		blocks = make([][]byte, nb)
		start := cols
		for k, end := range ends {
			blocks[k], start = z[start:end], end
		}
	}
	size := cols + 4*binary.MaxVarintLen64
	for _, block := range blocks {
		size += binary.MaxVarintLen64 + len(block)
	}
	out := frame.AppendUvarint(make([]byte, 0, size), uint64(cols))
	out = append(out, z[:cols]...)
	out = frame.AppendUvarint(out, uint64(per))
	out = frame.AppendUvarint(out, uint64(nb))
	for _, block := range blocks {
		out = frame.AppendUvarint(out, uint64(len(block)))
		out = append(out, block...)
	}
	return out, nil
}

// check reports whether l is what EncodeLog writes and DecodeLog reads
// back: a time, a user and a combination per entry and one more offset;
// records no longer than DecodeLog takes; tagged Blocks of PerBlock
// records, as many as the entries need, each within
// logblock.RecordsLimit of its length, or, without blocks, Chunks as
// many (and empty ones after them, room given ahead), each holding
// exactly the bytes its entries' offsets span; and less than 4 GiB of
// records in a block. Cost: a pass over the offsets.
func (l *Log) check() error {
	n := len(l.Times)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: event log to write: %s", frame.ErrCorrupt, fmt.Sprintf(format, args...))
	}
	switch {
	case len(l.Users) != n || len(l.Combos) != n:
		return fail("%d times, %d users, %d combinations", n, len(l.Users), len(l.Combos))
	case len(l.Offs) != n+1:
		return fail("%d offsets for %d entries", len(l.Offs), n)
	}
	per, parts, what := logblock.RecordsPerBlock, len(l.Chunks), "chunk"
	if l.Blocks != nil {
		per, parts, what = l.PerBlock, len(l.Blocks), "block"
		if per <= 0 || per > logblock.MaxRecordsPerBlock || l.Format != logblock.Tagged {
			return fail("blocks of %d records, format %d", per, l.Format)
		}
	}
	want := (n + per - 1) / per
	if l.Blocks == nil {
		for parts > want && len(l.Chunks[parts-1]) == 0 { // room given ahead (a builder made like the day before)
			parts--
		}
	}
	if parts != want {
		return fail("%d %ss for %d entries of %d a %s", parts, what, n, per, what)
	}
	for k := range parts {
		size := uint64(0)
		for i := k * per; i < min((k+1)*per, n); i++ {
			rec := uint64(l.Offs[i+1] - l.Offs[i])
			if rec > maxRecordBytes {
				return fail("record %d of %d bytes (offsets %d to %d)", i, rec, l.Offs[i], l.Offs[i+1])
			}
			size += rec
		}
		if size > maxBlockBytes {
			return fail("%s %d: records of %d bytes", what, k, size)
		}
		if l.Blocks != nil && size > logblock.RecordsLimit(l.Format, len(l.Blocks[k])) {
			return fail("block %d of %d bytes: records of %d bytes, more than it can hold", k, len(l.Blocks[k]), size)
		}
		if l.Blocks == nil && uint64(len(l.Chunks[k])) != size {
			return fail("chunk %d holds %d bytes, its entries' offsets span %d", k, len(l.Chunks[k]), size)
		}
	}
	return nil
}

// DecodeLog decodes raw, a log section of the segment stored under key,
// of frame version version (format v2 of the section unless a v1
// segment), whose day has combos combinations and events events, in a
// catalog of users users. The log's records stay in compressed blocks,
// checked when first read; they share one copy of their bytes, not raw
// (ownBlocks). A block is refused here if its records take more than it
// can hold (logblock.RecordsLimit), so reading it allocates at most
// MaxZstdExpansion times its length. dec decompresses the columns (and
// the caller's reads of the blocks: it must take frames of
// DecoderMaxMemory). Errors wrap frame.ErrCorrupt and name key.
func DecodeLog(key string, raw []byte, version byte, combos int, events uint64, users int, dec *zstd.Decoder) (Log, error) {
	r := frame.Reader{Key: key, Body: raw}
	v1 := version == frame.Version
	if events > maxEntriesInDay {
		r.Fail("event log: %d events in a day", events)
		return Log{}, r.Err
	}
	cols := r.Bytes(r.Count(len(r.Body), 1))
	l := Log{PerBlock: logblock.V1RecordsPerBlock}
	if version == frame.SegmentVersion {
		l.Format = logblock.Tagged
	}
	if !v1 { // before the columns: their record lengths are checked a block at a time
		if l.PerBlock = r.Count(logblock.MaxRecordsPerBlock, 0); r.Err == nil && l.PerBlock == 0 {
			r.Fail("event log: blocks of no record")
		}
	}
	if r.Err != nil {
		return Log{}, r.Err
	}
	// The frame's header is read before its buffer is allocated.
	plain, err := logblock.DecodeFrame(dec, cols, nil, min(maxColumnBytes*events+16, MaxFrameBytes))
	if err != nil {
		r.Fail("event log columns: %v", err)
		return Log{}, r.Err
	}
	c := frame.Reader{Key: key, Body: plain}
	n := c.Count(1<<31-1, 4)
	if c.Err == nil && uint64(n) != events {
		c.Fail("event log: %d entries for the index's %d events", n, events)
	}
	l.Times, l.Users, l.Combos, l.Offs = make([]int64, n), make([]uint32, n), make([]uint32, n), make([]uint32, n+1)
	unit := int64(1)
	if !v1 {
		if u := c.Uvarint(); c.Err == nil && (u == 0 || u > math.MaxInt64) {
			c.Fail("event log: time unit %d", u)
		} else {
			unit = int64(u)
		}
	}
	prev := int64(0)
	for i := range l.Times {
		prev += c.Varint() * unit
		l.Times[i] = prev
	}
	for i := range l.Users {
		switch u := c.Uvarint(); {
		case u == 0:
			l.Users[i] = NoUser
		case u == 1:
			l.Users[i] = ErasedUser
		case u-2 >= uint64(users):
			c.Fail("event log: user %d past the %d users", u-2, users)
		default:
			l.Users[i] = uint32(u - 2)
		}
	}
	for i := range l.Combos {
		v := c.Uvarint()
		if v >= uint64(combos) {
			c.Fail("event log: combination %d past the day's %d", v, combos)
		}
		l.Combos[i] = uint32(v)
	}
	block := uint64(0) // the bytes of the records of entry i's block up to i
	for i := range n {
		if i%l.PerBlock == 0 {
			block = 0
		}
		size := c.Uvarint()
		if block += size; size > maxRecordBytes {
			c.Fail("event log: record %d of %d bytes, past %d", i, size, maxRecordBytes)
		} else if block > maxBlockBytes {
			c.Fail("event log: block %d: records of more than %d bytes", i/l.PerBlock, uint64(maxBlockBytes))
		}
		l.Offs[i+1] = l.Offs[i] + uint32(size) // modulo 2^32 (Log)
	}
	if err := c.End(); err != nil {
		return Log{}, err
	}
	want := (n + l.PerBlock - 1) / l.PerBlock
	blocks := r.Count(want, 1)
	if r.Err == nil && blocks != want {
		r.Fail("event log: %d blocks for %d entries", blocks, n)
	}
	l.Blocks = make([][]byte, 0, blocks)
	for k := 0; k < blocks && r.Err == nil; k++ {
		b := r.Bytes(r.Count(len(r.Body), 1))
		size := l.Offs[min((k+1)*l.PerBlock, n)] - l.Offs[k*l.PerBlock] // exact: less than 4 GiB
		if r.Err == nil && uint64(size) > logblock.RecordsLimit(l.Format, len(b)) {
			r.Fail("event log: block %d of %d bytes: records of %d bytes, more than it can hold", k, len(b), size)
		}
		l.Blocks = append(l.Blocks, b)
	}
	if err := r.End(); err != nil {
		return Log{}, err
	}
	ownBlocks(l.Blocks)
	return l, nil
}

// ownBlocks copies blocks, sub-slices of a log section, into one buffer
// of exactly their bytes, which they share (each capped at its length):
// a decoded log keeps its blocks, and neither the section (its columns'
// frame, a quarter of it on the bench day) nor the caller's segment
// stays held unseen by what counts the blocks' bytes. Cost: one
// allocation and a copy.
func ownBlocks(blocks [][]byte) {
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	buf := make([]byte, 0, n)
	for k, b := range blocks {
		buf = append(buf, b...)
		blocks[k] = buf[len(buf)-len(b) : len(buf) : len(buf)]
	}
}
