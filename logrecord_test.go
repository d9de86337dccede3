package insights

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// TestRecordEvent: an event's log fields come back from its record as they
// were given (times in the engine's zone, the IP in one spelling), more
// steps and policies than are encoded on the stack included; recordPlace
// reads its place.
func TestRecordEvent(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	at := time.Date(2025, 1, 2, 10, 0, 0, 7, loc)
	ev := Event{PrincipalID: "p", RequestID: "r", CorrelationID: "c", SessionID: "s", DeviceID: "d", IP: "2001:0db8::1",
		City: "Lyon", State: "ARA", UserAgent: "ua", UserDisplayName: "Ann", MFAPolicies: []string{"m1", "m2"},
		Latitude: 45.76, Longitude: 4.84}
	for i := range stackSteps + 2 {
		ev.AuthDetails = append(ev.AuthDetails, AuthStep{Method: "Password", Succeeded: i%2 == 0, ResultDetail: "rd", Requirement: "req"})
		ev.CAPolicies = append(ev.CAPolicies, PolicyResult{Name: "c", Result: "success"})
	}
	ev.AuthDetails[1].Time = at
	rec := appendRecord(nil, &ev)
	var got Event
	if err := decodeRecord("rec", rec, &got, loc); err != nil {
		t.Fatal(err)
	}
	want := ev
	want.IP = "2001:db8::1"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got.AuthDetails[1].Time.Location() != loc || !got.AuthDetails[0].Time.IsZero() {
		t.Fatalf("step times %v, %v", got.AuthDetails[0].Time, got.AuthDetails[1].Time)
	}
	if ip, lat, lon := recordPlace(rec); ip != netip.MustParseAddr("2001:db8::1") || lat != 45.76 || lon != 4.84 {
		t.Fatalf("recordPlace %v %v %v", ip, lat, lon)
	}
	if got := recordText(rec, recText[DimCity]); got != "Lyon" {
		t.Fatalf("recordText of the city: %q", got)
	}
}

// TestBatchRecordsAreEachEvents: the records of a batch, cut from one
// string, are each its event's own (IPs given canonical, not canonical
// and not an address), as Add logs them.
func TestBatchRecordsAreEachEvents(t *testing.T) {
	events := []Event{
		{RequestID: "a", IP: "10.0.0.1", City: "Oslo"},
		{RequestID: "bb", IP: "2001:0DB8::0001", UserAgent: "ua"},
		{},
		{RequestID: "ccc", IP: "not an address", AuthDetails: []AuthStep{{Method: "Password", Succeeded: true}}},
		{RequestID: "d", IP: "fe80::1%eth0"},
	}
	norm := make([]normEvent, len(events))
	encodeRecords(norm, events)
	wantIP := []string{"10.0.0.1", "2001:db8::1", "", "not an address", "fe80::1%eth0"}
	for i := range events {
		var got Event
		if err := decodeRecord("rec", []byte(norm[i].rec), &got, time.UTC); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want := events[i]
		want.IP = wantIP[i]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d: got %+v\nwant %+v", i, got, want)
		}
	}
}
