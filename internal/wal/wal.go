package wal

import (
	"encoding/binary"
	"math/bits"

	"github.com/insightslab/insights/internal/frame"
)

// Event is one validated event as a log frame holds it.
type Event struct {
	Day       int32
	Time      int64 // Unix ns
	Key       string
	RequestID string
	Activity  bool
	Values    []string // one per indexed dimension, Limits.Values of them
	Record    string   // the log record (internal/logrecord)
}

// Limits bound what Decode accepts (the engine's limits on an event).
type Limits struct {
	Key    int // bytes of a user key
	Value  int // bytes of a request id and of an indexed value
	Values int // indexed values an event holds
	Kind   int // the position in Values of the event's kind, never empty; below Values
}

// AppendEvent appends one validated event to b, the body of a log frame
// that Frame frames. It does not keep ev.
func AppendEvent(b []byte, ev *Event) []byte {
	b = frame.AppendVarint(b, int64(ev.Day))
	b = frame.AppendVarint(b, ev.Time)
	b = frame.AppendString(b, ev.Key)
	b = frame.AppendString(b, ev.RequestID)
	b = frame.AppendFlag(b, ev.Activity)
	for _, v := range ev.Values {
		b = frame.AppendString(b, v)
	}
	return frame.AppendString(b, ev.Record)
}

// EventSize returns how many bytes AppendEvent appends for ev, so that a
// body can be allocated once. Cost: O(len(ev.Values)), no allocation.
func EventSize(ev *Event) int {
	n := varintSize(int64(ev.Day)) + varintSize(ev.Time) + stringSize(ev.Key) + stringSize(ev.RequestID) + 1 + stringSize(ev.Record)
	for _, v := range ev.Values {
		n += stringSize(v)
	}
	return n
}

// uvarintSize, varintSize and stringSize are the bytes frame.AppendUvarint,
// frame.AppendVarint and frame.AppendString append.
func uvarintSize(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func varintSize(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintSize(u)
}

func stringSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

// BodyRoom is the room a log body leaves before its events (NewBody),
// where Frame writes the frame's header: the events are framed where
// AppendEvent wrote them, not copied.
const BodyRoom = frame.Header + binary.MaxVarintLen64

// NewBody returns an empty log body with room for size bytes of events
// (EventSize) and the frame's checksum: Frame then neither copies nor
// grows it.
func NewBody(size int) []byte { return make([]byte, BodyRoom, BodyRoom+size+frame.Trailer) }

// Frame frames count events, appended by AppendEvent to a body of
// NewBody, into a log frame, in place: the frame is the end of body's
// array, which the caller must not modify afterwards.
func Frame(count int, body []byte) []byte {
	head := frame.AppendUvarint(frame.New(frame.KindWAL), uint64(count))
	start := BodyRoom - len(head)
	copy(body[start:], head)
	return frame.Seal(body[start:])
}

// Decode decodes the log frame stored under key within lim, into a slice
// of the caller's type: set fills one element from an Event, whose Values
// are reused for the next one (set copies what it keeps of them). The
// slice is allocated once, after the count is checked against the frame's
// size.
func Decode[E any](key string, b []byte, lim Limits, set func(*E, Event)) ([]E, error) {
	r, err := frame.Open(key, frame.KindWAL, b)
	if err != nil {
		return nil, err
	}
	n := r.Count(1<<31-1, 5+lim.Values)
	events := make([]E, 0, n)
	ev := Event{Values: make([]string, lim.Values)}
	for i := 0; i < n && r.Err == nil; i++ {
		ev.Day = r.Day32()
		ev.Time = r.Varint()
		ev.Key = r.String(lim.Key)
		ev.RequestID = r.String(lim.Value)
		ev.Activity = r.Flag()
		for k := range ev.Values {
			ev.Values[k] = r.String(lim.Value)
		}
		ev.Record = r.String(1<<31 - 1)
		if r.Err == nil && (ev.Values[lim.Kind] == "" || ev.Activity && ev.Key == "") {
			r.Fail("event %d has no kind, or activity without a user", i)
		}
		events = append(events, *new(E))
		set(&events[len(events)-1], ev)
	}
	return events, r.End()
}

// EncodeErase returns the erase record of userKey.
func EncodeErase(userKey string) []byte {
	return frame.Seal(frame.AppendString(frame.New(frame.KindErase), userKey))
}

// IsErase reports whether the log record b is an erase record (b may be
// damaged: DecodeErase checks it).
func IsErase(b []byte) bool {
	return len(b) > len(frame.Magic) && string(b[:len(frame.Magic)]) == frame.Magic && b[len(frame.Magic)] == frame.KindErase
}

// DecodeErase decodes the erase record stored under key: the user key, of
// at most maxKey bytes and not empty.
func DecodeErase(key string, b []byte, maxKey int) (string, error) {
	r, err := frame.Open(key, frame.KindErase, b)
	if err != nil {
		return "", err
	}
	userKey := r.String(maxKey)
	if r.Err == nil && userKey == "" {
		r.Fail("an erase record without a user key")
	}
	return userKey, r.End()
}
