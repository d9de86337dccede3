package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// ErrCorrupt is wrapped by every error of this package: stored data failed
// a checksum, version or shape check. The root package exports it as
// insights.ErrCorrupt.
var ErrCorrupt = errors.New("insights: corrupt data")

const (
	Magic   = "INSI"         // the first bytes of every frame
	Version = 2              // of log records, manifests, user objects, catalogs before CatalogVersion, and of segments format v1
	Header  = len(Magic) + 2 // magic, kind, version: the bytes before the body
	Trailer = 4              // the checksum: the bytes after the body
)

// SegmentVersion is the frame version of the segments written (format v3,
// internal/segment); frames of version SegmentV2Version (format v2)
// and Version (format v1) are still read.
const (
	SegmentVersion   = 4
	SegmentV2Version = 3
)

// CatalogVersion is the frame version of the catalogs written, whose
// users are a frame of their own (KindUsers, the root's catalog.go);
// catalogs of version Version, the users inside, are still read.
const CatalogVersion = 3

// The kinds of frame.
const (
	KindSegment  byte = 'S' // one day's sealed index
	KindCatalog  byte = 'C' // dictionaries, user counts, deleted users, sketches
	KindUsers    byte = 'U' // user keys and per-user days, named by a catalog
	KindWAL      byte = 'W' // one group of batches of events
	KindErase    byte = 'E' // a log record erasing one user, on a store with replicas
	KindManifest byte = 'M' // the current catalog, segments and log position
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b, the checksum of frames
// and of the sections of a segment.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// New starts a frame of kind k, of the version this build writes for k.
func New(k byte) []byte {
	v := byte(Version)
	switch k {
	case KindSegment:
		v = SegmentVersion
	case KindCatalog:
		v = CatalogVersion
	}
	return append([]byte(Magic), k, v)
}

// Seal appends the checksum of b, a frame started by New, and returns it.
func Seal(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, Checksum(b))
}

// Open checks the frame of kind k stored under key (its magic, kind,
// version and checksum) and returns a reader over its body. It costs one
// pass over b for the checksum and copies nothing.
func Open(key string, k byte, b []byte) (*Reader, error) {
	if len(b) < Header+Trailer || string(b[:len(Magic)]) != Magic || b[len(Magic)] != k {
		return nil, fmt.Errorf("%w: %s: not a %q frame", ErrCorrupt, key, k)
	}
	v := b[len(Magic)+1]
	if v != Version && (k != KindSegment || v != SegmentVersion && v != SegmentV2Version) && (k != KindCatalog || v != CatalogVersion) {
		return nil, fmt.Errorf("%w: %s: version %d, this build reads %d (and %d and %d of segments, %d of catalogs)", ErrCorrupt, key, v, Version, SegmentV2Version, SegmentVersion, CatalogVersion)
	}
	body := b[:len(b)-Trailer]
	if Checksum(body) != binary.LittleEndian.Uint32(b[len(body):]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, key)
	}
	return &Reader{Key: key, Body: body[Header:], Version: v}, nil
}

// Appenders of the body's primitives: unsigned and zig-zag varints,
// length-prefixed strings and flags.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func AppendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func AppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// AppendFlag appends v as a byte, 1 or 0 (Reader.Flag reads it).
func AppendFlag(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
