package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// TestBytes checks a frame's bytes by hand (store/FORMAT.md).
func TestBytes(t *testing.T) {
	want := []byte("INSIC\x03body")
	want = binary.LittleEndian.AppendUint32(want, crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)))
	if got := Seal(append(New(KindCatalog), "body"...)); !bytes.Equal(got, want) {
		t.Fatalf("frame %q, want %q", got, want)
	}
	if got := New(KindSegment); string(got) != "INSIS\x04" {
		t.Fatalf("a segment starts %q", got)
	}
	if got := New(KindUsers); string(got) != "INSIU\x02" {
		t.Fatalf("a users frame starts %q", got)
	}
	b := AppendFlag(AppendFlag(AppendString(AppendVarint(AppendUvarint(nil, 300), -2), "ab"), true), false)
	if string(b) != "\xac\x02\x03\x02ab\x01\x00" {
		t.Fatalf("primitives %q", b)
	}
}

func TestOpen(t *testing.T) {
	for _, c := range []struct {
		k byte
		v byte
	}{{KindWAL, Version}, {KindSegment, Version}, {KindSegment, SegmentV2Version}, {KindSegment, SegmentVersion},
		{KindCatalog, Version}, {KindCatalog, CatalogVersion}, {KindUsers, Version}} {
		b := Seal([]byte("INSI" + string([]byte{c.k, c.v}) + "xyz"))
		r, err := Open("k", c.k, b)
		if err != nil || string(r.Body) != "xyz" || r.Version != c.v || r.Key != "k" {
			t.Fatalf("kind %c version %d: %+v, %v", c.k, c.v, r, err)
		}
	}
	good := Seal(append(New(KindWAL), "xyz"...))
	damaged := bytes.Clone(good)
	damaged[7] ^= 1
	for _, c := range []struct {
		name, why string
		k         byte
		b         []byte
	}{
		{"short", "not a 'W' frame", KindWAL, good[:Header+Trailer-1]},
		{"another kind", "not a 'C' frame", KindCatalog, good},
		{"another magic", "not a 'W' frame", KindWAL, append([]byte("INSX"), good[4:]...)},
		{"a version of segments", "version 4", KindWAL, Seal([]byte("INSIW\x04"))},
		{"a segment of version 1", "version 1", KindSegment, Seal([]byte("INSIS\x01"))},
		{"a catalog's version of users", "version 3", KindUsers, Seal([]byte("INSIU\x03"))},
		{"a flipped byte", "checksum mismatch", KindWAL, damaged},
	} {
		if _, err := Open("wal/3", c.k, c.b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "wal/3: "+c.why) {
			t.Errorf("%s: %v, want ErrCorrupt, the key and %q", c.name, err, c.why)
		}
	}
}

func TestReader(t *testing.T) {
	b := AppendUvarint(nil, 3)
	b = AppendVarint(b, -40000)
	b = AppendString(b, "abc")
	b = AppendFlag(b, true)
	b = binary.LittleEndian.AppendUint32(b, 0xdeadbeef)
	r := Reader{Key: "k", Body: b}
	if n, d, s, f, u := r.Count(3, 1), r.Day32(), r.String(3), r.Flag(), r.Uint32(); n != 3 || d != -40000 || s != "abc" || !f || u != 0xdeadbeef || r.End() != nil {
		t.Fatalf("read %d %d %q %v %x, %v", n, d, s, f, u, r.Err)
	}
	for _, c := range []struct {
		name, why string
		b         []byte
		read      func(*Reader)
	}{
		{"a bad varint", "at byte 6: bad varint", []byte{0x80}, func(r *Reader) { r.Uvarint() }},
		{"a bad zig-zag varint", "at byte 6: bad varint", nil, func(r *Reader) { r.Varint() }},
		{"a count past the limit", "count 4 is out of bounds", AppendUvarint(nil, 4), func(r *Reader) { r.Count(3, 0) }},
		{"a count past the bytes", "count 2 is out of bounds", []byte{2, 0, 0, 0}, func(r *Reader) { r.Count(9, 2) }},
		{"a string past the frame", "length 5 overruns the frame", []byte{5, 'a'}, func(r *Reader) { r.Bytes(int(r.Uvarint())) }},
		{"a string past its limit", "count 2 is out of bounds", []byte{2, 'a', 'b'}, func(r *Reader) { r.String(1) }},
		{"a flag byte", "at byte 7: flag byte 2", []byte{2}, func(r *Reader) { r.Flag() }},
		{"a day out of range", "day 2147483648 is out of range", AppendVarint(nil, 1<<31), func(r *Reader) { r.Day32() }},
		{"a short uint32", "length 4 overruns", []byte{1, 2, 3}, func(r *Reader) { r.Uint32() }},
		{"trailing bytes", "at byte 7: 2 trailing bytes", []byte{0, 1, 2}, func(r *Reader) { r.Flag() }},
	} {
		r := Reader{Key: "seg/1", Body: c.b}
		c.read(&r)
		err := r.End()
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "seg/1: ") || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want ErrCorrupt, the key and %q", c.name, err, c.why)
		}
	}
	r = Reader{Body: []byte{2, 1, 1, 'a'}}
	r.Flag()
	first := r.Err
	r.Fail("a second error")
	if r.Uvarint() != 0 || r.String(9) != "" || r.Flag() || r.End() != first {
		t.Fatalf("reads after an error: the first error does not stick (%v)", r.Err)
	}
}

// FuzzOpen: any bytes open as a frame of each kind, with an error
// wrapping ErrCorrupt, or to a reader over exactly the body; reading them
// as primitives never panics nor leaves the body.
func FuzzOpen(f *testing.F) {
	f.Add(Seal(append(New(KindWAL), 1, 2, 3)))
	f.Add(Seal(append(New(KindSegment), AppendString(nil, "x")...)))
	f.Add([]byte("INSIW\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []byte{KindSegment, KindCatalog, KindWAL, KindErase, KindManifest} {
			for _, b := range [][]byte{b, Seal(bytes.Clone(b[:max(len(b)-Trailer, 0)]))} {
				r, err := Open("f", k, b)
				if err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("error %v does not wrap ErrCorrupt", err)
					}
					continue
				}
				if !bytes.Equal(r.Body, b[Header:len(b)-Trailer]) {
					t.Fatalf("body %q of frame %q", r.Body, b)
				}
				for r.Err == nil && r.Off < len(r.Body) {
					switch r.Uvarint() % 5 {
					case 0:
						r.String(1 << 20)
					case 1:
						r.Day32()
					case 2:
						r.Flag()
					case 3:
						r.Uint32()
					default:
						r.Bytes(r.Count(1<<20, 3))
					}
					if r.Off < 0 || r.Off > len(r.Body) {
						t.Fatalf("offset %d outside the body of %d bytes", r.Off, len(r.Body))
					}
				}
				if err := r.End(); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
			}
		}
	})
}
