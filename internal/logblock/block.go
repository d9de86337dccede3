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

// Encode returns the block of records recs, laid end to end: one zstd
// frame. Cost: one EncodeAll of len(recs) bytes.
func Encode(enc *zstd.Encoder, recs []byte) []byte {
	return enc.EncodeAll(recs, nil)
}

// Decode returns the records of block, which must decompress to exactly
// size bytes, appended to dst[:0] (reused when its capacity is size or
// more, else a buffer of size bytes is allocated, never more).
func Decode(dec *zstd.Decoder, block, dst []byte, size int) ([]byte, error) {
	if cap(dst) < size {
		dst = make([]byte, 0, size) // what the block must hold, not what it claims
	}
	data, err := dec.DecodeAll(block, dst[:0])
	if err == nil && len(data) != size {
		err = fmt.Errorf("%d bytes, not %d", len(data), size)
	}
	return data, err
}
