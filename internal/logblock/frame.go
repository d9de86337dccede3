package logblock

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// MaxZstdExpansion bounds what a zstd frame of n bytes holds: at most
// n*MaxZstdExpansion bytes (a 4-byte RLE block yields at most 128 KiB), so
// a decoder never allocates more than the frame can be.
const MaxZstdExpansion = 1 << 15

// DecodeFrame returns what the zstd frame holds, at most limit bytes (and
// MaxZstdExpansion times the frame), in dst[:0] if its capacity is what
// the frame states, else in a new buffer. The frame's header is read
// before the buffer is allocated: a frame that does not decode, or states
// more than limit, costs nothing; a stated size is the buffer's.
func DecodeFrame(dec *zstd.Decoder, frame, dst []byte, limit uint64) ([]byte, error) {
	limit = min(limit, uint64(MaxZstdExpansion*len(frame)))
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return nil, err
	}
	if h.HasFCS {
		if h.FrameContentSize > limit {
			return nil, fmt.Errorf("a frame of %d bytes, past the %d it can take", h.FrameContentSize, limit)
		}
		limit = h.FrameContentSize
	}
	if uint64(cap(dst)) < limit {
		dst = make([]byte, 0, limit)
	}
	return dec.DecodeAll(frame, dst[:0:limit])
}
