package insights

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/frame"
)

// TestSegmentDamageIsCorrupt: an engine-written segment cut short
// anywhere, or with any byte changed (its checksum made right again, so
// that the body decoders meet the damage), decodes to ErrCorrupt naming
// its key, or to a day whose log, records, request ids and encoding again
// read back or fail with ErrCorrupt naming the key; never a panic. Under
// the race detector every third position is damaged.
func TestSegmentDamageIsCorrupt(t *testing.T) {
	ctx := context.Background()
	e, seg, n, lim, _ := segmentFixture(t)
	const key = "days/2025-01-04/00000000000000a1"
	reads := 0 // damaged segments whose log reached the records
	check := func(what string, b []byte) {
		t.Helper()
		err := readDamagedDay(ctx, e, key, b, n, lim, &reads)
		if err != nil && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key)) {
			t.Fatalf("%s: %v, want ErrCorrupt naming %s", what, err, key)
		}
	}
	step := 1
	if RaceEnabled {
		step = 3
	}
	for i := frame.Header; i < len(seg)-frame.Trailer; i += step {
		check("cut", frame.Seal(bytes.Clone(seg[:i])))
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(seg[:len(seg)-frame.Trailer])
			b[i] ^= x
			check("changed", frame.Seal(b))
		}
	}
	if reads == 0 {
		t.Fatal("no damaged segment decoded to a log: the records were never read")
	}
	for i := range len(seg) { // unsealed: the checksum catches it
		if _, err := decodeDay(key, seg[:i], n, lim, e.zdec); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Fatalf("cut at %d: %v, want ErrCorrupt naming %s", i, err, key)
		}
	}
}

// readDamagedDay decodes the segment b as the engine does, then reads its
// log, each of its records, its request ids, and encodes it again,
// returning the first error. reads counts the segments whose log decoded.
func readDamagedDay(ctx context.Context, e *Engine, key string, b []byte, n int32, lim limits, reads *int) error {
	d, err := decodeDay(key, b, n, lim, e.zdec)
	if err != nil {
		return err
	}
	l, err := d.events()
	if err != nil {
		return err
	}
	*reads++
	c := l.cursor()
	for i := range l.len() {
		rec, err := c.record(i)
		if err != nil {
			return err
		}
		var ev Event
		if err := decodeRecord(key, rec, &ev, time.UTC); err != nil {
			return err
		}
	}
	if _, err := logRequestIDs(l); err != nil {
		return err
	}
	if _, err := d.allRequestIDs(); err != nil {
		return err
	}
	_, _, err = encodeDay(ctx, n, d, e.zenc, false)
	return err
}
