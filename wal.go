package insights

import "github.com/insightslab/insights/internal/wal"

// The log's frames and erase records are internal/wal's; this file turns
// the engine's validated events into its Events and back.

// walLimits are the bounds a log frame's events are decoded within.
var walLimits = wal.Limits{Key: MaxKeyLength, Value: MaxValueLength, Values: numIndexed, Kind: int(DimKind) - 1}

// appendEvent appends one validated event to a log body (wal.NewBody;
// wal.Frame frames it).
func appendEvent(b []byte, n *normEvent) []byte {
	ev := walEvent(n)
	return wal.AppendEvent(b, &ev)
}

// eventSize returns how many bytes appendEvent appends for n.
func eventSize(n *normEvent) int {
	ev := walEvent(n)
	return wal.EventSize(&ev)
}

// walEvent is n as a log frame holds it, sharing n's values.
func walEvent(n *normEvent) wal.Event {
	return wal.Event{Day: n.day, Time: n.time, Key: n.key, RequestID: n.requestID,
		Activity: n.activity, Values: n.vals[:], Record: n.rec}
}

// decodeWAL decodes the log frame stored under key.
func decodeWAL(key string, b []byte) ([]normEvent, error) {
	return wal.Decode(key, b, walLimits, func(n *normEvent, ev wal.Event) {
		n.day, n.time, n.key, n.requestID, n.activity, n.rec = ev.Day, ev.Time, ev.Key, ev.RequestID, ev.Activity, ev.Record
		copy(n.vals[:], ev.Values)
	})
}
