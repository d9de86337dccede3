package logblock

import (
	"encoding/binary"
	"fmt"
)

// src reads a column's primitives from b, from off on. The first error
// sticks: later reads return zero values. Reads move off, never b, so a
// src inside a heap object costs no write barrier per read.
type src struct {
	b   []byte
	off int
	err error
}

func (s *src) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
	s.off = len(s.b)
}

// left returns the number of bytes not read.
func (s *src) left() int { return len(s.b) - s.off }

func (s *src) uvarint() uint64 {
	if s.off < len(s.b) && s.b[s.off] < 0x80 {
		s.off++
		return uint64(s.b[s.off-1])
	}
	v, n := binary.Uvarint(s.b[s.off:])
	if n <= 0 {
		s.fail("bad varint")
		return 0
	}
	s.off += n
	return v
}

// varint reads a zig-zag varint (binary.AppendVarint).
func (s *src) varint() int64 {
	u := s.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (s *src) byte() byte {
	if s.off >= len(s.b) {
		s.fail("column too short")
		return 0
	}
	s.off++
	return s.b[s.off-1]
}

// take returns the next n bytes.
func (s *src) take(n uint64) []byte {
	if n > uint64(s.left()) {
		s.fail("%d bytes past the column's end", n)
		return nil
	}
	v := s.b[s.off : s.off+int(n)]
	s.off += int(n)
	return v
}
