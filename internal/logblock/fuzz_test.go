package logblock

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// FuzzDecode: any block, record count and size, of either format, decode
// to exactly size bytes or fail; never panic.
func FuzzDecode(f *testing.F) {
	enc, dec := codec(f)
	recs, offs := records(rand.New(rand.NewPCG(7, 8)), 20)
	f.Add(encodeBlock(enc, recs, offs), uint16(20), uint32(len(recs)), true)
	f.Add(enc.EncodeAll(recs, nil), uint16(20), uint32(len(recs)), false)
	f.Add(encodeBlock(enc, []byte("x"), []uint32{0, 1}), uint16(1), uint32(1), true)
	f.Fuzz(func(t *testing.T, block []byte, n uint16, size uint32, tagged bool) {
		if size > 1<<20 {
			return
		}
		format := Rows
		if tagged {
			format = Tagged
		}
		got, err := decodeBlock(dec, format, block, nil, int(n), int(size))
		if err == nil && len(got) != int(size) {
			t.Fatalf("decoded %d bytes, told %d", len(got), size)
		}
	})
}

// FuzzRoundTrip: any records (data: each a uvarint length, then its
// bytes) come back exactly from their block, cut in columns or not.
func FuzzRoundTrip(f *testing.F) {
	enc, dec := codec(f)
	recs, offs := records(rand.New(rand.NewPCG(9, 10)), 30)
	var seed []byte
	for i := range len(offs) - 1 {
		seed = binary.AppendUvarint(seed, uint64(offs[i+1]-offs[i]))
		seed = append(seed, recs[offs[i]:offs[i+1]]...)
	}
	f.Add(seed)
	f.Add([]byte{0, 0, 3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []byte
		offs := []uint32{0}
		for s := (src{b: data}); s.left() > 0 && len(offs) <= RecordsPerBlock; {
			rec := s.take(s.uvarint())
			if s.err != nil {
				break
			}
			recs = append(recs, rec...)
			offs = append(offs, uint32(len(recs)))
		}
		n := len(offs) - 1
		got, err := decodeBlock(dec, Tagged, encodeBlock(enc, recs, offs), nil, n, len(recs))
		if err != nil || !bytes.Equal(got, recs) {
			t.Fatalf("%d records of %d bytes: %v, equal %v", n, len(recs), err, bytes.Equal(got, recs))
		}
	})
}

// FuzzAssemble: any column block (a Tagged block decompressed, after its
// kind byte), record count and size assemble to exactly size bytes or
// fail; never panic. FuzzDecode's blocks carry zstd's checksum, so its
// mutations seldom reach the columns: this fuzzes them directly.
func FuzzAssemble(f *testing.F) {
	recs, offs := records(rand.New(rand.NewPCG(13, 14)), 5)
	if b, ok := NewWriter(nil).columns(recs, offs); ok {
		f.Add(bytes.Clone(b[1:]), uint16(5), uint32(len(recs)))
	}
	f.Fuzz(func(t *testing.T, b []byte, n uint16, size uint32) {
		if size > 1<<16 {
			return
		}
		got, err := new(Reader).assemble(nil, b, int(n), int(size))
		if err == nil && len(got) != int(size) {
			t.Fatalf("assembled %d bytes, told %d", len(got), size)
		}
	})
}
