package insights

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Every file the engine writes through its store is one frame:
//
//	magic "INSI" | kind (1 byte) | version (1 byte) | body | CRC-32C of all before (4 bytes, little-endian)
//
// store/FORMAT.md describes each kind's body. Decoders check the frame
// before reading the body and return errors wrapping ErrCorrupt that name
// the key; they never panic on any input.

const (
	frameMagic   = "INSI"
	frameVersion = 2 // of log records, manifests, user objects, catalogs before catalogVersion, and of segments format v1
	frameHeader  = len(frameMagic) + 2
	frameTrailer = 4
)

// segmentVersion is the frame version of the segments written (format v3,
// segment.go); frames of version segmentV2Version (format v2) and
// frameVersion (format v1) are still read.
const (
	segmentVersion   = 4
	segmentV2Version = 3
)

// catalogVersion is the frame version of the catalogs written, whose
// users are a frame of their own (kindUsers, catalog.go); catalogs of
// version frameVersion, the users inside, are still read.
const catalogVersion = 3

// The kinds of frame.
const (
	kindSegment  byte = 'S' // one day's sealed index
	kindCatalog  byte = 'C' // dictionaries, user counts, deleted users, sketches
	kindUsers    byte = 'U' // user keys and per-user days, named by a catalog
	kindWAL      byte = 'W' // one group of batches of events
	kindErase    byte = 'E' // a log record erasing one user, on a store with replicas
	kindManifest byte = 'M' // the current catalog, segments and log position
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newFrame starts a frame of kind k.
func newFrame(k byte) []byte {
	v := byte(frameVersion)
	switch k {
	case kindSegment:
		v = segmentVersion
	case kindCatalog:
		v = catalogVersion
	}
	return append([]byte(frameMagic), k, v)
}

// sealFrame appends the checksum.
func sealFrame(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// openFrame checks the frame of kind k stored under key and returns a
// reader over its body.
func openFrame(key string, k byte, b []byte) (*reader, error) {
	if len(b) < frameHeader+frameTrailer || string(b[:len(frameMagic)]) != frameMagic || b[len(frameMagic)] != k {
		return nil, fmt.Errorf("%w: %s: not a %q frame", ErrCorrupt, key, k)
	}
	v := b[len(frameMagic)+1]
	if v != frameVersion && (k != kindSegment || v != segmentVersion && v != segmentV2Version) && (k != kindCatalog || v != catalogVersion) {
		return nil, fmt.Errorf("%w: %s: version %d, this build reads %d (and %d and %d of segments, %d of catalogs)", ErrCorrupt, key, v, frameVersion, segmentV2Version, segmentVersion, catalogVersion)
	}
	body := b[:len(b)-frameTrailer]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(body):]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, key)
	}
	return &reader{key: key, b: body[frameHeader:], version: v}, nil
}

// Appenders of the body's primitives: unsigned and zig-zag varints, and
// length-prefixed strings.
func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// reader decodes a frame's body. The first error sticks: later reads
// return zero values, so a decoder checks err once at the end (or before
// using a length to allocate).
type reader struct {
	key     string
	b       []byte
	off     int
	err     error
	version byte // the frame's (openFrame)
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: at byte %d: %s", ErrCorrupt, r.key, frameHeader+r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// count reads a length that must not exceed limit nor the bytes left
// divided by minSize (the least each counted item occupies).
func (r *reader) count(limit, minSize int) int {
	v := r.uvarint()
	if r.err == nil && (v > uint64(limit) || minSize > 0 && v > uint64((len(r.b)-r.off)/minSize)) {
		r.fail("count %d is out of bounds", v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("length %d overruns the frame", n)
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) string(limit int) string {
	return string(r.bytes(r.count(limit, 1)))
}

// flag reads a byte that must be 0 or 1.
func (r *reader) flag() bool {
	b := r.bytes(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.fail("flag byte %d", b[0])
	}
	return b[0] == 1
}

// day32 reads a day number.
func (r *reader) day32() int32 {
	v := r.varint()
	if r.err == nil && (v < -1<<31 || v > 1<<31-1) {
		r.fail("day %d is out of range", v)
	}
	return int32(v)
}

// end checks that the whole body was read.
func (r *reader) end() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}
