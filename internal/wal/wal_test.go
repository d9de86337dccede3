package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// testLimits are the engine's: 27 indexed values, the kind first. They
// must equal the root's walLimits (events.go's Max*), which the root's
// TestEventAtEveryLimitReopens checks end to end.
var testLimits = Limits{Key: 1024, Value: 256, Values: 27, Kind: 0}

// testEvent returns an event of testLimits' shape.
func testEvent(day int32, key, kind string) Event {
	vals := make([]string, testLimits.Values)
	vals[testLimits.Kind] = kind
	vals[3] = "iOS"
	return Event{Day: day, Time: int64(day) * 86400e9, Key: key, RequestID: "r-" + key, Activity: key != "",
		Values: vals, Record: "\x00rec"}
}

// clone copies ev and its values (Decode reuses them).
func clone(e *Event, ev Event) { *e = ev; e.Values = slices.Clone(ev.Values) }

func encode(events ...Event) []byte {
	body := NewBody(0)
	for i := range events {
		body = AppendEvent(body, &events[i])
	}
	return Frame(len(events), body)
}

func TestRoundTrip(t *testing.T) {
	events := []Event{testEvent(20000, "u1", "signIn"), testEvent(-3, "", "failure"), testEvent(20001, "u2", "userDeleted")}
	events[2].Activity = false
	got, err := Decode("wal/1", encode(events...), testLimits, clone)
	if err != nil || !reflect.DeepEqual(got, events) {
		t.Fatalf("got %+v, %v; want %+v", got, err, events)
	}
}

// TestEventSize: EventSize is exactly what AppendEvent appends, at the
// bounds of each varint's length (days and times negative and large,
// strings of 127 and 128 bytes).
func TestEventSize(t *testing.T) {
	long := strings.Repeat("x", 128)
	for _, ev := range []Event{
		testEvent(20000, "u1", "signIn"),
		testEvent(-3, "", "failure"),
		{Day: 63, Time: 63, Values: []string{long[:127]}},
		{Day: -65, Time: -1 << 62, Key: long, Record: long + long},
		{Day: 1 << 30, Time: 1<<63 - 1, RequestID: long, Values: []string{long, "", long[:1]}},
	} {
		if got, want := EventSize(&ev), len(AppendEvent(nil, &ev)); got != want {
			t.Errorf("EventSize(day %d, time %d, key %d bytes) = %d, AppendEvent appends %d", ev.Day, ev.Time, len(ev.Key), got, want)
		}
	}
}

// TestBytes checks a frame's bytes by hand (store/FORMAT.md).
func TestBytes(t *testing.T) {
	ev := Event{Day: 1, Time: -1, Key: "u", RequestID: "", Activity: true, Values: []string{"k", ""}, Record: "R"}
	want := []byte("INSI" + "W\x02" + "\x01" + "\x02" + "\x01" + "\x01u" + "\x00" + "\x01" + "\x01k" + "\x00" + "\x01R")
	want = binary.LittleEndian.AppendUint32(want, crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)))
	if got := encode(ev); !bytes.Equal(got, want) {
		t.Fatalf("frame %q, want %q", got, want)
	}
	erase := []byte("INSIE\x02\x03u@x")
	erase = binary.LittleEndian.AppendUint32(erase, crc32.Checksum(erase, crc32.MakeTable(crc32.Castagnoli)))
	if got := EncodeErase("u@x"); !bytes.Equal(got, erase) {
		t.Fatalf("erase record %q, want %q", got, erase)
	}
}

// TestFrameInPlace: a body framed in place is the frame of its events,
// header and checksum around them, for counts whose uvarint takes 1 to 3
// bytes; the body's array is neither copied nor grown.
func TestFrameInPlace(t *testing.T) {
	ev := Event{Day: 1, Time: -1, Key: "u", Activity: true, Values: []string{"k", ""}, Record: "R"}
	for _, n := range []int{0, 1, 127, 128, 20000} {
		body := NewBody(n * EventSize(&ev))
		for range n {
			body = AppendEvent(body, &ev)
		}
		events := slices.Clone(body[BodyRoom:])
		want := frame.Seal(append(binary.AppendUvarint([]byte("INSIW\x02"), uint64(n)), events...))
		got := Frame(n, body)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d events: frame %q, want %q", n, got, want)
		}
		if &got[len(got)-1] != &body[:cap(body)][cap(body)-1] {
			t.Errorf("%d events: the frame is not body's array", n)
		}
	}
}

// TestRefused: frames that decode to an error wrapping ErrCorrupt naming
// the key, never to events.
func TestRefused(t *testing.T) {
	noKind := testEvent(1, "u", "")
	noUser := testEvent(1, "", "signIn")
	noUser.Activity = true
	longKey := testEvent(1, strings.Repeat("k", testLimits.Key+1), "signIn")
	sealed := func(body string) []byte { return frame.Seal(append(frame.New(frame.KindWAL), body...)) }
	damaged := encode(testEvent(1, "u", "signIn"))
	damaged[len(damaged)/2] ^= 1
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"no kind", encode(noKind)},
		{"activity without a user", encode(noUser)},
		{"a key past the limit", encode(longKey)},
		{"more events than bytes", sealed("\x05")},
		{"trailing bytes", sealed("\x00\x00")},
		{"an erase record", EncodeErase("u")},
		{"a damaged frame", damaged},
		{"nothing", nil},
	} {
		got, err := Decode("wal/7", c.b, testLimits, clone)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "wal/7") {
			t.Errorf("%s: %v, want an error wrapping ErrCorrupt naming the key (events %v)", c.name, err, got)
		}
	}
	for _, b := range [][]byte{EncodeErase(""), EncodeErase(strings.Repeat("k", 9)), encode()} {
		if k, err := DecodeErase("wal/8", b, 8); !errors.Is(err, frame.ErrCorrupt) {
			t.Errorf("erase record %q decodes to %q, %v", b, k, err)
		}
	}
}

func TestErase(t *testing.T) {
	b := EncodeErase("u@example.com")
	if !IsErase(b) || IsErase(encode()) || IsErase([]byte("INSI")) {
		t.Fatal("IsErase tells erase records from log frames wrong")
	}
	if k, err := DecodeErase("wal/2", b, 64); err != nil || k != "u@example.com" {
		t.Fatalf("got %q, %v", k, err)
	}
}

// FuzzDecode: a log frame decodes to an error wrapping ErrCorrupt, or to
// events that encode and decode back to equal events. Each input is
// checked as it is and with its checksum recomputed, so that the body
// decoder is reached by inputs other than the seeds.
func FuzzDecode(f *testing.F) {
	seed := encode(testEvent(20000, "u1", "signIn"), testEvent(20000, "", "failure"))
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(b []byte) {
			events, err := Decode("wal", b, testLimits, clone)
			if err != nil {
				if !errors.Is(err, frame.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				return
			}
			again, err := Decode("wal", encode(events...), testLimits, clone)
			if err != nil || !reflect.DeepEqual(again, events) {
				t.Fatalf("log frame does not round-trip (%v)", err)
			}
		}
		check(b)
		if len(b) >= frame.Header+frame.Trailer {
			check(frame.Seal(bytes.Clone(b[:len(b)-frame.Trailer])))
		}
	})
}

// FuzzDecodeErase: an erase record decodes to an error wrapping
// ErrCorrupt, or to a user key that encodes back to the same record.
func FuzzDecodeErase(f *testing.F) {
	f.Add(EncodeErase("u@example.com"))
	f.Add(EncodeErase(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, b := range [][]byte{b, frame.Seal(bytes.Clone(b[:max(len(b)-frame.Trailer, 0)]))} {
			key, err := DecodeErase("wal", b, 1024)
			if err != nil {
				if !errors.Is(err, frame.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			if again, err := DecodeErase("wal", EncodeErase(key), 1024); err != nil || again != key {
				t.Fatalf("erase record of %q does not round-trip (%v)", key, err)
			}
		}
	})
}
