package risk

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestReadsAmidLateEventsEqualRescan reads the detections and the risky
// users at random points of an arrival where a quarter of the events
// come up to 90 minutes late: every read answers for the set arrived so
// far, as a rescan of it does, whether the keys' buffered events were
// folded by an earlier read (and a late event then undid them) or not
// yet.
func TestReadsAmidLateEventsEqualRescan(t *testing.T) {
	const window = int64(30 * 24 * time.Hour)
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			obs := traffic(seed, 40, 24)
			rng := rand.New(rand.NewPCG(seed, 11))
			delay := func(o Observation) int64 {
				if rng.IntN(4) == 0 {
					return o.Time + rng.Int64N(int64(90*time.Minute))
				}
				return o.Time
			}
			at := make([]int64, len(obs))
			for i := range obs {
				at[i] = delay(obs[i])
			}
			order := make([]int, len(obs))
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, func(a, b int) int { return cmp.Compare(at[a], at[b]) })
			d := New(listOptions)
			var seen []Observation
			reads := 0
			for i, j := range order {
				if err := d.Add(&obs[j]); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				seen = append(seen, obs[j])
				if rng.IntN(30) != 0 && i != len(order)-1 {
					continue
				}
				reads++
				what := fmt.Sprintf("read %d, after %d events", reads, i+1)
				want := Detect(listOptions, slices.Clone(seen))
				if rng.IntN(2) == 0 { // the risky users first: they read the detections too
					asOf := obs[j].Time
					got, wantU := d.RiskyUsers(asOf, window, nil), oracleUsers(want, seen, asOf, window)
					if fmt.Sprint(got) != fmt.Sprint(wantU) {
						t.Fatalf("%s: risky users\n got %v\nwant %v", what, got, wantU)
					}
				}
				sameDetections(t, what, d.Detections(), want)
			}
			if c := countByType(d.Detections()); c["passwordSpray/high"] == 0 || c["bruteForce/high"] == 0 {
				t.Fatalf("attacks missed: %v", c)
			}
		})
	}
}

// TestNoReadListsNoPendingKey: without reads, Add lists no key for the
// next read (pending): every key with kept events is among queued, which
// the first read after a fold at the horizon walks; the reads' list holds
// the keys of a horizon at most, and a read after the folds still answers
// for every event (TestReadsAmidLateEventsEqualRescan).
func TestNoReadListsNoPendingKey(t *testing.T) {
	obs := traffic(1, 200, 3)
	slices.SortFunc(obs, func(a, b Observation) int { return compare(&a, &b) })
	d := New(Options{})
	for i := range obs {
		if err := d.Add(&obs[i]); err != nil {
			t.Fatal(err)
		}
		if len(d.pending) != 0 {
			t.Fatalf("event %d: %d keys listed for a read that never comes", i, len(d.pending))
		}
		if i%50 == 0 { // what a read relies on instead: every key keeping events is queued
			queued := map[slotRef]bool{}
			for _, q := range d.queued {
				queued[q.at] = true
			}
			for r := range d.tables {
				tb := &d.tables[r]
				for n := range tb.slots.n {
					if len(tb.slots.at(n).buf) > 0 && !queued[slotRef{uint32(r), n}] {
						t.Fatalf("event %d: key %d of rule %d keeps events and is not queued", i, n, r)
					}
				}
			}
		}
	}
	sameDetections(t, "a read after the folds", d.Detections(), Detect(Options{}, slices.Clone(obs)))
}

// TestRemediesIndexedWhenNeeded: Add only records a remedy (fresh); the
// sweep enters those of the late horizon alone in the index (remedies),
// and a detection of a user made later takes them from it (put:
// TestLateDetectionBeforeAKeptRemedy).
func TestRemediesIndexedWhenNeeded(t *testing.T) {
	d := New(Options{})
	var es events
	es.add(success("v", at(0))) // the first event: a sweep
	for u := range 50 {
		o := success(fmt.Sprint("u", u), at(time.Duration(u+1)*time.Minute))
		o.MFA, o.Remedy = MFAApproved, true
		es.add(o)
	}
	es.add(success("v", at(150*time.Minute))) // the cut: 30 minutes
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.remedies) != 0 || len(d.fresh) != 50 {
		t.Fatalf("after 50 remedies and no detection: %d users' remedies indexed, %d fresh; want 0 and 50", len(d.remedies), len(d.fresh))
	}
	d.Compact()
	if len(d.remedies) != 21 || cap(d.fresh) != 0 {
		t.Fatalf("after Compact: %d users' remedies indexed, room for %d fresh; want the 21 at or after the cut, and none (Compact releases the array)", len(d.remedies), cap(d.fresh))
	}
}
