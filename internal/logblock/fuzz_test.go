package logblock

import (
	"bytes"
	"testing"
)

// FuzzDecode: any block and size either decode to exactly size bytes or
// fail; never panic, never allocate past size.
func FuzzDecode(f *testing.F) {
	enc, dec := codec(f)
	f.Add(Encode(enc, []byte("a record\x00another")), 16)
	f.Add(Encode(enc, nil), 0)
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd}, 4)
	f.Fuzz(func(t *testing.T, block []byte, size int) {
		if size < 0 || size > 1<<20 {
			return
		}
		got, err := Decode(dec, block, nil, size)
		if err != nil {
			return
		}
		if len(got) != size {
			t.Fatalf("decoded %d bytes, told %d", len(got), size)
		}
		if again := Encode(enc, got); !bytes.Equal(got, mustDecode(t, again, size)) {
			t.Fatalf("round trip differs")
		}
	})
}

func mustDecode(t *testing.T, block []byte, size int) []byte {
	t.Helper()
	_, dec := codec(t)
	got, err := Decode(dec, block, nil, size)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
