package frame

import (
	"encoding/binary"
	"fmt"
)

// Reader decodes a frame's body. The first error sticks: later reads
// return zero values, so a decoder checks Err once at the end (or before
// using a length to allocate).
//
// Its fields are open to decoders that read a body in their own ways (a
// section at a known offset, a run of bytes at once): they keep Off within
// Body and set Err only when it is nil.
type Reader struct {
	Key     string // names the frame in errors
	Body    []byte // the bytes read; Open gives the frame's body
	Off     int    // where in Body the next read starts
	Err     error  // the first error, wrapping ErrCorrupt
	Version byte   // the frame's version (Open)
}

// Fail sets the error, unless one is set: it names the key and the byte
// of the frame at Off (Header+Off: Body is a frame's body).
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: %s: at byte %d: %s", ErrCorrupt, r.Key, Header+r.Off, fmt.Sprintf(format, args...))
	}
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.Body[r.Off:])
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.Off += n
	return v
}

// Varint reads a zig-zag varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.Body[r.Off:])
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.Off += n
	return v
}

// Count reads a length that must not exceed limit nor the bytes left
// divided by minSize (the least each counted item occupies).
func (r *Reader) Count(limit, minSize int) int {
	v := r.Uvarint()
	if r.Err == nil && (v > uint64(limit) || minSize > 0 && v > uint64((len(r.Body)-r.Off)/minSize)) {
		r.Fail("count %d is out of bounds", v)
		return 0
	}
	return int(v)
}

// Bytes reads n bytes: a sub-slice of Body, not a copy.
func (r *Reader) Bytes(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || n > len(r.Body)-r.Off {
		r.Fail("length %d overruns the frame", n)
		return nil
	}
	v := r.Body[r.Off : r.Off+n]
	r.Off += n
	return v
}

// String reads a length-prefixed string of at most limit bytes.
func (r *Reader) String(limit int) string {
	return string(r.Bytes(r.Count(limit, 1)))
}

// Flag reads a byte that must be 0 or 1.
func (r *Reader) Flag() bool {
	b := r.Bytes(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.Fail("flag byte %d", b[0])
	}
	return b[0] == 1
}

// Day32 reads a day number.
func (r *Reader) Day32() int32 {
	v := r.Varint()
	if r.Err == nil && (v < -1<<31 || v > 1<<31-1) {
		r.Fail("day %d is out of range", v)
	}
	return int32(v)
}

// Uint32 reads 4 bytes, little-endian.
func (r *Reader) Uint32() uint32 {
	b := r.Bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// End checks that the whole body was read.
func (r *Reader) End() error {
	if r.Err == nil && r.Off != len(r.Body) {
		r.Fail("%d trailing bytes", len(r.Body)-r.Off)
	}
	return r.Err
}
