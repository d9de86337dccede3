package insights

import (
	"bytes"
	"compress/flate"
	"io"
)

// A day segment ends with the day's event log, DEFLATE-compressed as one
// stream (store/FORMAT.md):
//
//	entries (uvarint)
//	times: the first (varint Unix ns), then each difference from the previous (varint)
//	users: per entry 0 for a principal, 1 for an erased user, else user id + 2 (uvarint)
//	combinations: per entry (uvarint)
//	record lengths: per entry (uvarint), then the records (logrecord.go)
//
// Columns first, so that like values sit together for the compressor.

// encodeLog returns the compressed log section of l.
func encodeLog(l *eventLog) []byte {
	b := appendUvarint(nil, uint64(l.len()))
	prev := int64(0)
	for _, t := range l.times {
		b = appendVarint(b, t-prev)
		prev = t
	}
	for _, u := range l.users {
		code := uint64(u) + 2
		switch u {
		case noUser:
			code = 0
		case erasedUser:
			code = 1
		}
		b = appendUvarint(b, code)
	}
	for _, c := range l.combos {
		b = appendUvarint(b, uint64(c))
	}
	for i := range l.len() {
		b = appendUvarint(b, uint64(l.offs[i+1]-l.offs[i]))
	}
	b = append(b, l.recs...)
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestSpeed) // a valid level: cannot fail
	w.Write(b)                                     // writes to memory: cannot fail
	w.Close()
	return out.Bytes()
}

// maxLogBytes bounds a decompressed log section (4 GiB, the most a day holds), so that a hostile file
// cannot make the decoder allocate without end.
const maxLogBytes = 1<<32 - 1

// decodeLog decodes a log section of the segment stored under key, whose
// day has combos combinations, in a catalog of users users.
func decodeLog(key string, raw []byte, combos, users int) (eventLog, error) {
	r := reader{key: key}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxLogBytes))
	if err != nil {
		r.fail("event log: %v", err)
		return eventLog{}, r.err
	}
	r.b = plain
	n := r.count(1<<31-1, 4)
	l := eventLog{times: make([]int64, n), users: make([]uint32, n), combos: make([]uint32, n), offs: make([]uint32, n+1)}
	prev := int64(0)
	for i := range l.times {
		prev += r.varint()
		l.times[i] = prev
	}
	for i := range l.users {
		switch u := r.uvarint(); {
		case u == 0:
			l.users[i] = noUser
		case u == 1:
			l.users[i] = erasedUser
		case u-2 >= uint64(users):
			r.fail("event log: user %d past the %d users", u-2, users)
		default:
			l.users[i] = uint32(u - 2)
		}
	}
	for i := range l.combos {
		c := r.uvarint()
		if c >= uint64(combos) {
			r.fail("event log: combination %d past the day's %d", c, combos)
		}
		l.combos[i] = uint32(c)
	}
	total := uint64(0)
	for i := range n {
		total += r.uvarint()
		if total > uint64(len(r.b)) {
			r.fail("event log: records overrun the section")
		}
		l.offs[i+1] = uint32(total)
	}
	l.recs = r.bytes(int(total))
	if err := r.end(); err != nil {
		return eventLog{}, err
	}
	return l, nil
}
