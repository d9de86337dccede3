package risk

import (
	"runtime"
	"testing"
	"time"
)

// TestLongEpisodeCostsLittlePerEvent feeds one user's brute force of
// thousands of failures within one window bucket, the key settled by a
// read so that each failure folds at once: each one extends the open
// episode, whose stored version then has all its evidence. Storing that
// version must not copy the evidence (stored versions share the
// episode's array, which only grows): a copy made a burst of n failures
// cost n²/2 references, some 40 MB for the 1,000 failures measured here.
func TestLongEpisodeCostsLittlePerEvent(t *testing.T) {
	d := New(Options{})
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano() // a bucket's start
	n := 0
	fail := func() {
		n++
		o := Observation{Time: t0 + int64(n)*int64(100*time.Millisecond), Ref: Ref(n), Kind: KindSignIn, User: "v",
			Status: StatusFailure, FirstFactorFailure: true}
		if err := d.Add(&o); err != nil {
			t.Fatal(err)
		}
	}
	for range 4000 {
		fail()
	}
	d.Len() // a read: v's key is settled, and its later failures fold on arrival
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 1000 {
		fail()
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("1,000 failures extending an episode of 4,000 allocated %d bytes", got)
	}
	var brute []Detection
	for _, det := range d.Detections() {
		if det.Type == BruteForce {
			brute = append(brute, det)
		}
	}
	if len(brute) != 1 || len(brute[0].Evidence) != n {
		t.Fatalf("want one brute force with all %d failures as evidence, got %d", n, len(brute))
	}
	for i, r := range brute[0].Evidence {
		if r != Ref(i+1) {
			t.Fatalf("evidence %d is %d, want %d", i, r, i+1)
		}
	}
}
