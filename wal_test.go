package insights

import (
	"reflect"
	"testing"

	"github.com/insightslab/insights/internal/wal"
)

// TestWALEvents: validated events come back from a log frame as they were
// logged, every indexed value in its place.
func TestWALEvents(t *testing.T) {
	events := []normEvent{{day: 20000, time: 1728e15, key: "u", requestID: "r", activity: true, rec: "\x00rec"}, {day: -1, time: -5}}
	for k := range numIndexed {
		events[0].vals[k] = string(rune('a' + k))
	}
	events[1].vals[DimKind-1] = "failure"
	body := wal.NewBody(0)
	for i := range events {
		body = appendEvent(body, &events[i])
	}
	got, err := decodeWAL("wal/1", wal.Frame(len(events), body))
	if err != nil || !reflect.DeepEqual(got, events) {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, events)
	}
}
