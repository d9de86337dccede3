package logblock

import (
	"encoding/binary"
	"fmt"
)

// src reads a column's primitives. The first error sticks: later reads
// return zero values.
type src struct {
	b   []byte
	err error
}

func (s *src) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
	s.b = nil
}

func (s *src) uvarint() uint64 {
	v, n := binary.Uvarint(s.b)
	if n <= 0 {
		s.fail("bad varint")
		return 0
	}
	s.b = s.b[n:]
	return v
}

// varint reads a zig-zag varint (binary.AppendVarint).
func (s *src) varint() int64 {
	u := s.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (s *src) byte() byte {
	if len(s.b) == 0 {
		s.fail("column too short")
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return v
}

// take returns the next n bytes.
func (s *src) take(n uint64) []byte {
	if n > uint64(len(s.b)) {
		s.fail("%d bytes past the column's end", n)
		return nil
	}
	v := s.b[:n]
	s.b = s.b[n:]
	return v
}
