package risk

import (
	"testing"
	"time"
)

// TestHorizonFoldsQueuedKeys: once the cut passes a key's kept events,
// the next fold at the horizon (advanceQueued) folds them, without a
// sweep or a later event of the key; a late event before the key's
// queued time delays that fold by one pass at most.
func TestHorizonFoldsQueuedKeys(t *testing.T) {
	var es events
	d, add := feed(t, &es)
	buf := func(u string) []rec { return d.tables[ruleUser].slots.at(d.userKeys.ids[u]).buf }
	add(success("a", at(3*time.Hour)))
	add(success("b", at(3*time.Hour+time.Minute)))
	add(success("b", at(3*time.Hour+30*time.Minute)))
	add(success("a", at(2*time.Hour))) // late, before a's queued time (3h)
	for m := range 8 * 60 {            // time goes on with c's events only
		add(success("c", at(3*time.Hour+time.Duration(m)*time.Minute)))
		if m == 6*60 && (len(buf("a")) != 0 || len(buf("b")) != 0) {
			t.Fatalf("at 9h (cut 7h): a keeps %d events, b %d, want none", len(buf("a")), len(buf("b")))
		}
	}
	sameDetections(t, "horizon folds", d.Detections(), oracle(Options{}, es))
}

// TestLateEventAtTheCut: an event at exactly the cut is kept, not folded,
// by an advance, since Add still accepts an event at the cut that comes
// before it in canonical order (a smaller Ref): v's tenth failure in
// that order, which opens the brute force, is the one that arrives after
// the advance.
func TestLateEventAtTheCut(t *testing.T) {
	cut := at(2 * time.Hour)
	var es events
	for i := range 9 {
		es.add(failure("v", cut-int64(9-i)*int64(time.Second)))
	}
	kept := failure("v", cut)
	kept.Ref = 100
	after := failure("v", cut+int64(time.Hour)) // the scan of each buffer stops at it
	after.Ref = 101
	latest := success("w", cut+int64(2*time.Hour)) // the cut is v's tenth failure's time
	latest.Ref = 102
	late := failure("v", cut)
	late.Ref = 50
	es = append(es, kept, after, latest)
	d := New(Options{})
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	d.Compact() // advances every key to the cut
	if err := d.Add(&late); err != nil {
		t.Fatalf("an event at the cut: %v", err)
	}
	es = append(es, late)
	want := Detect(Options{}, append(events(nil), es...))
	got := d.Detections()
	sameDetections(t, "late event at the cut", got, want)
	brute := 0
	for _, det := range got {
		if det.Type == BruteForce {
			brute++
			if det.Opener != late.Ref {
				t.Fatalf("brute force opened by %d, want the late event's %d", det.Opener, late.Ref)
			}
		}
	}
	if brute != 1 {
		t.Fatalf("%d brute forces, want one", brute)
	}
}

// feed returns a detector with the default options and a function that
// numbers an event as es.add does, keeps it in es and adds it to the
// detector, failing t if it is refused.
func feed(t *testing.T, es *events) (*Detector, func(Observation)) {
	d := New(Options{})
	return d, func(o Observation) {
		es.add(o)
		if err := d.Add(&(*es)[len(*es)-1]); err != nil {
			t.Fatal(err)
		}
	}
}
