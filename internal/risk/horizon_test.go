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
	d := New(Options{})
	var es events
	add := func(o Observation) {
		es.add(o)
		if err := d.Add(&es[len(es)-1]); err != nil {
			t.Fatal(err)
		}
	}
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
