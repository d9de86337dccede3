package dayindex

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/segment"
)

// event is one event of a test day, as the oracles read it.
type event struct {
	c        Combo
	uid      uint32
	hasUser  bool
	activity bool
}

// testCols are the columns the test days vary: the others hold code 0.
var testCols = []int{0, 3, 7, NumCols - 1}

// randomDay returns n random events over few codes of testCols, so that
// combinations repeat, and few users.
func randomDay(r *rand.Rand, n int) []event {
	evs := make([]event, n)
	for i := range evs {
		e := &evs[i]
		for j, k := range testCols {
			e.c[k] = r.Uint32N(uint32(2 + 3*j))
		}
		e.uid, e.hasUser, e.activity = r.Uint32N(60), r.IntN(8) != 0, r.IntN(3) != 0
	}
	return evs
}

// sealed returns the index of evs sealed by sortCols, and per event the
// index's number of its combination: the day's log column.
func sealed(evs []event, sortCols []int) (*Day, []uint32) {
	b := NewBuilder()
	combos := make([]uint32, len(evs))
	for i, e := range evs {
		combos[i] = b.Add(e.c, e.uid, e.hasUser, e.activity)
	}
	x, at := b.Seal(sortCols)
	if at != nil {
		combos = Renumber(combos, at)
	}
	return &Day{Index: x}, combos
}

// setOf returns the set of ids.
func setOf(ids ...uint32) *roaring.Bitmap { return roaring.BitmapOf(ids...) }

// TestSealedIndexIsTheEvents checks a sealed index against its events:
// each combination once, sorted by the sort columns and first seen first
// among equals, with its event count and distinct users; the log's
// renumbered combinations naming each event's; the active users; the
// derived sets (postings, multiple events, extra events, users in a set,
// active users per code) against brute force.
func TestSealedIndexIsTheEvents(t *testing.T) {
	for _, sortCols := range [][]int{nil, {3}, {NumCols - 1, 0}, {7, 3, 0}} {
		r := rand.New(rand.NewPCG(uint64(len(sortCols)), 9))
		evs := randomDay(r, 3000)
		d, combos := sealed(evs, sortCols)
		counts := map[Combo]uint32{}
		users := map[Combo]map[uint32]bool{}
		first := map[Combo]int{}
		active := roaring.New()
		for i, e := range evs {
			if got := d.comboOf(combos[i]); got != e.c {
				t.Fatalf("sort %v: event %d is of combination %d, %v, want %v", sortCols, i, combos[i], got, e.c)
			}
			if _, ok := first[e.c]; !ok {
				first[e.c], users[e.c] = i, map[uint32]bool{}
			}
			counts[e.c]++
			if e.hasUser {
				users[e.c][e.uid] = true
				if e.activity {
					active.Add(e.uid)
				}
			}
		}
		if d.NumCombos() != len(counts) || !d.Active.Equals(active) {
			t.Fatalf("sort %v: %d combinations, active %v; want %d, %v", sortCols, d.NumCombos(), d.Active, len(counts), active)
		}
		var total uint64
		for i := range uint32(d.NumCombos()) {
			c := d.comboOf(i)
			if d.Counts.At(i) != counts[c] {
				t.Fatalf("sort %v: combination %v counts %d events, want %d", sortCols, c, d.Counts.At(i), counts[c])
			}
			total += uint64(counts[c])
			want := slices.Sorted(func(yield func(uint32) bool) {
				for u := range users[c] {
					yield(u)
				}
			})
			if got := d.UsersOf(int(i)); !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Fatalf("sort %v: combination %v holds %v, want %v", sortCols, c, got, want)
			}
			if i > 0 {
				p := d.comboOf(i - 1)
				o := 0
				for _, k := range sortCols {
					if o = cmp.Compare(p[k], c[k]); o != 0 {
						break
					}
				}
				if o > 0 || o == 0 && first[p] > first[c] {
					t.Fatalf("sort %v: combination %v before %v", sortCols, p, c)
				}
			}
		}
		if d.EventCount() != total {
			t.Fatalf("sort %v: %d events, want %d", sortCols, d.EventCount(), total)
		}
		checkDerived(t, d, evs, combos)
	}
}

// checkDerived checks d's derived sets against brute force over its
// events evs, whose combinations are combos, and d's DerivedBytes against
// the sum of the sets it built.
func checkDerived(t *testing.T, d *Day, evs []event, combos []uint32) {
	t.Helper()
	for _, k := range testCols {
		post := d.Postings(k)
		for i := range uint32(d.NumCombos()) {
			if c := d.Cols[k].At(i); post[c] == nil || !post[c].Contains(i) {
				t.Fatalf("column %d: the postings of code %d lack combination %d", k, c, i)
			}
		}
		n := uint64(0)
		for _, p := range post {
			if p != nil {
				n += p.GetCardinality()
			}
		}
		if n != uint64(d.NumCombos()) {
			t.Fatalf("column %d: postings of %d combinations, want %d", k, n, d.NumCombos())
		}
	}
	multi, extra, extraBy := roaring.New(), uint64(0), map[uint32]uint64{}
	for i := range uint32(d.NumCombos()) {
		if n := d.Counts.At(i); n > 1 {
			multi.Add(i)
			extra += uint64(n - 1)
			extraBy[d.Cols[3].At(i)] += uint64(n - 1)
		}
	}
	if !d.MultiSet().Equals(multi) {
		t.Fatalf("MultiSet %v, want %v", d.MultiSet(), multi)
	}
	if got := d.Extra(multi, nil); len(got) != 1 || got[0] != extra {
		t.Fatalf("Extra = %v, want [%d]", got, extra)
	}
	got := d.Extra(multi, &d.Cols[3])
	for c, n := range got {
		if n != extraBy[uint32(c)] {
			t.Fatalf("Extra by column 3 = %v, want %v", got, extraBy)
		}
	}
	for c, n := range extraBy { // codes beyond got's length too
		if int(c) >= len(got) || got[c] != n {
			t.Fatalf("Extra by column 3 = %v, want %v", got, extraBy)
		}
	}
	activity := &Pred{Op: In, Col: testCols[0], Set: map[uint32]struct{}{0: {}, 1: {}}}
	for _, k := range testCols {
		want := map[uint32]*roaring.Bitmap{}
		odd, oddUsers := roaring.New(), roaring.New()
		for i, e := range evs {
			if combos[i]%2 == 1 && e.hasUser {
				odd.Add(combos[i])
				oddUsers.Add(e.uid)
			}
			if !e.hasUser || e.c[testCols[0]] > 1 {
				continue
			}
			if want[e.c[k]] == nil {
				want[e.c[k]] = roaring.New()
			}
			want[e.c[k]].Add(e.uid)
		}
		by := d.ActiveBy(k, activity)
		for c, set := range by {
			if (set == nil) != (want[uint32(c)] == nil) || set != nil && !set.Equals(want[uint32(c)]) {
				t.Fatalf("ActiveBy(%d)[%d] = %v, want %v", k, c, set, want[uint32(c)])
			}
			delete(want, uint32(c))
		}
		if len(want) > 0 {
			t.Fatalf("ActiveBy(%d) lacks codes %v", k, want)
		}
		if again := d.ActiveBy(k, activity); &again[0] != &by[0] {
			t.Fatalf("ActiveBy(%d) built again, not kept", k)
		}
		if got := d.UsersIn(odd); !got.Equals(oddUsers) {
			t.Fatalf("UsersIn(odd combinations) = %v, want %v", got, oddUsers)
		}
	}
	kept := &Pred{Op: Eq, Col: 7, Code: 1, Keep: 1}
	d.Match(kept)
	want := int64(d.MultiSet().GetSizeInBytes() + d.kept(kept).GetSizeInBytes())
	for _, k := range testCols {
		want += int64(BitmapsBytes(d.Postings(k)) + BitmapsBytes(d.ActiveBy(k, activity)))
	}
	if d.DerivedBytes() != want {
		t.Fatalf("derived sets of %d bytes, want %d: the postings, active users by code, multiple events and kept set built", d.DerivedBytes(), want)
	}
}

// TestThawRestrictRemove: a thawed index seals to the same index; a
// restriction to some events is the index of those events alone; a
// removed user is in no set, and the others stay.
func TestThawRestrictRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	evs := randomDay(r, 2000)
	sortCols := []int{7, 0}
	d, combos := sealed(evs, sortCols)
	again, at := d.Thaw().Seal(sortCols)
	if at != nil || !sameIndex(&d.Index, &again) {
		t.Fatal("thawed and sealed again, the index changed")
	}

	entries, activeCombos := roaring.New(), roaring.New()
	var some []event
	users := make([]uint32, len(evs))
	for i, e := range evs {
		users[i] = e.uid
		if !e.hasUser {
			users[i] = segment.NoUser
		}
		if i%3 == 0 {
			users[i] = segment.ErasedUser // erased: counted, no user
		}
		if d.Cols[0].At(combos[i]) == 1 {
			activeCombos.Add(combos[i])
		}
	}
	for i, e := range evs {
		if i%2 == 0 {
			continue
		}
		entries.Add(uint32(i))
		e.hasUser = users[i] < segment.ErasedUser
		e.activity = e.hasUser && e.c[0] == 1
		some = append(some, e)
	}
	want, _ := sealed(some, sortCols)
	got, _ := d.Restrict(combos, users, entries, activeCombos).Seal(sortCols)
	if !sameIndex(&got, &want.Index) {
		t.Fatal("a restriction is not the index of its events")
	}

	b := d.Thaw()
	gone := evs[0].uid
	if !b.Remove(gone) || b.Remove(gone) {
		t.Fatalf("Remove(%d) twice: want true, then false", gone)
	}
	var rest []event
	for _, e := range evs {
		if e.uid == gone {
			e.hasUser = false
		}
		rest = append(rest, e)
	}
	x, _ := b.Seal(sortCols)
	want, _ = sealed(rest, sortCols)
	if !sameIndex(&x, &want.Index) || x.Holds(gone) {
		t.Fatalf("after Remove(%d) the index is not that of the events without the user", gone)
	}
}

// sameIndex reports whether a and b hold the same combinations, in the
// same order, with the same counts, users and active users.
func sameIndex(a, b *Index) bool {
	if a.Combos != b.Combos || !a.Active.Equals(b.Active) || !slices.Equal(a.Offs, b.Offs) || !slices.Equal(a.Users, b.Users) {
		return false
	}
	for i := range uint32(a.Combos) {
		if a.comboOf(i) != b.comboOf(i) || a.Counts.At(i) != b.Counts.At(i) {
			return false
		}
	}
	return true
}

// TestNewBuilderWithRoom: a builder with another's room has room for its
// combinations, and holds only its own.
func TestNewBuilderWithRoom(t *testing.T) {
	like := NewBuilder()
	for i := range uint32(300) {
		like.Add(Combo{i}, i, true, true)
	}
	b := NewBuilderWithRoom(like.Len())
	if b.Room() < like.Len() || cap(b.counts) < like.Len() || cap(b.users) < like.Len() {
		t.Fatalf("room for %d combinations, %d counts, %d user lists; want %d", b.Room(), cap(b.counts), cap(b.users), like.Len())
	}
	b.Add(Combo{7}, 3, true, true)
	if b.Len() != 1 || len(b.index) != 1 || b.counts[0] != 1 || len(b.users[0].ids) != 1 || b.Active().GetCardinality() != 1 {
		t.Fatalf("the new builder holds %d combinations, %d active users", b.Len(), b.Active().GetCardinality())
	}
}

// TestHoldsUserWithoutActivity: a user whose events are none of them
// activity is in no active set, yet the day holds it (in its
// combinations' users); Remove finds it there, and then the day does not.
func TestHoldsUserWithoutActivity(t *testing.T) {
	b := NewBuilder()
	b.Add(Combo{1}, 5, true, true)
	b.Add(Combo{2}, 9, true, false)
	b.Add(Combo{1}, 9, true, false)
	x, _ := b.Seal(nil)
	if !x.Holds(9) || x.Active.Contains(9) {
		t.Fatalf("sealed: Holds(9) = %v, active %v; want true, without 9", x.Holds(9), x.Active)
	}
	b = x.Thaw()
	if !b.Remove(9) {
		t.Fatal("Remove(9) = false, want true: its combinations hold it")
	}
	if x, _ = b.Seal(nil); x.Holds(9) || !x.Holds(5) {
		t.Fatalf("after Remove(9): Holds(9) = %v, Holds(5) = %v; want false, true", x.Holds(9), x.Holds(5))
	}
}
