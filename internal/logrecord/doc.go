// Package logrecord encodes and decodes a log record: the fields of one
// event that the day index does not hold (store/FORMAT.md, "Event log
// record").
// A record is carried in a log frame (internal/wal) and, once its day is
// sealed, in the blocks of the segment's event log (internal/logblock):
//
//	principal id | request id | correlation id | session id | device id |
//	IP | city | state | user agent | display name (strings)
//	steps (uvarint), each: time (varint Unix ns, 0 for none) | method | succeeded (1 byte) |
//	    result detail | requirement
//	MFA policies (uvarint), each a string
//	CA policies (uvarint), each: name | result
//	[latitude | longitude]  (8 bytes each, IEEE 754 bits, little endian)
//
// Strings are length-prefixed (internal/frame). The coordinates are written
// only when one is not 0, so a record without them is byte for byte what it
// was before they existed, and a record written then decodes as one
// without coordinates. The indexed values, the time and the user live in
// the day's columns, not here.
//
// It knows nothing of the engine's Event: the root package's logrecord.go
// turns an Event into a Record and back, and gives the bounds (Limits)
// decoding checks, the engine's limits on an event's fields.
//
// # Errors
//
// Decode never panics on any input; its errors wrap frame.ErrCorrupt and
// name the key given. Text, which skips to one field, returns "" for a
// damaged record.
//
// # Concurrency
//
// The functions are safe for concurrent use; a Record is its caller's.
package logrecord
