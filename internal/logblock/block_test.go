package logblock

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
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

// testRecord is a record's fields, written as the engine writes them
// (store/FORMAT.md, "Event log record").
type testRecord struct {
	text     [numText]string
	steps    []testStep
	mfa      []string
	ca       [][2]string
	lat, lon float64
}

type testStep struct {
	time                int64
	method, detail, req string
	ok                  bool
}

func str(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }

func (r testRecord) bytes() []byte {
	var b []byte
	for _, s := range r.text {
		b = str(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.steps)))
	for _, s := range r.steps {
		b = binary.AppendVarint(b, s.time)
		b = str(b, s.method)
		ok := byte(0)
		if s.ok {
			ok = 1
		}
		b = append(b, ok)
		b = str(b, s.detail)
		b = str(b, s.req)
	}
	b = binary.AppendUvarint(b, uint64(len(r.mfa)))
	for _, s := range r.mfa {
		b = str(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.ca)))
	for _, p := range r.ca {
		b = str(str(b, p[0]), p[1])
	}
	if r.lat != 0 || r.lon != 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.lat))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.lon))
	}
	return b
}

// records returns n records of random fields: GUIDs (some upper case),
// IPv4 and IPv6 addresses and other strings, repeated values, steps, and
// every fifth record erased (empty).
func records(rng *rand.Rand, n int) (recs []byte, offs []uint32) {
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	guid := func() string {
		g := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&(1<<48-1))
		if rng.IntN(10) == 0 {
			g = fmt.Sprintf("%08X-%04x-%04x-%04x-%012x", rng.Uint32(), 1, 2, 3, 4)
		}
		return g
	}
	offs = []uint32{0}
	t := int64(1736000000e9)
	for range n {
		if rng.IntN(5) == 0 {
			offs = append(offs, uint32(len(recs)))
			continue
		}
		var r testRecord
		r.text = [numText]string{pick("", "svc-1"), guid(), pick(guid(), "", "corr"), pick("", "s1", "s2"), "",
			pick(fmt.Sprintf("10.0.%d.%d", rng.IntN(3), rng.IntN(256)), "2001:db8::1", "010.1.1.1", ""),
			pick("Paris", "Lyon", ""), pick("IDF", ""), pick("Mozilla/5.0 (X11)", "curl/8"), pick("Ann", "Bob", "")}
		t += int64(rng.IntN(60)) * 1e9
		for range rng.IntN(3) {
			r.steps = append(r.steps, testStep{time: pick2(rng, t+int64(rng.IntN(5))*1e9, 0), method: pick("Password", "SMS"),
				ok: rng.IntN(2) == 0, detail: pick("", "MFA done"), req: pick("singleFactor", "multiFactor")})
		}
		for range rng.IntN(3) {
			r.mfa = append(r.mfa, pick("p1", "p2"))
		}
		for range rng.IntN(3) {
			r.ca = append(r.ca, [2]string{pick("ca1", "ca2"), pick("success", "notApplied")})
		}
		if rng.IntN(3) == 0 {
			r.lat, r.lon = rng.Float64()*180-90, rng.Float64()*360-180
		}
		recs = append(recs, r.bytes()...)
		offs = append(offs, uint32(len(recs)))
	}
	return recs, offs
}

func pick2(rng *rand.Rand, a, b int64) int64 {
	if rng.IntN(4) == 0 {
		return b
	}
	return a
}

// kindOf returns the kind byte of a Tagged block.
func kindOf(t *testing.T, dec *zstd.Decoder, block []byte) byte {
	t.Helper()
	plain, err := dec.DecodeAll(block, make([]byte, 0, 64<<20))
	if err != nil || len(plain) == 0 {
		t.Fatalf("block: %v", err)
	}
	return plain[0]
}

// TestColumnsRoundTrip: records of the engine's layout are cut into
// columns and decode to exactly the records, for blocks of 1 to 1,024,
// by one Writer and one Reader.
func TestColumnsRoundTrip(t *testing.T) {
	enc, dec := codec(t)
	rng := rand.New(rand.NewPCG(1, 2))
	w, r := NewWriter(enc), new(Reader) // reused: their buffers must not leak from one block to the next
	for _, n := range []int{1024, 1, 2, 7, 100, 1024} {
		for range 5 {
			recs, offs := records(rng, n)
			block := w.Block(nil, recs, offs)
			if k := kindOf(t, dec, block); k != kindColumns && len(recs) > 0 {
				t.Fatalf("%d records: block kind %d, want columns", n, k)
			}
			got, err := r.Decode(dec, Tagged, block, nil, n, len(recs))
			if err != nil || !bytes.Equal(got, recs) {
				t.Fatalf("%d records: Decode = %v, equal %v", n, err, bytes.Equal(got, recs))
			}
		}
	}
}

// TestNotARecordKeptAsRows: a block with a record not of the engine's
// layout (trailing bytes, a short string, a non-minimal varint) is kept
// as rows and decodes exactly.
func TestNotARecordKeptAsRows(t *testing.T) {
	enc, dec := codec(t)
	rng := rand.New(rand.NewPCG(3, 4))
	good, offs := records(rng, 10)
	for _, bad := range [][]byte{
		[]byte("x"),
		append(testRecord{}.bytes(), 1, 2, 3),
		{5, 'a'},
		append([]byte{0x80, 0x00}, testRecord{}.bytes()[1:]...),
	} {
		recs := append(bytes.Clone(good), bad...)
		offs2 := append(append([]uint32(nil), offs...), uint32(len(recs)))
		block := encodeBlock(enc, recs, offs2)
		if k := kindOf(t, dec, block); k != kindRows {
			t.Errorf("record %x: block kind %d, want rows", bad, k)
		}
		if got, err := decodeBlock(dec, Tagged, block, nil, 11, len(recs)); err != nil || !bytes.Equal(got, recs) {
			t.Errorf("record %x: Decode = %v", bad, err)
		}
	}
}

// TestStringModes: each string column mode is chosen when it should be
// and gives back its values.
func TestStringModes(t *testing.T) {
	vals := func(ss ...string) [][]byte {
		var out [][]byte
		for _, s := range ss {
			out = append(out, []byte(s))
		}
		return out
	}
	g1, g2 := "0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	for _, c := range []struct {
		name string
		vals [][]byte
		mode byte
	}{
		{"none", nil, modePlain},
		{"distinct", vals("a", "b", "c"), modePlain},
		{"repeated", vals("a", "b", "a", "a"), modeDict},
		{"GUIDs and others", vals(g1, "x", g2, "0F8FAD5B-D9CB-469F-A165-70867728950E"), modeGUID},
		{"IPv4 and others", vals("10.0.0.1", "::1", "1.2.3.4", "01.2.3.4"), modeIPv4},
		{"few GUIDs", vals(g1, "x", "y"), modePlain},
	} {
		col := new(stringsWriter).appendStrings(nil, c.vals)
		if col[0] != c.mode {
			t.Errorf("%s: mode %d, want %d", c.name, col[0], c.mode)
		}
		var r stringsReader
		r.reset(col, uint64(len(col)))
		for i, v := range c.vals {
			if got := r.next(); !bytes.Equal(got, v) {
				t.Errorf("%s: value %d = %q, want %q", c.name, i, got, v)
			}
		}
		if err := r.end(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestRowsBlock: a block of frame version 3 (Rows) decodes to its records,
// into the buffer given when it is large enough.
func TestRowsBlock(t *testing.T) {
	enc, dec := codec(t)
	recs := bytes.Repeat([]byte("principal|request|city|"), 100)
	block := enc.EncodeAll(recs, nil)
	buf := make([]byte, 0, 4096)
	got, err := decodeBlock(dec, Rows, block, buf, 100, len(recs))
	if err != nil || !bytes.Equal(got, recs) {
		t.Fatalf("Decode = %q, %v", got, err)
	}
	if &got[0] != &buf[:1][0] {
		t.Errorf("Decode allocated though its buffer was large enough")
	}
}

// TestBlockWrongSize: a block that decodes to another size than the
// columns give, or to fewer or more records, is refused, of either format.
func TestBlockWrongSize(t *testing.T) {
	enc, dec := codec(t)
	recs, offs := records(rand.New(rand.NewPCG(5, 6)), 50)
	for _, f := range []Format{Rows, Tagged} {
		block := enc.EncodeAll(recs, nil)
		if f == Tagged {
			block = encodeBlock(enc, recs, offs)
		}
		for _, size := range []int{0, len(recs) - 1, len(recs) + 1} {
			if _, err := decodeBlock(dec, f, block, nil, 50, size); err == nil {
				t.Errorf("format %d: a block of %d bytes decoded as %d", f, len(recs), size)
			}
		}
		if _, err := decodeBlock(dec, f, []byte("not zstd"), nil, 1, 8); err == nil {
			t.Errorf("format %d: garbage decoded", f)
		}
	}
	rows := encodeBlock(enc, []byte("not a record"), []uint32{0, 12})
	for _, size := range []int{11, 13} {
		if _, err := decodeBlock(dec, Tagged, rows, nil, 1, size); err == nil {
			t.Errorf("a block of rows of 12 bytes decoded as %d", size)
		}
	}
	block := encodeBlock(enc, recs, offs)
	for _, n := range []int{49, 51} {
		if _, err := decodeBlock(dec, Tagged, block, nil, n, len(recs)); err == nil {
			t.Errorf("a block of 50 records decoded as %d", n)
		}
	}
}

// TestBlockHostileSize: a block whose frame states far more than its
// records can take is refused before its buffer is allocated.
func TestBlockHostileSize(t *testing.T) {
	enc, dec := codec(t)
	big := enc.EncodeAll(append([]byte{kindRows}, make([]byte, 64<<20)...), nil)
	for _, f := range []Format{Rows, Tagged} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if _, err := decodeBlock(dec, f, big, nil, 4, 1<<10); err == nil {
			t.Errorf("format %d: a block of 64 MiB decoded as 1 KiB", f)
		}
		runtime.ReadMemStats(&m1)
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
			t.Errorf("format %d: a block stating 64 MiB allocated %d bytes for 1 KiB", f, n)
		}
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
	if _, err := DecodeFrame(dec, frame, nil, 1<<20); err == nil {
		t.Errorf("a frame of 32 MiB decoded under a limit of 1 MiB")
	}
	runtime.ReadMemStats(&m1)
	if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing a frame allocated %d bytes", n)
	}
	if got, err := DecodeFrame(dec, frame, nil, 32<<20); err != nil || len(got) != len(plain) {
		t.Errorf("DecodeFrame within its limit = %d bytes, %v", len(got), err)
	}
	if _, err := DecodeFrame(dec, []byte{1, 2, 3}, nil, 100); err == nil {
		t.Errorf("garbage decoded")
	}
}

func encodeBlock(enc *zstd.Encoder, recs []byte, offs []uint32) []byte {
	return NewWriter(enc).Block(nil, recs, offs)
}

func decodeBlock(dec *zstd.Decoder, f Format, block, dst []byte, n, size int) ([]byte, error) {
	return new(Reader).Decode(dec, f, block, dst, n, size)
}
