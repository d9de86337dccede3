package insights

import (
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/wal"
)

// benchSignIn is a typical sign-in: two steps, a policy of each kind,
// coordinates.
func benchSignIn(u int) Event {
	at := time.Date(2025, 1, 2, 8, 0, u%60, 0, time.UTC)
	return Event{Time: at, Kind: KindSignIn, UserKey: fmt.Sprintf("user-%d@example.com", u), AppID: "A", OS: "iOS",
		RequestID: fmt.Sprintf("9b1c6f5e-0d6a-4f7e-8a53-%012d", u), CorrelationID: "c0ffee00-0000-4000-8000-000000000000",
		IP: "198.51.100.7", City: "Lyon", State: "ARA", UserAgent: "Mozilla/5.0 (iPhone)", Latitude: 45.76, Longitude: 4.84,
		AuthDetails: []AuthStep{{Time: at, Method: "Password", Succeeded: true, Requirement: RequirementSingleFactor},
			{Time: at, Method: "Mobile app notification", Succeeded: true, Requirement: RequirementMultiFactor}},
		MFAPolicies: []string{"require MFA"}, CAPolicies: []PolicyResult{{Name: "c1", Result: "success"}}}
}

// BenchmarkLogRecord encodes a typical sign-in's log record (as Add does)
// and decodes it (as a log listing does).
//
//	go test -run '^$' -bench 'BenchmarkLogRecord|BenchmarkWALFrame' -count 6 .
func BenchmarkLogRecord(b *testing.B) {
	ev := benchSignIn(1)
	b.ReportAllocs()
	for b.Loop() {
		var got Event
		if err := decodeRecord("rec", appendRecord(nil, &ev), &got, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWALFrame logs a group of 100 validated sign-ins (as a group
// commit does: the body sized first, framed in place) and decodes the
// frame (as replay and a follower do).
func BenchmarkWALFrame(b *testing.B) {
	v := validator{loc: time.UTC, now: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)}
	events, evs := make([]normEvent, 100), make([]Event, 100)
	for i := range events {
		evs[i] = benchSignIn(i)
		n, err := v.normalize(&evs[i])
		if err != nil {
			b.Fatal(err)
		}
		events[i] = n
	}
	encodeRecords(events, evs)
	size := 0
	for i := range events {
		size += eventSize(&events[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		body := wal.NewBody(size)
		for i := range events {
			body = appendEvent(body, &events[i])
		}
		if _, err := decodeWAL("wal/1", wal.Frame(len(events), body)); err != nil {
			b.Fatal(err)
		}
	}
}
