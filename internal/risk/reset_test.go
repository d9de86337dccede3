package risk

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestResetStateIsFresh: a state that folded events, reset for another
// key (as slot gives a new key a state the sweep forgot), folds the next
// events as a new state of that key does: nothing of its past, windows,
// episodes, hours or history, shows through.
func TestResetStateIsFresh(t *testing.T) {
	d := New(Options{})
	var es events
	sec := func(i int) int64 { return at(time.Duration(i) * time.Second) }
	for i := range 6 { // successes from the source: a spray must fail 80% of its sign-ins
		es.add(fromSpray(success(fmt.Sprint("s", i), sec(i))))
	}
	for i := range 25 { // a spray, a brute force and a failure spike
		es.add(fromSpray(failure(fmt.Sprint("s", i), sec(10+i))))
	}
	for i := range 6 {
		es.add(Observation{Time: sec(40 + i), Kind: KindMFA, User: "v", Status: StatusFailure, MFA: MFADenied})
	}
	for i := range 60 {
		es.add(Observation{Time: sec(50 + i), Kind: KindSignUp, User: fmt.Sprint("n", i), Status: StatusSuccess, IP: floodIP})
	}
	for i, c := range cities { // a history, then an unfamiliar country, then a journey
		o := success("v", sec(120+2*i))
		o.Country, o.Lat, o.Lon, o.OSFamily = "FR", c.lat, c.lon, "Windows"
		es.add(o)
		o.Time++
		es.add(o)
	}
	far := fromSpray(success("s3", sec(200)))
	far.Country, far.Lat, far.Lon, far.OSFamily = "JP", 35.6762, 139.6503, "Linux"
	es.add(far)
	// A spray where the distinct users, not the share of failures, decide
	// when it fires: each user fails twice, and one failure names no user.
	var twice events
	for i := range 50 {
		twice.add(fromSpray(failure(fmt.Sprint("t", i/2), sec(i))))
	}
	twice.add(fromSpray(failure("", sec(60))))

	// fold folds es, later by shift, into s, the users' keys prefixed with
	// tag: the events after a reset come after those before it, of other
	// users.
	fold := func(s state, es events, shift time.Duration, tag string) []Detection {
		got := map[string]*Detection{}
		for i := range es {
			o := es[i]
			o.Time += int64(shift)
			if o.User != "" {
				o.User = tag + o.User
			}
			r := d.record(&o)
			s.fold(&r, emitFunc(func(det *Detection) { got[det.ID] = det.clone() }))
		}
		out := make([]Detection, 0, len(got))
		for _, det := range got {
			out = append(out, *det)
		}
		slices.SortFunc(out, func(a, b Detection) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}
	old := key{s: "old", p: netip.MustParsePrefix("192.0.2.0/24")}
	k := key{s: "new", p: netip.MustParsePrefix("198.51.100.0/24")}
	users := d.userRules
	rules, _ := d.newRules()
	if d.userRules != users {
		t.Fatal("newRules replaced the detector's user rules")
	}
	for i, newState := range rules {
		for j, es := range []events{es, twice} {
			want := fold(newState(k), es, 5*time.Minute, "")
			if len(want) == 0 && j == 0 {
				t.Fatalf("rule %d: the events make no detection", i)
			}
			used := newState(old)
			fold(used, es, 0, "old-")
			sameDetections(t, fmt.Sprint("rule ", i, " reset, events ", j), fold(used.reset(k), es, 5*time.Minute, ""), want)
		}
	}
}
