// Package segment encodes and decodes the engine's day segments
// (store/FORMAT.md, "Day segment"): a frame (internal/frame) of kind 'S'
// holding one sealed day's index and event log, stored under
// "days/<date>/<generation>".
//
// Format v3, written (frame version frame.SegmentVersion):
//
//	day (varint) | combos (uvarint) | request ids complete (1 byte)
//	directory: for each of the NumSections sections below, its length and,
//	  for a zstd frame, the length of what it holds (uvarints), then its CRC-32C (4 bytes)
//	head checksum: CRC-32C of the frame from its magic through the directory (4 bytes)
//	sections, laid out active users first, then the others in order (Layout):
//	  for each of the NumColumns code columns: one code per combination (uvarints), a zstd frame
//	  per combination its event count (uvarints), a zstd frame
//	  per combination its user count, then its users ascending, delta-coded (uvarints), a zstd frame
//	  active users: roaring portable serialization
//	  request ids: 64-bit hashes, ascending (8 bytes each, little-endian): every one of
//	    the day's when complete, else only those its log's records lack
//	event log: length (uvarint) + the log section (its format v2):
//	  columns: length (uvarint) + one zstd frame of
//	    entries N (uvarint)
//	    time unit U (uvarint ns; format v2 only, 1 in v1): the greatest that divides every time
//	    times: the first (varint, in U), then each difference from the previous (varint, in U)
//	    users: per entry 0 for a principal, 1 for an erased user, else user id + 2 (uvarint)
//	    combinations: per entry (uvarint)
//	    record lengths: per entry (uvarint)
//	  records per block B (uvarint; format v2 only: v1 blocks hold logblock.V1RecordsPerBlock)
//	  blocks (uvarint), each: length (uvarint) + one zstd frame of B records (the
//	    last block may hold fewer): laid end to end in frame versions 2 and
//	    3 (logblock.Rows), cut into columns in version 4 (logblock.Tagged)
//
// The directory locates every section without reading the others, and
// the checksums let a reader trust the sections it reads alone: on a
// store that reads ranges, a day's active set (RangedActive), or its
// index without its log (ReadRanged, then Index.DecodeSection for each
// zstd section when first needed). Format v2 (frame version
// frame.SegmentV2Version), read only: v3 without the section and head
// checksums, its sections in the directory's order (the active users
// after the users), and its event log's blocks of rows. Format v1 (frame
// version frame.Version), read only: day | combos | the code columns, the
// counts and the users as above but plain | active users,
// length-prefixed | request ids: count (uvarint), then every hash | event
// log.
//
// # Design
//
// The package owns the bytes, not the engine's day: an Index and a Log
// are plain values (slices, a roaring set, a flag), which the engine
// converts to and from by copying slice headers. An Index's slices are
// those of the engine's day index (internal/dayindex: an Index, inside
// a Day that keeps the sets derived from it); the root package's day
// keeps the lazy state (which sections are decoded), the event log and
// its caches (event counts per code, unions of blocks' active users).
// What a segment may reference (dictionary sizes, users) is passed in
// as Limits, and the engine's dimension names only name columns in
// errors. The number of code columns, NumColumns, is the format's: the
// root checks at compile time that it has as many indexed dimensions.
// Which request ids to write, whether a log is at hand, and the
// segment's key are the engine's.
//
// EncodeLog compresses the columns' frame and the blocks end to end into
// one buffer, then lays the section out in one allocation of its size:
// a block's own allocation (zstd's EncodeAll sizes it to the block's
// records, not to what it keeps) and the section's growth by doubling
// cost a checkpoint 12% of EncodeLog's allocations and, within the
// host's noise, a tenth of its time (BenchmarkEncodeLog, 6 alternated
// pairs on a loaded host: median 18.7 to 16.7 ms, 5.88 to 5.16 MB an op;
// #18, session 12).
//
// # Limits
//
// A day's event log may hold more than 4 GiB of records (28 million
// records of 150 bytes): the format stores record lengths, not offsets,
// and a Log's offsets are uint32 positions modulo 2^32, of which only
// differences within one block are taken (Log). What makes those exact,
// and what the decoder checks: a record takes at most 4 MiB (more than
// the engine's longest), a block's records less than 4 GiB
// (logblock.MaxBlockBytes). A block's records take at most
// logblock.RecordsLimit of its length (32768 times, what its zstd frame
// can hold): DecodeLog refuses a block claiming more, so reading one
// allocates no more than its length allows, and the writer keeps rows
// where columns would compress past it. A day holds at most 2^30-1
// events, and its columns' frame at most MaxFrameBytes (1 GiB, 4 to 32
// bytes an event: 30 to 250 million events), which EncodeLog checks
// before it compresses. A block's frame decodes into at most
// logblock.MaxFrameBytes, some 16 GiB: the zstd decoder given must take
// frames of DecoderMaxMemory, each decode being limited to its part's
// figure (its records' bytes), so that every block written reads back.
//
// # Errors
//
// Decoders never panic on any input (the roaring decoder's panics are
// recovered); their errors wrap frame.ErrCorrupt and name the key given
// and, for a zstd section, the section. Ranged reads also return the
// store's errors as they are, and ErrNotRanged. EncodeLog checks the log
// it is given (its columns, offsets and chunks or blocks agree, within
// those limits) and writes nothing of one that does not: its error wraps
// frame.ErrCorrupt and names what disagrees.
//
// # Concurrency
//
// The functions are safe for concurrent use given encoders and decoders
// that are (zstd EncodeAll and DecodeAll are). Column and Log values,
// and an Index decoded whole (Decode), are immutable once built and may
// be shared. An Index read by ranges (ReadRanged) is filled section by
// section (Index.DecodeSection) by its one owner, which serializes those
// calls and publishes each section it fills; after that, read-only.
package segment
