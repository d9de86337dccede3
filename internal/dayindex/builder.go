package dayindex

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/segment"
)

// NumCols is the number of code columns of a day: one per indexed
// dimension, as many as a segment holds.
const NumCols = segment.NumColumns

// Combo is one distinct combination of codes, one per column, seen in a
// day: the unit the predicates of pred.go are evaluated on.
type Combo [NumCols]uint32

// Builder is the mutable index of one day: its combinations with their
// event counts and users, and its active users. Not safe for concurrent
// use: its owner's lock guards it.
type Builder struct {
	index  map[Combo]uint32
	combos []Combo
	counts []uint32
	users  []userList // per combination
	active *roaring.Bitmap
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{index: map[Combo]uint32{}, active: roaring.New()}
}

// NewBuilderWithRoom returns an empty builder with room for c
// combinations (a day before's Len): consecutive days carry alike
// traffic, so its slices and map are allocated about once rather than
// grown by doubling.
func NewBuilderWithRoom(c int) *Builder {
	return &Builder{index: make(map[Combo]uint32, c), combos: make([]Combo, 0, c), counts: make([]uint32, 0, c),
		users: make([]userList, 0, c), active: roaring.New()}
}

// Add records one event of combination c, by user uid when hasUser (an
// activity when activity), and returns the combination's number in b.
// Cost: a map lookup, O(1) amortized.
func (b *Builder) Add(c Combo, uid uint32, hasUser, activity bool) uint32 {
	i, ok := b.index[c]
	if !ok {
		i = uint32(len(b.combos))
		b.index[c] = i
		b.combos = append(b.combos, c)
		b.counts = append(b.counts, 0)
		b.users = append(b.users, userList{})
	}
	b.counts[i]++
	if !hasUser {
		return i
	}
	b.users[i].add(uid)
	if activity {
		b.active.Add(uid)
	}
	return i
}

// Len returns the number of combinations b holds.
func (b *Builder) Len() int { return len(b.combos) }

// Room returns how many combinations b holds without growing.
func (b *Builder) Room() int { return cap(b.combos) }

// Active returns the users with an activity in b (owned by b: read it
// under b's lock, do not modify).
func (b *Builder) Active() *roaring.Bitmap { return b.active }

// Remove deletes uid from b's active set and every combination's users,
// reporting whether any held it. Cost: O(users) and a sort per
// combination.
func (b *Builder) Remove(uid uint32) bool {
	found := b.active.CheckedRemove(uid)
	for i := range b.users {
		if b.users[i].remove(uid) {
			found = true
		}
	}
	return found
}

// Seal returns b's content as an immutable Index whose combinations are
// ordered by the columns of sortCols, most significant first, first seen
// first among equals, and at, which maps each of b's combination numbers
// to the index's (nil when they are the same). b is only read. Sorted,
// each code of those columns is one or a few runs of combinations, so its
// postings are dense and what a predicate selects is read from
// neighbouring memory. Cost: a sort of the combinations, O(n log n), and
// a copy of the users.
func (b *Builder) Seal(sortCols []int) (x Index, at []uint32) {
	perm := b.order(sortCols)
	x = Index{Combos: len(b.combos), Counts: segment.NewColumn(len(b.counts), func(j int) uint32 { return b.counts[perm[j]] }),
		Offs: make([]uint32, len(b.combos)+1)}
	sorted := make([]Combo, len(perm)) // read in order once: the columns then scan it
	for j, i := range perm {
		sorted[j] = b.combos[i]
	}
	for k := range x.Cols {
		x.Cols[k] = segment.NewColumn(len(sorted), func(j int) uint32 { return sorted[j][k] })
	}
	n := 0
	for i := range b.users {
		n += len(b.users[i].ids)
	}
	x.Users = make([]uint32, 0, n)
	for j, i := range perm {
		x.Users = b.users[i].appendSet(x.Users)
		x.Offs[j+1] = uint32(len(x.Users))
	}
	if len(x.Users) < n { // repeats dropped: keep only what is used
		x.Users = slices.Clone(x.Users)
	}
	x.Active = b.active.Clone()
	x.Active.RunOptimize()
	if isIdentity(perm) {
		return x, nil
	}
	at = make([]uint32, len(perm))
	for j, i := range perm {
		at[i] = uint32(j)
	}
	return x, at
}

// order returns the order a sealed index keeps b's combinations in (Seal).
func (b *Builder) order(sortCols []int) []uint32 {
	perm := Identity(len(b.combos))
	slices.SortFunc(perm, func(x, y uint32) int {
		a, c := &b.combos[x], &b.combos[y]
		for _, k := range sortCols {
			if a[k] != c[k] {
				return cmp.Compare(a[k], c[k])
			}
		}
		return cmp.Compare(x, y)
	})
	return perm
}

// Renumber returns at[c] for each c of combos, in a new slice: combination
// numbers mapped as Seal's at maps them.
func Renumber(combos, at []uint32) []uint32 {
	out := make([]uint32, len(combos))
	for e, c := range combos {
		out[e] = at[c]
	}
	return out
}

// Identity returns 0, 1, ..., n-1: the numbering that keeps n
// combinations as they are.
func Identity(n int) []uint32 {
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	return perm
}

// isIdentity reports whether perm maps every index to itself.
func isIdentity(perm []uint32) bool {
	for i, p := range perm {
		if p != uint32(i) {
			return false
		}
	}
	return true
}
