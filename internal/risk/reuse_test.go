package risk

import (
	"testing"
	"time"
)

// TestUserPartsReused: the bruteForce and mfaFatigue parts a user drops
// at the daily sweep serve the next users' failures, and hold nothing of
// the user before: a brute force and an MFA-fatigue burst of v, with
// their follow-ups, then after two days the same of w, whose detections
// name w alone (the oracle's).
func TestUserPartsReused(t *testing.T) {
	var es events
	burst := func(user string, from time.Duration) {
		for i := range 10 {
			es.add(failure(user, at(from+time.Duration(i)*time.Second)))
			es.add(Observation{Time: at(from + time.Duration(i)*time.Second), Kind: KindMFA, User: user, MFA: MFADenied})
		}
		es.add(success(user, at(from+time.Minute)))
		es.add(Observation{Time: at(from + time.Minute), Kind: KindMFA, User: user, MFA: MFAApproved})
	}
	burst("v", 0)
	opt := Options{}
	d := New(opt)
	add := func(from int) {
		for i := from; i < len(es); i++ {
			if err := d.Add(&es[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(0)
	n := len(es)
	es.add(success("x", at(50*time.Hour))) // a sweep: v's parts are idle
	add(n)
	kept := len(d.userRules.parts.items)
	if kept != 2 {
		t.Fatalf("parts kept after the sweep: %d, want v's two", kept)
	}
	n = len(es)
	burst("w", 50*time.Hour+time.Minute)
	add(n)
	got := d.Detections()
	if left := len(d.userRules.parts.items); left != 0 {
		t.Fatalf("parts left after w's failures: %d, want none", left)
	}
	sameDetections(t, "reused parts", got, oracle(opt, es))
	if c := countByType(got); c["bruteForce/high"] != 2 || c["mfaFatigue/high"] != 2 {
		t.Fatalf("detections: %v, want two of each", c)
	}
}

// TestNewBufferHasRoom: a key's buffer made anew has room for more than
// one event, so that its second event does not leave an array behind.
func TestNewBufferHasRoom(t *testing.T) {
	d := New(Options{})
	o := success("v", at(0))
	if err := d.Add(&o); err != nil {
		t.Fatal(err)
	}
	ks := d.tables[ruleUser].slots.at(d.userKeys.ids["v"])
	if len(ks.buf) != 1 || cap(ks.buf) < 2 {
		t.Fatalf("v's buffer: %d events, room %d, want 1 and at least 2", len(ks.buf), cap(ks.buf))
	}
}
