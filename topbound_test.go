package insights

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestTopByBoundStopsAtStrictBound checks which codes topByBound unions:
// in descending order of bound, until n exact sizes are larger than the
// next bound. A code whose bound equals the n-th size is still unioned (it
// could tie, and win on its group value); the rest are not.
func TestTopByBoundStopsAtStrictBound(t *testing.T) {
	type group struct{ bound, size uint64 }
	groups := []group{{10, 4}, {8, 8}, {6, 6}, {6, 5}, {5, 5}, {1, 1}}
	sets := make([]*roaring.Bitmap, len(groups))
	for c, g := range groups {
		sets[c] = roaring.New()
		sets[c].AddRange(0, g.size)
	}
	codes := []int{5, 3, 1, 0, 4, 2} // any order
	cases := []struct {
		name string
		n    int
		want []int // codes unioned
	}{
		{"top 2: the bound 6 equal to the 2nd size is unioned, the bound 5 below it is not", 2, []int{0, 1, 2, 3}},
		{"top 1: bounds below the largest size are skipped", 1, []int{0, 1}},
		{"top 0 unions every code", 0, []int{0, 1, 2, 3, 4, 5}},
		{"top as many as the codes unions every code", 6, []int{0, 1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var called []int
			got := topByBound(codes, c.n, func(c int) uint64 { return groups[c].bound }, func(c int) *roaring.Bitmap {
				called = append(called, c)
				return sets[c]
			})
			slices.Sort(called)
			if !slices.Equal(called, c.want) {
				t.Errorf("unioned codes %v, want %v", called, c.want)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, c.want) {
				t.Errorf("returned codes %v, want %v", keys, c.want)
			}
		})
	}
}

// TestTopActiveByCountryTies checks Top without Other on active users by
// country over six days, answered from two overlapping blocks of four
// days (coverOf), March 3–6 and 5–8: B's users are on a day both blocks
// hold (bound 6, 3 users), A's on a day one holds (bound 3, 3 users), C's
// likewise (bound 2, 2 users), D's two on a day of each block only (bound
// 4, 4 users: larger than either block's). D ranks first; A ties B at 3
// and ranks before it on its value; C is last. Also with a memory limit
// of one byte: every day evicted and read back between queries.
func TestTopActiveByCountryTies(t *testing.T) {
	for _, limit := range []int64{0, 1} {
		t.Run(fmt.Sprintf("MemoryLimit=%d", limit), func(t *testing.T) { testTopActiveByCountryTies(t, limit) })
	}
}

func testTopActiveByCountryTies(t *testing.T, limit int64) {
	ctx := context.Background()
	e, o := openAggEngine(t, limit)
	at := func(day int) time.Time { return time.Date(2025, 3, day, 12, 0, 0, 0, time.UTC) }
	var evs []Event
	for _, u := range []struct {
		user, country string
		day           int
	}{
		{"b1", "B", 5}, {"b2", "B", 5}, {"b3", "B", 5}, // B first: its code is the smaller
		{"a1", "A", 3}, {"a2", "A", 3}, {"a3", "A", 3},
		{"c1", "C", 8}, {"c2", "C", 8},
		{"d1", "D", 3}, {"d2", "D", 3}, {"d3", "D", 8}, {"d4", "D", 8},
	} {
		evs = append(evs, Event{Time: at(u.day), Kind: KindSignIn, UserKey: u.user, Country: u.country})
	}
	o.add(t, e, evs...)
	if err := e.Flush(ctx); err != nil { // saved: evictable
		t.Fatal(err)
	}
	for _, c := range []struct {
		top  int
		want []string
	}{
		{1, []string{"D 4"}},
		{2, []string{"D 4", "A 3"}},
		{3, []string{"D 4", "A 3", "B 3"}},
		{4, []string{"D 4", "A 3", "B 3", "C 2"}},
	} {
		q := Query{Metric: ActiveUsers, Granularity: Total, From: NewDate(2025, 3, 3), To: NewDate(2025, 3, 9),
			GroupBy: []Dimension{DimCountry}, Top: c.top}
		for range 2 { // building the blocks, then from the kept ones
			res, err := e.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Rows {
				got = append(got, fmt.Sprintf("%s %g", r.Groups[0], r.Value))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("top %d: rows %v, want %v", c.top, got, c.want)
			}
		}
	}
}
