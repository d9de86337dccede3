package logblock

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func codec(t testing.TB) (*zstd.Encoder, *zstd.Decoder) {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// TestBlockRoundTrip: a block decodes to its records, into the buffer
// given when it is large enough.
func TestBlockRoundTrip(t *testing.T) {
	enc, dec := codec(t)
	recs := bytes.Repeat([]byte("principal|request|city|"), 100)
	block := Encode(enc, recs)
	buf := make([]byte, 0, 4096)
	got, err := Decode(dec, block, buf, len(recs))
	if err != nil || !bytes.Equal(got, recs) {
		t.Fatalf("Decode = %q, %v", got, err)
	}
	if &got[0] != &buf[:1][0] {
		t.Errorf("Decode allocated though its buffer was large enough")
	}
}

// TestBlockWrongSize: a block that decompresses to another size than the
// columns give is refused, and one that states more is refused before its
// buffer grows past that size.
func TestBlockWrongSize(t *testing.T) {
	enc, dec := codec(t)
	recs := bytes.Repeat([]byte{7}, 1000)
	block := Encode(enc, recs)
	for _, size := range []int{0, 999, 1001} {
		if _, err := Decode(dec, block, nil, size); err == nil {
			t.Errorf("size %d: a block of 1000 bytes decoded", size)
		}
	}
	if _, err := Decode(dec, []byte("not zstd"), nil, 8); err == nil {
		t.Errorf("garbage decoded")
	}
	// 64 MiB of zeros compress to a few kilobytes; told 1 KiB, the decoder
	// must not allocate the 64 MiB.
	big := Encode(enc, make([]byte, 64<<20))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := Decode(dec, big, nil, 1<<10); err == nil {
		t.Errorf("a block of 64 MiB decoded as 1 KiB")
	}
	runtime.ReadMemStats(&m1)
	if n := m1.TotalAlloc - m0.TotalAlloc; n > 8<<20 {
		t.Errorf("a block stated 64 MiB and allocated %d bytes for 1 KiB", n)
	}
}

// TestDecodeFrameLimits: a frame stating more than the limit is refused
// having allocated nothing of that size; within it, it decodes.
func TestDecodeFrameLimits(t *testing.T) {
	enc, dec := codec(t)
	plain := make([]byte, 32<<20)
	frame := enc.EncodeAll(plain, nil)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := DecodeFrame(dec, frame, 1<<20); err == nil {
		t.Errorf("a frame of 32 MiB decoded under a limit of 1 MiB")
	}
	runtime.ReadMemStats(&m1)
	if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing a frame allocated %d bytes", n)
	}
	if got, err := DecodeFrame(dec, frame, 32<<20); err != nil || len(got) != len(plain) {
		t.Errorf("DecodeFrame within its limit = %d bytes, %v", len(got), err)
	}
	if _, err := DecodeFrame(dec, []byte{1, 2, 3}, 100); err == nil {
		t.Errorf("garbage decoded")
	}
}
