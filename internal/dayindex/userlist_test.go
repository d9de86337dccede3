package dayindex

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUserListIsASet checks a combination's user list against a plain set
// through adds (with runs of repeats, so that it compacts), removals, and
// the two ways of reading it: appendSet, which a seal uses and which must
// leave the list unchanged, and set.
func TestUserListIsASet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		adds     int
		universe uint32
	}{
		{"one user many times", 500, 1},
		{"few users repeated, compacts", 2000, 40},
		{"mostly distinct users", 3000, 1 << 20},
		{"below the slack, never compacts", compactSlack, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.adds)))
			var l userList
			want := map[uint32]bool{}
			for i := range tc.adds {
				u := r.Uint32N(tc.universe)
				l.add(u)
				want[u] = true
				if i%97 == 96 {
					gone := r.Uint32N(tc.universe)
					if got := l.remove(gone); got != want[gone] {
						t.Fatalf("remove(%d) = %v, want %v", gone, got, want[gone])
					}
					delete(want, gone)
				}
				if len(l.ids) > 2*len(want)+compactSlack+1 {
					t.Fatalf("after %d adds the list holds %d ids for %d users", i+1, len(l.ids), len(want))
				}
			}
			var ref []uint32
			for u := range want {
				ref = append(ref, u)
			}
			slices.Sort(ref)
			before := slices.Clone(l.ids)
			got := l.appendSet([]uint32{7})
			if !slices.Equal(got[1:], ref) || got[0] != 7 {
				t.Fatalf("appendSet = %v, want [7] then %v", got, ref)
			}
			if !slices.Equal(l.ids, before) {
				t.Fatal("appendSet changed the list")
			}
			if got := l.set(); !slices.Equal(got, ref) {
				t.Fatalf("set = %v, want %v", got, ref)
			}
		})
	}
}

// TestSealedUsersAreEachCombinationsSet: an index sealed from a builder
// fed repeated users (lists compacted on the way, and not) holds, for
// each combination in its sealed order, exactly its distinct users
// ascending, and the builder thawed from it seals to the same index.
func TestSealedUsersAreEachCombinationsSet(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := NewBuilder()
	want := map[Combo]map[uint32]bool{}
	for range 5000 {
		var c Combo
		c[0], c[4] = r.Uint32N(3), r.Uint32N(5)
		uid := r.Uint32N(200)
		if c[4] == 4 {
			uid %= 3 // few users, many times: compacts
		}
		b.Add(c, uid, true, true)
		if want[c] == nil {
			want[c] = map[uint32]bool{}
		}
		want[c][uid] = true
	}
	check := func(what string, x *Index) {
		t.Helper()
		if x.NumCombos() != len(want) {
			t.Fatalf("%s: %d combinations, want %d", what, x.NumCombos(), len(want))
		}
		for i := range x.NumCombos() {
			c := x.comboOf(uint32(i))
			var ref []uint32
			for u := range want[c] {
				ref = append(ref, u)
			}
			slices.Sort(ref)
			if got := x.UsersOf(i); !slices.Equal(got, ref) {
				t.Fatalf("%s: combination %v holds %v, want %v", what, c, got, ref)
			}
		}
		if n := int(x.Offs[len(x.Offs)-1]); n != len(x.Users) {
			t.Fatalf("%s: offsets end at %d of %d users", what, n, len(x.Users))
		}
	}
	x, _ := b.Seal([]int{4, 0})
	check("sealed", &x)
	again, at := x.Thaw().Seal([]int{4, 0})
	check("thawed and sealed again", &again)
	if at != nil {
		t.Fatalf("a sealed index thawed and sealed again is renumbered: %v", at)
	}
}
