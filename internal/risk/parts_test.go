package risk

import (
	"testing"
	"time"
)

// TestDroppedPartsBounded: the sweep keeps a user's idle parts for the
// next users emptied, episodes and evidence included, and not when their
// arrays are large: after v's 2,000 failures within a window and u's
// small burst, with its follow-ups, the pool holds u's two parts alone,
// and w's part, the next made, has room for a few events.
func TestDroppedPartsBounded(t *testing.T) {
	var es events
	d, add := feed(t, &es)
	add(success("u", at(0))) // u is numbered before v: the sweep drops u's parts first
	for i := range 2000 {
		add(failure("v", at(time.Duration(i)*25*time.Millisecond)))
	}
	for i := range 10 {
		add(failure("u", at(time.Hour+time.Duration(i)*time.Second)))
		add(Observation{Time: at(time.Hour + time.Duration(i)*time.Second), Kind: KindMFA, User: "u", MFA: MFADenied})
	}
	add(success("u", at(time.Hour+time.Minute))) // raises u's episodes
	add(Observation{Time: at(time.Hour + time.Minute), Kind: KindMFA, User: "u", MFA: MFAApproved})
	add(success("x", at(4*time.Hour)))  // a fold at the horizon: u's and v's parts are made
	add(success("x", at(50*time.Hour))) // a sweep: they are idle
	if n := len(d.userRules.parts.items); n != 2 {
		t.Fatalf("parts kept after the sweep: %d, want u's two", n)
	}
	for _, p := range d.userRules.parts.items {
		if cap(p.win.evs) > keptPart || cap(p.await) > keptPart {
			t.Fatalf("a kept part has room for %d window events, %d episodes", cap(p.win.evs), cap(p.await))
		}
		if len(p.win.all()) != 0 || p.open != nil || p.key != (key{}) {
			t.Fatalf("a kept part holds %d window events, open episode %v, key %v", len(p.win.all()), p.open, p.key)
		}
		for _, e := range p.await[:cap(p.await)] {
			if e != nil {
				t.Fatalf("a kept part points at an episode: %+v", e.d)
			}
		}
	}
	for i := range 10 {
		add(failure("w", at(50*time.Hour+time.Duration(i)*time.Second)))
	}
	d.Detections()
	w := d.tables[ruleUser].slots.at(d.userKeys.ids["w"]).cur.(*userState)
	if w.brute == nil || cap(w.brute.win.evs) > keptPart {
		t.Fatalf("w's bruteForce part: %+v, want one with room for at most %d events", w.brute, keptPart)
	}
}

// TestCopyPartTakesFromPool: a read's copy of a user's part, where the
// copy had none, takes a part the pool keeps.
func TestCopyPartTakesFromPool(t *testing.T) {
	u := &userRules{brute: bruteRule(Options{}.WithDefaults())}
	kept := &countState{r: u.brute}
	u.dropPart(kept)
	p := u.brute.newState(key{s: "v"}).(*countState)
	o := rec{Time: at(0), Ref: 1, Kind: KindSignIn, Status: StatusFailure, FirstFactorFailure: true}
	p.fold(&o, nil)
	if c := u.copyPart(p, nil); c != kept || len(c.win.all()) != 1 || c.key != p.key {
		t.Fatalf("copy: %p %+v, want the kept part %p, v's copy", c, c, kept)
	}
	if n := len(u.parts.items); n != 0 {
		t.Fatalf("parts left: %d", n)
	}
}
