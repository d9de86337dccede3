package insights

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestEventAtEveryLimitReopens: an event with every field at its limit
// (events.go's Max*) is read back whole after a replay of the write-ahead
// log and after a checkpoint: the limits the root hands to internal/wal,
// internal/logrecord and the segment's log blocks are at least those Add
// accepts, so no accepted event makes a store that Open refuses.
func TestEventAtEveryLimitReopens(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
	field := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	ev := Event{Time: time.Date(2025, 1, 20, 9, 0, 0, 0, time.UTC), Kind: KindSignIn,
		UserKey: field('u', MaxKeyLength), AppID: field('a', MaxValueLength), AppName: field('n', MaxValueLength),
		Resource: field('r', MaxValueLength), OS: field('o', MaxValueLength), Browser: field('b', MaxValueLength),
		Language: field('l', MaxValueLength), IdentityProvider: field('i', MaxValueLength),
		RequestID: field('q', MaxValueLength), CorrelationID: field('c', MaxValueLength),
		SessionID: field('s', MaxValueLength), DeviceID: field('d', MaxValueLength), IP: "203.0.113.9",
		City: field('C', MaxLogFieldLength), State: field('S', MaxLogFieldLength),
		UserAgent: field('A', MaxLogFieldLength), UserDisplayName: field('D', MaxLogFieldLength),
		Latitude: 48.85, Longitude: 2.35}
	for range MaxAuthSteps {
		ev.AuthDetails = append(ev.AuthDetails, AuthStep{Method: field('m', MaxValueLength), Succeeded: true,
			ResultDetail: field('R', MaxLogFieldLength), Requirement: field('Q', MaxValueLength)})
	}
	for range MaxPolicies {
		ev.MFAPolicies = append(ev.MFAPolicies, field('M', MaxLogFieldLength))
		ev.CAPolicies = append(ev.CAPolicies, PolicyResult{Name: field('P', MaxLogFieldLength), Result: field('p', MaxValueLength)})
	}
	if err := ev.Validate(now()); err != nil {
		t.Fatal(err)
	}
	s := store.NewMemory()
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, ev); err != nil {
		t.Fatal(err)
	}
	from := DateOf(ev.Time, time.UTC)
	to := from.AddDays(1)
	want, err := e.UserSignIns(ctx, ev.UserKey, from, to)
	if err != nil || len(want.Entries) != 1 {
		t.Fatalf("before reopening: %v, %v", want, err)
	}
	for _, step := range []string{"the log replayed", "a checkpoint read"} {
		if step == "a checkpoint read" {
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// e is left open, as after a crash: the next Open replays its log.
		e, err = Open(ctx, s, &Options{Now: now})
		if err != nil {
			t.Fatalf("%s: Open: %v", step, err)
		}
		got, err := e.UserSignIns(ctx, ev.UserKey, from, to)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %+v, %v", step, got, err)
		}
	}
}
