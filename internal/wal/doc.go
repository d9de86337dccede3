// Package wal encodes and decodes the records of the engine's write-ahead
// log (store/FORMAT.md, "Log record" and "Erase record"), each a frame
// (internal/frame) stored under "wal/<sequence>".
//
// A log frame (kind 'W') holds one group of batches committed together, as
// validated events in the order they were applied:
//
//	events (uvarint), then for each: day (varint) | time (varint Unix ns) | user key (string) |
//	request id (string) | activity (1 byte) | one value per indexed dimension (strings) |
//	log record (string, internal/logrecord)
//
// The engine appends a group's events to a body of NewBody, sized first
// (EventSize), which leaves room for the frame's header: Frame frames it
// where it is, where a copy into a new frame allocated the log's bytes a
// second time (BenchmarkWALFrame, 100 sign-ins logged and decoded: 211.6
// to 162.4 KB an op; #18, session 12).
//
// Replaying a frame applies its events exactly as Add did: deduplication
// by request id gives the same result because the order is kept.
//
// An erase record (kind 'E', on a store with replicas) erases one user
// where it stands in the log:
//
//	user key (string)
//
// Every replica applies it in sequence order, as it applies a frame of
// events: the user's events before it are erased, later ones count afresh.
//
// It knows nothing of the engine's events: the root package's wal.go turns
// its validated events into Events and back, and gives the bounds
// (Limits) decoding checks. Group commit, replay and recovery are the
// root's (durability.go, replica.go).
//
// # Errors
//
// Decoders never panic on any input; their errors wrap frame.ErrCorrupt and
// name the key given.
//
// # Concurrency
//
// The functions are safe for concurrent use.
package wal
