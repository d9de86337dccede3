package insights

// A log frame (kind 'W', key "wal/<sequence>") holds one group of batches
// committed together, as validated events in the order they were applied:
//
//	events (uvarint), then for each: day (varint) | time (varint Unix ns) | user key (string) |
//	request id (string) | activity (1 byte) | one value per indexed dimension (strings) |
//	log record (string, logrecord.go)
//
// Replaying a frame applies its events exactly as Add did: deduplication
// by request id gives the same result because the order is kept.

// appendEvent appends one validated event to a log body.
func appendEvent(b []byte, n *normEvent) []byte {
	b = appendVarint(b, int64(n.day))
	b = appendVarint(b, n.time)
	b = appendString(b, n.key)
	b = appendString(b, n.requestID)
	act := byte(0)
	if n.activity {
		act = 1
	}
	b = append(b, act)
	for _, v := range n.vals {
		b = appendString(b, v)
	}
	return appendString(b, n.rec)
}

// encodeWAL frames the events of a group, already appended by appendEvent.
func encodeWAL(count int, events []byte) []byte {
	b := newFrame(kindWAL)
	b = appendUvarint(b, uint64(count))
	b = append(b, events...)
	return sealFrame(b)
}

// decodeWAL decodes the log frame stored under key.
func decodeWAL(key string, b []byte) ([]normEvent, error) {
	r, err := openFrame(key, kindWAL, b)
	if err != nil {
		return nil, err
	}
	n := r.count(1<<31-1, 5+numIndexed)
	events := make([]normEvent, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		var ev normEvent
		ev.day = r.day32()
		ev.time = r.varint()
		ev.key = r.string(MaxKeyLength)
		ev.requestID = r.string(MaxValueLength)
		ev.activity = r.flag()
		for k := range ev.vals {
			ev.vals[k] = r.string(MaxValueLength)
		}
		ev.rec = r.string(1<<31 - 1)
		if r.err == nil && (ev.vals[DimKind-1] == "" || ev.activity && ev.key == "") {
			r.fail("event %d has no kind, or activity without a user", i)
		}
		events = append(events, ev)
	}
	return events, r.end()
}
