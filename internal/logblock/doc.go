// Package logblock encodes and decodes the blocks of a day segment's event
// log (store/FORMAT.md, "event log"): the records of up to RecordsPerBlock
// consecutive log entries compressed together, so that reading one entry
// decompresses one block, not the day. It also holds what the section
// around the blocks needs of zstd: a frame decoded after its header is
// checked (DecodeFrame), and the time unit of a column of times.
//
// It knows nothing of the engine: a record is bytes, a block is bytes, and
// the caller (the root package's logsegment.go) lays blocks into the
// segment and names the segment in its errors.
//
// # Errors
//
// Decoders never panic on any input. Their errors are plain (they name the
// part that failed, not the segment): the caller wraps them in its
// ErrCorrupt with the segment's key.
//
// # Concurrency
//
// Every function is safe for concurrent use: the zstd encoders and
// decoders passed in are used only through EncodeAll and DecodeAll, which
// are.
//
// # Caveats
//
// A decoder is given the size its output must have (from the section's
// columns) and allocates at most that, after checking the frame's header:
// a block that states more, or decompresses to another size, is refused.
package logblock
