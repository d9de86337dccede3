// Package logblock encodes and decodes the blocks of a day segment's event
// log (store/FORMAT.md, "event log"): the records of up to RecordsPerBlock
// consecutive log entries compressed together, so that reading one entry
// decompresses one block, not the day. It also holds what the section
// around the blocks needs of zstd: a frame decoded after its header is
// checked (DecodeFrame), and the time unit of a column of times.
//
// A block of the segments written (Tagged) cuts its records into one
// column per field, as Parquet does: each string column plain,
// dictionary-coded, or packed (GUIDs in 16 bytes, IPv4 addresses in 4),
// whichever pays; the steps' times as differences. A block whose records
// are not of the engine's layout keeps them as rows. Decoding lays the
// records back end to end, byte for byte as they were given, so callers
// read a record by index as from a block of rows (Rows, the segments of
// frame version 3 and before).
//
// It knows nothing of the engine: a record is bytes, a block is bytes, and
// the caller (internal/segment, and the root package's eventlog.go) lays
// blocks into the segment and names the segment in its errors.
//
// # Errors
//
// Decoders never panic on any input. Their errors are plain (they name the
// part that failed, not the segment): the caller wraps them in its
// ErrCorrupt with the segment's key.
//
// # Concurrency
//
// A Writer or a Reader keeps buffers from one block to the next: one per
// goroutine. The zstd encoders and decoders passed in are used only
// through EncodeAll and DecodeAll, safe for concurrent use, so all may
// share one. The functions are safe for concurrent use.
//
// # Speed
//
// Encoding blocks is most of a checkpoint's work on the days being
// ingested, and the engine's background checkpoint competes with Add and
// the risk detector for the cores (#18). A packed column packs each value
// once, in one pass that gives up as soon as more than half fail, where
// it packed each value three times (to count, to tag, to write); a GUID
// is validated and decoded in one pass by a table of nibbles, where a
// range check and hex.Decode each read it. A dictionary is found by a hash
// table of the distinct values (seeded at random per Writer: the bytes
// written do not depend on it), only those sorted, and the search stops
// once more than half are distinct, where every value's position was
// sorted. Measured on columns of 1,024 values (BenchmarkAppendStrings,
// alternated runs on a loaded 2-core host, #18, session 12): GUIDs
// 400-530 µs to 20-38 µs, IPv4 addresses 110 µs to 21-43 µs, user agents
// mostly distinct 120-185 µs to 13-21 µs, four names 23-31 µs to 16-30
// µs. The bytes written are unchanged (TestColumnBytes pins them).
//
// # Caveats
//
// A decoder is given the number of records and the size their bytes must
// have (from the section's columns) and allocates, after checking the
// frame's header, at most what that many records of that size can take
// (4 times the size, 16 bytes a record and 1 KiB more), and 4 bytes a
// dictionary value, at most one a byte of the records: a block that
// states more, or lays out another size, is refused, a dictionary or a
// value past what the records can take before it is read. The size
// given is the caller's to check first against the block's length
// (RecordsLimit: the records' buffer is allocated before the frame is
// read); a Writer writes no block past it, keeping rows where columns
// would compress further, and none past MaxBlockBytes is read, so a
// decoder of blocks must take frames of MaxFrameBytes. Encoding checks
// that the columns give the records back, which costs a decoding of the
// block without decompression.
package logblock
