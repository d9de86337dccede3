package insights

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// TestDecoderTakesBlocksPastOneGiB: the engine's zstd decoder takes a
// block's frame larger than 1 GiB, which EncodeLog writes (a block's
// records may take up to 4 GiB: 430 of the longest events validation
// lets through fill 1 GiB); it refused them, so such a day was written
// and could not be read back. The frame here states 1 GiB and 2 bytes
// (a kind byte and the records) and holds 40,000: the decoder reads it
// through, to the mismatch, rather than refusing its size; its buffer
// is allocated, not written.
func TestDecoderTakesBlocksPastOneGiB(t *testing.T) {
	_, dec := newCodec()
	const size = 1<<30 + 1                                  // the records' bytes
	const held = 40000                                      // what the frame holds: a raw block; 32768 times is more than size
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x68}     // magic; its size in 8 bytes; a window of 8 MiB, as EncodeAll writes
	frame = binary.LittleEndian.AppendUint64(frame, size+1) // the kind byte and the records
	hdr := uint32(1 | held<<3)                              // the last block, raw
	frame = append(frame, byte(hdr), byte(hdr>>8), byte(hdr>>16))
	frame = append(frame, make([]byte, held)...)
	_, err := new(logblock.Reader).Decode(dec, logblock.Tagged, frame, nil, 1, size)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || !errors.Is(err, zstd.ErrFrameSizeMismatch) {
		t.Errorf("a block's frame of %d bytes: %v, want it read through to its end", size+1, err)
	}
}
