// Package frame owns the envelope of every file the engine writes through
// its store (store/FORMAT.md, "Frames"):
//
//	magic "INSI" | kind (1 byte) | version (1 byte) | body | CRC-32C of all before (4 bytes, little-endian)
//
// It starts and seals frames (New, Seal), checks one before its body is
// read (Open), and holds the primitives bodies are made of: unsigned and
// zig-zag varints and length-prefixed strings, appended by AppendUvarint,
// AppendVarint and AppendString and read back by a Reader. What a body of
// each kind holds is its owner's: the log frames' in internal/wal, the
// day segments' in internal/segment, the others' in the root package
// (catalog.go, manifest.go).
//
// The versions are the engine's: Version for every kind but segments,
// SegmentVersion for the segments written, SegmentV2Version and Version
// for the older segments still read. A frame of another version is
// refused, never guessed at.
//
// # Errors
//
// Open and a Reader never panic on any input. Their errors wrap
// ErrCorrupt (the root package's insights.ErrCorrupt is this value) and
// name the key the frame was stored under and, for a Reader, the byte of
// the frame where decoding failed.
//
// # Concurrency
//
// The functions are safe for concurrent use. A Reader is one decoder's:
// it is not safe for concurrent use; the bytes it reads are the caller's
// and are not copied (Bytes returns a sub-slice of them).
package frame
