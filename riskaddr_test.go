package insights

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// TestRiskListsReadEveryAddress: the detector reads each queued event's
// address as Add had it: IPv4, IPv4-mapped IPv6, IPv6, none, and an IPv6
// address with a zone (which matches no list: netip's Prefix.Contains),
// queued with new address lists after them while the detector is held,
// so that the lists apply from the events queued after them on.
func TestRiskListsReadEveryAddress(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC) },
		Risk: RiskOptions{Anonymized: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Detections(ctx, DetectionQuery{}); err != nil { // starts the detector
		t.Fatal(err)
	}
	t0 := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	n := 0
	add := func(ips ...string) {
		t.Helper()
		var evs []Event
		for _, ip := range ips {
			n++
			evs = append(evs, Event{Time: t0.Add(time.Duration(n) * time.Minute), Kind: KindSignIn, UserKey: fmt.Sprint("u", n), IP: ip,
				AppID: "portal", RequestID: fmt.Sprint("r", n)})
		}
		if err := e.Add(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	f := &e.risk.feed
	f.dmu.Lock() // the detector waits at its next fold: what follows queues
	add("10.1.2.3", "::ffff:10.1.2.4", "2001:db8::1")
	add("2001:db8::2%eth0", "192.0.2.1", "")
	set := make(chan struct{})
	go func() { // it waits for dmu once the lists are queued
		defer close(set)
		e.SetRiskLists([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")},
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	}()
	for f.queued() < 7 { // six events and the lists, queued or taken
		time.Sleep(time.Millisecond)
	}
	f.dmu.Unlock()
	<-set
	add("2001:db8::3%eth0", "192.0.2.9", "10.9.9.9", "::ffff:10.9.9.8", "2001:db8::4")
	p, err := e.Detections(ctx, DetectionQuery{Limit: MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Detections {
		got = append(got, fmt.Sprintf("%s %s %s %s", d.Type, d.Level, d.Source, d.UserKey))
	}
	slices.Sort(got)
	want := []string{
		"anonymizedIP medium 10.1.2.3 u1",
		"anonymizedIP medium 10.1.2.4 u2",
		"anonymizedIP medium 192.0.2.9 u8",
		"anonymizedIP medium 2001:db8::1 u3",
		"anonymizedIP medium 2001:db8::4 u11",
		"maliciousIP high 10.9.9.8 u10",
		"maliciousIP high 10.9.9.9 u9",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("detections:\n got %q\nwant %q", got, want)
	}
}
