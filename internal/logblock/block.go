package logblock

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Records per block: RecordsPerBlock in the segments written, small enough
// that reading one entry decompresses little (about a hundred kilobytes),
// large enough for the compressor to find what entries share;
// V1RecordsPerBlock in format v1 segments; at most MaxRecordsPerBlock in
// a segment read.
const (
	RecordsPerBlock    = 1024
	V1RecordsPerBlock  = 256
	MaxRecordsPerBlock = 1 << 16
)

// Limits of a block, which writer and reader share. A block's records
// take at most MaxBlockBytes (less than 4 GiB: differences of uint32
// offsets within a block are exact), and at most RecordsLimit of the
// block's length. Its frame decodes into at most MaxFrameBytes
// (columnsLimit of MaxRecordsPerBlock records of MaxBlockBytes): a
// decoder of blocks must take frames that large (zstd
// WithDecoderMaxMemory), each call being limited to what its block's
// records make (Reader.Decode).
const (
	MaxBlockBytes = 1<<32 - 1
	MaxFrameBytes = 4*MaxBlockBytes + 16*MaxRecordsPerBlock + 1024
)

// RecordsLimit returns the most bytes of records a block of format f and
// blockLen bytes holds: what its zstd frame can decompress into
// (MaxZstdExpansion a byte), less a Tagged block's kind byte. A Writer
// writes no block that holds more (it keeps rows when columns compress
// past it), so a reader refuses one before it allocates its records'
// bytes.
func RecordsLimit(f Format, blockLen int) uint64 {
	n := uint64(MaxZstdExpansion) * uint64(blockLen)
	if f == Tagged {
		n = max(n, 1) - 1
	}
	return n
}

// Format is the layout of a log section's blocks.
type Format uint8

const (
	// Rows: one zstd frame of the records laid end to end (segments of
	// frame versions 2 and 3; read, not written).
	Rows Format = iota
	// Tagged: one zstd frame of a kind byte, then the records cut into
	// columns (kindColumns, columns.go) or, when they do not fit the
	// engine's record layout, laid end to end (kindRows). Written.
	Tagged
)

// Kinds of a Tagged block.
const (
	kindRows    = 0
	kindColumns = 1
)

// Writer encodes Tagged blocks, reusing its buffers from one to the
// next. Not safe for concurrent use; its zstd encoder is used only
// through EncodeAll, so writers may share one.
type Writer struct {
	enc   *zstd.Encoder
	split split
	strs  stringsWriter
	cols  [numColumns][]byte
	block []byte // the last block, before compression
	back  []byte // its records laid back, to check them
	check Reader
}

// NewWriter returns a Writer compressing with enc.
func NewWriter(enc *zstd.Encoder) *Writer { return &Writer{enc: enc} }

// Block appends to dst the Tagged block of the records recs, laid end to
// end at offsets offs (one more than the records; offs[0] is recs' start).
// Cost: the records are cut into columns, laid back to check they give
// recs exactly, and compressed by one EncodeAll into dst (a second, of
// the rows, when the columns compress past RecordsLimit): appending the
// blocks of a day to one buffer allocates as it grows, not a block each.
func (w *Writer) Block(dst, recs []byte, offs []uint32) []byte {
	start := len(dst)
	if b, ok := w.columns(recs, offs); ok {
		if dst = w.enc.EncodeAll(b, dst); uint64(len(recs)) <= RecordsLimit(Tagged, len(dst)-start) {
			return dst
		}
	}
	w.block = append(append(w.block[:0], kindRows), recs...)
	return w.enc.EncodeAll(w.block, dst[:start])
}

// Reader decodes blocks, reusing its buffers from one to the next. Not
// safe for concurrent use; its zstd decoder is used only through
// DecodeAll, so readers may share one.
type Reader struct {
	plain []byte // the last Tagged block decompressed
	strs  [numColumns]stringsReader
}

// Decode returns the n records of block, of format f, which must take
// exactly size bytes laid end to end, appended to dst[:0] (reused when
// its capacity is size or more). It allocates what the block's frame
// states, after checking it against what n records of size bytes can
// take (columnsLimit), at most size bytes more, and 4 bytes a value of
// the block's dictionaries (at most size values); the buffers of the
// frame and of the dictionaries are kept for the next call.
func (r *Reader) Decode(dec *zstd.Decoder, f Format, block, dst []byte, n, size int) ([]byte, error) {
	if cap(dst) < size {
		dst = make([]byte, 0, size) // what the block must hold, not what it claims
	}
	if f == Rows {
		data, err := dec.DecodeAll(block, dst[:0])
		if err == nil && len(data) != size {
			err = fmt.Errorf("%d bytes, not %d", len(data), size)
		}
		return data, err
	}
	plain, err := DecodeFrame(dec, block, r.plain, columnsLimit(n, size))
	if cap(plain) > cap(r.plain) {
		r.plain = plain[:0]
	}
	switch {
	case err != nil:
		return nil, err
	case len(plain) == 0:
		return nil, fmt.Errorf("an empty block")
	case plain[0] == kindRows:
		if len(plain)-1 != size {
			return nil, fmt.Errorf("%d bytes, not %d", len(plain)-1, size)
		}
		return append(dst[:0], plain[1:]...), nil
	case plain[0] == kindColumns:
		return r.assemble(dst[:0], plain[1:], n, size)
	}
	return nil, fmt.Errorf("block kind %d", plain[0])
}
