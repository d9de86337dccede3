package insights_test

// A store written by segment format v1 (frame version 2), or v2 (frame
// version 3), still opens and answers as the oracle does; a late copy of
// one of its events is still refused, before and after the checkpoint
// that rewrites its segments in format v3.
//
// testdata/v1store and testdata/v2store hold the keys of a memory store
// (one file per key) written by the engine as of format v1, and v2:
// v1FixtureBatches batches of v1FixtureGen, a checkpoint after the first
// v1FixtureFlushed, the rest in the log.

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

const (
	v1FixtureBatches = 40
	v1FixtureFlushed = 30
)

func v1FixtureGen() *durGen {
	return &durGen{seed: 14, prefix: "v", batches: func(int) int { return v1FixtureBatches },
		focus: func(_, b int) int { return b % 12 }}
}

func TestOpenFormatV1Store(t *testing.T) { testOpenFixture(t, "v1store", 2) }
func TestOpenFormatV2Store(t *testing.T) { testOpenFixture(t, "v2store", 3) }

// putFixture puts into s the keys of testdata/fixture, one file per key.
func putFixture(t *testing.T, s store.Store, fixture string) {
	ctx := context.Background()
	root := filepath.Join("testdata", fixture)
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		return s.Put(ctx, filepath.ToSlash(rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testOpenFixture opens the store of testdata/fixture, whose segments are
// of frame version v.
func testOpenFixture(t *testing.T, fixture string, v byte) {
	ctx := context.Background()
	s := store.NewMemory()
	putFixture(t, s, fixture)
	if got := segmentVersions(t, s); got[v] == 0 || len(got) != 1 {
		t.Fatalf("the fixture's segments by frame version: %v, want only version %d", got, v)
	}
	g, o := v1FixtureGen(), newDurOracle()
	for b := range v1FixtureBatches {
		o.add(g.batch(0, b)...)
	}
	for round := range 3 {
		e, err := insights.Open(ctx, s, &insights.Options{Now: durClock})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := durCheck(ctx, e, o); err != nil {
			t.Fatalf("round %d, as opened: %v", round, err)
		}
		// Every batch again: the copies are refused, the events without a
		// request id count again.
		for b := range v1FixtureBatches {
			if err := e.Add(ctx, g.events(0, b)...); err != nil {
				t.Fatal(err)
			}
			o.add(g.batch(0, b)...)
		}
		if err := durCheck(ctx, e, o); err != nil {
			t.Fatalf("round %d, every batch added again: %v", round, err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		// The checkpoint of Close wrote every day in format v3: the days
		// changed, and the others, loaded by the queries, because their v1
		// segments hold request ids that the log holds too. A v2 day that
		// did not change keeps its segment.
		if got := segmentVersions(t, s); got[2] != 0 || got[4] == 0 {
			t.Fatalf("round %d: segments by frame version after a checkpoint: %v, want version 4 (format v3), and 3 for unchanged v2 days", round, got)
		}
		// The catalog of version 2 (the users inside) is now of version 3,
		// beside its users frame.
		cats, _ := s.List(ctx, "catalog/")
		if len(cats) != 2 || cats[1] != strings.Replace(cats[0], "catalog/", "catalog/users/", 1) {
			t.Fatalf("round %d: catalogs after a checkpoint: %v, want one and its users frame", round, cats)
		}
		if b, _ := s.Get(ctx, cats[0]); len(b) < 6 || b[5] != 3 {
			t.Fatalf("round %d: %s is not of frame version 3", round, cats[0])
		}
	}
}

// segmentVersions counts the segments of s by frame version.
func segmentVersions(t *testing.T, s store.Store) map[byte]int {
	ctx := context.Background()
	keys, err := s.List(ctx, "days/")
	if err != nil {
		t.Fatal(err)
	}
	out := map[byte]int{}
	for _, k := range keys {
		b, err := s.Get(ctx, k)
		if err != nil || len(b) < 6 {
			t.Fatalf("%s: %v", k, err)
		}
		out[b[5]]++
	}
	return out
}

// readCounting counts the reads of day segments: whole and by ranges.
type readCounting struct {
	*store.Memory
	gets, ranges atomic.Int64
}

func (c *readCounting) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, "days/") {
		c.gets.Add(1)
	}
	return c.Memory.Get(ctx, key)
}

func (c *readCounting) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	c.ranges.Add(1)
	return c.Memory.GetRange(ctx, key, off, n)
}

// TestOpenFormatV2ReadsWhole: on a store that reads ranges, a day whose
// segment is of format v2 is tried by a range once, the first time it is
// read, then read whole: evicted (a memory limit of 1 byte) and read
// again, by an unfiltered query (its active set alone) or a filtered one
// (its index), it costs one whole read and no range.
func TestOpenFormatV2ReadsWhole(t *testing.T) {
	ctx := context.Background()
	ios := insights.Eq(insights.DimOS, "iOS")
	for j, first := range []insights.Filter{{}, ios} {
		s := &readCounting{Memory: store.NewMemory()} // afresh: Close rewrites days in format v3
		putFixture(t, s.Memory, "v2store")
		segments, err := s.List(ctx, "days/")
		if err != nil {
			t.Fatal(err)
		}
		e, err := insights.Open(ctx, s, &insights.Options{Now: durClock, MemoryLimit: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.ranges.Store(0)
		for i, f := range []insights.Filter{first, {}, ios, {}, ios} {
			s.gets.Store(0)
			before := s.ranges.Load()
			if _, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: durDate(0), To: durDate(durDays), Filter: f}); err != nil {
				t.Fatal(err)
			}
			if g, r := s.gets.Load(), s.ranges.Load()-before; g == 0 || i >= 3 && r != 0 {
				t.Fatalf("round %d, query %d (again): v2 segments read by %d Gets and %d GetRanges, want some and none", j, i, g, r)
			}
		}
		if r := s.ranges.Load(); r > int64(len(segments)) {
			t.Fatalf("round %d: %d GetRanges of %d v2 segments, want one at most each", j, r, len(segments))
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
