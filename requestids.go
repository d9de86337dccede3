package insights

import (
	"slices"

	"github.com/insightslab/insights/internal/frame"
)

// Request ids are the idempotency key of events (SPEC §2): a copy of an
// event, which has its request id and its time, hence its day, counts
// once. Each day keeps the 64-bit FNV-1a hashes of its request ids (8
// bytes each, whatever the id's length): two distinct ids of one day
// collide with odds of about n²/2⁶⁵ for n ids, one in 10⁸ for a million.
//
// The dedupe horizon. The hashes repeat what the day's log holds: every
// event applied has a log record, and its record its request id. A day's
// segment written inside the horizon (insideDedupeHorizon: today and
// yesterday by Options.Now, the days whose builders a checkpoint keeps
// open) stores every hash, so that the steady stream of copies costs no
// read; a segment written before it stores only the hashes its log's
// records lack (the events of erased users, whose records Erase empties,
// so that a copy of an erased event stays refused, as it was). A day
// outside the horizon that receives an event, or an erasure, recovers the
// others from its log first (allRequestIDs: one read and decompression of
// the day's log, which an Add does holding no lock, in preload):
// deduplication is exact at every age; beyond the horizon it costs that
// read instead of 8 bytes an event on disk. The first
// checkpoint after a day leaves the horizon rewrites its segment without
// them if the day is in memory then; otherwise the first checkpoint after
// a query or an event loads it. Segments of format v1 hold every hash.

// requestIDHash returns the hash a day keeps of request id id: 64-bit
// FNV-1a, without allocating.
func requestIDHash[T string | []byte](id T) uint64 {
	h := uint64(14695981039346656037) // offset basis
	for i := range len(id) {
		h ^= uint64(id[i])
		h *= 1099511628211 // prime
	}
	return h
}

// insideDedupeHorizon reports whether the segment of day n, written when
// the engine's clock is on day today, keeps every request id.
func insideDedupeHorizon(n, today int32) bool { return n >= today-1 }

// logRequestIDs returns the hashes of the request ids of l's records,
// ascending, each once. Cost: a pass over the records, decompressing
// every block of a log read from a segment. Errors wrap ErrCorrupt.
func logRequestIDs(l *eventLog) ([]uint64, error) {
	var ids []uint64
	c := l.cursor()
	for i := range l.len() {
		if l.users[i] == erasedUser {
			continue // its record is empty
		}
		rec, err := c.record(i)
		if err != nil {
			return nil, err
		}
		r := frame.Reader{Key: l.key, Body: rec}
		r.Bytes(r.Count(MaxLogFieldLength, 1)) // the principal id, before the request id
		id := r.Bytes(r.Count(MaxLogFieldLength, 1))
		if r.Err != nil {
			return nil, r.Err
		}
		if len(id) > 0 {
			ids = append(ids, requestIDHash(id))
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// idsBesideLog returns the hashes of ids, ascending, that l's records do
// not give back: what a segment written outside the horizon keeps.
func idsBesideLog(ids []uint64, l *eventLog) ([]uint64, error) {
	inLog, err := logRequestIDs(l)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, id := range ids {
		if _, found := slices.BinarySearch(inLog, id); !found {
			out = append(out, id)
		}
	}
	return out, nil
}

// idsAtHand reports whether allRequestIDs answers without reading the
// log. Safe for concurrent use.
func (d *day) idsAtHand() bool { return d.fullIDs || d.recovered.Load() != nil }

// allRequestIDs returns the hashes of every request id of the day,
// ascending (shared: do not modify). Unless the day holds them all
// (fullIDs), the first call reads the log (events), which may fail, and
// keeps the result for thaw. Safe for concurrent use.
func (d *day) allRequestIDs() ([]uint64, error) {
	if d.fullIDs {
		return d.requestIDs, nil
	}
	if p := d.recovered.Load(); p != nil {
		return *p, nil
	}
	l, err := d.events()
	if err != nil {
		return nil, err
	}
	ids, err := logRequestIDs(l)
	if err != nil {
		return nil, err
	}
	ids = slices.Compact(slices.Sorted(slices.Values(slices.Concat(ids, d.requestIDs))))
	d.recovered.CompareAndSwap(nil, &ids)
	return *d.recovered.Load(), nil
}
