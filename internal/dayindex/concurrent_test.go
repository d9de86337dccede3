package dayindex

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// firstUses are what one goroutine got from a Day's first uses: the
// postings and active users by code of each test column (their first
// elements' addresses: the same slice gives the same), the multiple
// events, the kept set, and what the kept predicate matched.
type firstUses struct {
	post, activeBy [NumCols]**roaring.Bitmap
	multi, kept    *roaring.Bitmap
	match          *roaring.Bitmap
}

// useDay makes the first uses of firstUses on d, the kept predicate
// first, so that goroutines started together build its set together.
func useDay(d *Day, activity, kept *Pred) firstUses {
	var u firstUses
	u.match = d.Match(kept)
	u.kept = d.kept(kept)
	for _, k := range testCols {
		u.post[k] = &d.Postings(k)[0]
		u.activeBy[k] = &d.ActiveBy(k, activity)[0]
	}
	u.multi = d.MultiSet()
	return u
}

// TestDayFirstUsesConcurrent: goroutines making their first uses of a
// fresh Day at once all get the one set kept of each (the same postings,
// active users by code, multiple events and kept set), the kept
// predicate's right combinations, and the day counts the bytes of the
// kept sets only: as many as a day used by one goroutine. Run it with
// -race.
func TestDayFirstUsesConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	evs := randomDay(r, 20000)
	activity := &Pred{Op: In, Col: testCols[0], Set: map[uint32]struct{}{0: {}, 1: {}}}
	kept := &Pred{Op: Or, Args: []*Pred{{Op: Eq, Col: 3, Code: 1}, {Op: Eq, Col: 7, Code: 2}}, Keep: 1}
	one, _ := sealed(evs, []int{3, 0})
	useDay(one, activity, kept)
	want := roaring.New()
	for i := range uint32(one.NumCombos()) {
		if holds(kept, one.comboOf(i)) {
			want.Add(i)
		}
	}
	const goroutines = 8
	for round := range 10 {
		d := &Day{Index: one.Index}
		var got [goroutines]firstUses
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[g] = useDay(d, activity, kept)
			}()
		}
		close(start)
		wg.Wait()
		for g, u := range got {
			if u.post != got[0].post || u.activeBy != got[0].activeBy || u.multi != got[0].multi || u.kept != got[0].kept {
				t.Fatalf("round %d: goroutine %d got other sets than goroutine 0: not one kept of each", round, g)
			}
			if !u.match.Equals(want) {
				t.Fatalf("round %d: goroutine %d: the kept predicate matches %v, want %v", round, g, u.match, want)
			}
		}
		if d.DerivedBytes() != one.DerivedBytes() {
			t.Fatalf("round %d: derived sets of %d bytes, want %d as one goroutine builds them", round, d.DerivedBytes(), one.DerivedBytes())
		}
	}
}
