package metrics_test

import (
	"math"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

func set(ids ...uint32) *roaring.Bitmap { return roaring.BitmapOf(ids...) }

// members returns the members of b; nil is the empty set.
func members(b *roaring.Bitmap) []uint32 {
	if b == nil {
		return nil
	}
	return b.ToArray()
}

func same(t *testing.T, what string, got *roaring.Bitmap, want []uint32) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil bitmap, want %v", what, want)
		return
	}
	if g := members(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Errorf("%s = %v, want %v", what, g, want)
	}
}

// snapshot records the members of inputs, to check they are not modified.
func snapshot(sets ...*roaring.Bitmap) [][]uint32 {
	out := make([][]uint32, len(sets))
	for i, s := range sets {
		out[i] = members(s)
	}
	return out
}

func unchanged(t *testing.T, before [][]uint32, sets ...*roaring.Bitmap) {
	t.Helper()
	for i, s := range sets {
		if !slices.Equal(members(s), before[i]) {
			t.Errorf("input %d modified: %v, was %v", i, members(s), before[i])
		}
	}
}

func rangeIDs(from, to, step uint32) []uint32 {
	var out []uint32
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

func TestNoDay(t *testing.T) {
	if metrics.NoDay != math.MaxInt32 {
		t.Errorf("NoDay = %d, want %d", metrics.NoDay, int32(math.MaxInt32))
	}
}

func TestUnion(t *testing.T) {
	cases := []struct {
		name string
		sets []*roaring.Bitmap
		want []uint32
	}{
		{"no sets is empty", nil, nil},
		{"nil sets are skipped", []*roaring.Bitmap{nil, nil}, nil},
		{"empty sets", []*roaring.Bitmap{set(), set()}, nil},
		{"one set", []*roaring.Bitmap{set(1, 5)}, []uint32{1, 5}},
		{"one set among nils", []*roaring.Bitmap{nil, set(7), nil}, []uint32{7}},
		{"overlapping sets count once", []*roaring.Bitmap{set(1, 2), set(2, 3), nil, set(), set(3, 1)}, []uint32{1, 2, 3}},
		{"many sets", []*roaring.Bitmap{set(rangeIDs(0, 1000, 2)...), set(rangeIDs(1, 1000, 2)...), set(70000)},
			append(rangeIDs(0, 1000, 1), 70000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(c.sets...)
			got := metrics.Union(c.sets...)
			same(t, "Union", got, c.want)
			unchanged(t, before, c.sets...)
			// The result is the caller's: changing it leaves the inputs alone.
			got.Add(999999)
			unchanged(t, before, c.sets...)
		})
	}
}

func TestFirstIn(t *testing.T) {
	nd := metrics.NoDay
	many := make([]int32, 1000)
	for i := range many {
		many[i] = int32(i % 10)
	}
	cases := []struct {
		name     string
		active   *roaring.Bitmap
		first    []int32
		from, to int32
		want     []uint32
	}{
		{"nil active is empty", nil, []int32{0}, 0, 1, nil},
		{"half-open bucket", set(0, 1, 2, 3), []int32{5, 3, nd, 4}, 3, 5, []uint32{1, 3}},
		{"first day before the bucket: not new", set(0), []int32{2}, 3, 5, nil},
		{"never active (NoDay) is never new", set(0), []int32{nd}, 0, nd, nil},
		{"ids past the array have no first day", set(1, 10), []int32{0, 0}, 0, 1, []uint32{1}},
		{"only members of active are considered", set(1), []int32{0, 0, 0}, 0, 1, []uint32{1}},
		{"days before 1970", set(0, 1), []int32{-3, -1}, -5, -1, []uint32{0}},
		{"more than one buffer of results", set(rangeIDs(0, 1000, 1)...), many, 0, 1, rangeIDs(0, 1000, 10)},
		{"empty bucket", set(0, 1), []int32{4, 4}, 4, 4, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(c.active)
			firstBefore := slices.Clone(c.first)
			same(t, "FirstIn", metrics.FirstIn(c.active, c.first, c.from, c.to), c.want)
			unchanged(t, before, c.active)
			if !slices.Equal(c.first, firstBefore) {
				t.Errorf("first modified")
			}
		})
	}
}

func TestDifference(t *testing.T) {
	cases := []struct {
		name  string
		a     *roaring.Bitmap
		minus []*roaring.Bitmap
		want  []uint32
	}{
		{"nil minus anything is empty", nil, []*roaring.Bitmap{set(1)}, nil},
		{"minus nothing is a copy", set(1, 2), nil, []uint32{1, 2}},
		{"minus nil", set(1, 2), []*roaring.Bitmap{nil}, []uint32{1, 2}},
		{"minus several sets", set(1, 2, 3, 4, 5), []*roaring.Bitmap{set(2), nil, set(4, 9)}, []uint32{1, 3, 5}},
		{"minus itself is empty", set(1, 2), []*roaring.Bitmap{set(1, 2)}, nil},
		{"minus a disjoint set", set(1, 2), []*roaring.Bitmap{set(3)}, []uint32{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := append([]*roaring.Bitmap{c.a}, c.minus...)
			before := snapshot(all...)
			got := metrics.Difference(c.a, c.minus...)
			same(t, "Difference", got, c.want)
			got.Add(999999)
			unchanged(t, before, all...)
		})
	}
}

func TestIntersection(t *testing.T) {
	cases := []struct {
		name string
		a, b *roaring.Bitmap
		want []uint32
	}{
		{"nil a", nil, set(1), nil},
		{"nil b", set(1), nil, nil},
		{"both nil", nil, nil, nil},
		{"overlap", set(1, 2, 3), set(2, 3, 4), []uint32{2, 3}},
		{"disjoint", set(1), set(2), nil},
		{"same set", set(5, 6), set(5, 6), []uint32{5, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(c.a, c.b)
			got := metrics.Intersection(c.a, c.b)
			same(t, "Intersection", got, c.want)
			got.Add(999999)
			unchanged(t, before, c.a, c.b)
		})
	}
}

func TestRatio(t *testing.T) {
	cases := []struct {
		name     string
		num, den uint64
		want     float64
	}{
		{"0 / 0 is 0", 0, 0, 0},
		{"1 / 0 is 0", 1, 0, 0},
		{"0 / 5", 0, 5, 0},
		{"1 / 2", 1, 2, 0.5},
		{"3 / 3", 3, 3, 1},
		{"2 / 3", 2, 3, 2.0 / 3},
		{"DAU 120 of MAU 480", 120, 480, 0.25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := metrics.Ratio(c.num, c.den); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("Ratio(%d, %d) = %v, want %v", c.num, c.den, got, c.want)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	cases := []struct {
		name                               string
		cur, prev, newUsers                *roaring.Bitmap
		wantNew, wantRet, wantRes, wantDor []uint32
	}{
		{"every series", set(1, 3, 4), set(2, 3), set(4), []uint32{4}, []uint32{3}, []uint32{1}, []uint32{2}},
		{"no previous bucket: the old users resurrect", set(1, 2), nil, set(2), []uint32{2}, nil, []uint32{1}, nil},
		{"no new users", set(1, 2), set(2, 3), nil, nil, []uint32{2}, []uint32{1}, []uint32{3}},
		{"nobody active: everyone is dormant", nil, set(2, 3), nil, nil, nil, nil, []uint32{2, 3}},
		{"all nil", nil, nil, nil, nil, nil, nil, nil},
		{"a new user active in the previous bucket is new, not returning", set(1), set(1), set(1),
			[]uint32{1}, nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(c.cur, c.prev, c.newUsers)
			lc := metrics.Lifecycle(c.cur, c.prev, c.newUsers)
			same(t, "New", lc.New, c.wantNew)
			same(t, "Returning", lc.Returning, c.wantRet)
			same(t, "Resurrecting", lc.Resurrecting, c.wantRes)
			same(t, "Dormant", lc.Dormant, c.wantDor)
			if lc.New != nil && lc.Returning != nil && lc.Resurrecting != nil {
				// New + Returning + Resurrecting is the active set, without overlap.
				same(t, "New ∪ Returning ∪ Resurrecting", metrics.Union(lc.New, lc.Returning, lc.Resurrecting), members(c.cur))
				if n := lc.New.GetCardinality() + lc.Returning.GetCardinality() + lc.Resurrecting.GetCardinality(); c.cur != nil && n != c.cur.GetCardinality() {
					t.Errorf("new + returning + resurrecting = %d, active = %d", n, c.cur.GetCardinality())
				}
			}
			for _, s := range []*roaring.Bitmap{lc.New, lc.Returning, lc.Resurrecting, lc.Dormant} {
				if s != nil {
					s.Add(999999)
				}
			}
			unchanged(t, before, c.cur, c.prev, c.newUsers)
		})
	}
}
