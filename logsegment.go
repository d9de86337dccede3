package insights

import (
	"github.com/insightslab/insights/internal/logblock"
	"github.com/insightslab/insights/internal/segment"
	"github.com/klauspost/compress/zstd"
)

// A day segment ends with the day's event log (internal/segment's Log,
// EncodeLog and DecodeLog): its columns are read when the log is first
// needed; a block only when one of its records is (recordCursor), so
// finding a user's entries of a day decompresses a few blocks, not the
// day. These convert the engine's eventLog to and from the package's Log
// by copying slice headers.

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
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(segment.MaxFrameBytes), zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true))
	return enc, dec
}

// encodeLog returns the log section of l (segment.EncodeLog). Blocks
// already compressed and tagged are written as they are; blocks of rows
// (an older segment's) are read and written again. It fails only if such
// a block is corrupt, or if l's columns, offsets and chunks disagree
// (segment.EncodeLog checks them: a bug, never written as a segment).
func encodeLog(l *eventLog, enc *zstd.Encoder) ([]byte, error) {
	if l.blocks != nil && l.format != logblock.Tagged {
		p, err := l.plain()
		if err != nil {
			return nil, err
		}
		l = &p
	}
	return segment.EncodeLog(&segment.Log{Times: l.times, Users: l.users, Combos: l.combos, Offs: l.offs, Chunks: l.chunks,
		Blocks: l.blocks, PerBlock: l.perBlock, Format: l.format}, enc)
}

// decodeLog decodes a log section of the segment stored under key
// (segment.DecodeLog), of frame version version, whose day has combos
// combinations and events events, in a catalog of users users. The blocks
// are checked when first read.
func decodeLog(key string, raw []byte, version byte, combos int, events uint64, users int, dec *zstd.Decoder) (eventLog, error) {
	l, err := segment.DecodeLog(key, raw, version, combos, events, users, dec)
	if err != nil {
		return eventLog{}, err
	}
	return eventLog{times: l.Times, users: l.Users, combos: l.Combos, offs: l.Offs, blocks: l.Blocks, perBlock: l.PerBlock,
		format: l.Format, dec: dec, key: key}, nil
}
