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

// An erase record (kind 'E', key "wal/<sequence>", on a store with
// replicas) erases one user where it stands in the log:
//
//	user key (string)
//
// Every replica applies it in sequence order, as it applies a frame of
// events: the user's events before it are erased, later ones count
// afresh (replica.go).

// encodeErase returns the erase record of userKey.
func encodeErase(userKey string) []byte {
	return sealFrame(appendString(newFrame(kindErase), userKey))
}

// isErase reports whether the log record b is an erase record (b may be
// damaged: decodeErase checks it).
func isErase(b []byte) bool {
	return len(b) > len(frameMagic) && string(b[:len(frameMagic)]) == frameMagic && b[len(frameMagic)] == kindErase
}

// decodeErase decodes the erase record stored under key.
func decodeErase(key string, b []byte) (string, error) {
	r, err := openFrame(key, kindErase, b)
	if err != nil {
		return "", err
	}
	userKey := r.string(MaxKeyLength)
	if r.err == nil && userKey == "" {
		r.fail("an erase record without a user key")
	}
	return userKey, r.end()
}
