package insights_test

// Cold queries after Open: unfiltered active users read each day's active
// set alone from its segment (format v3, a store that reads ranges), and
// answer as the oracle does, also after a late event, an erasure and a
// reopen; a filtered query reads the days' indexes; a store that does not
// read ranges answers the same from whole segments.

import (
	"context"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// wholeStore hides the RangeGetter of the store it wraps.
type wholeStore struct{ store.Store }

// coldActive returns the active users of each granularity's buckets over
// the data's days, by "granularity/start".
func coldActive(ctx context.Context, t *testing.T, e *insights.Engine, f insights.Filter) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Month, insights.Total} {
		res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: g, From: durDate(0), To: durDate(durDays), Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			out[g.String()+"/"+r.Start.String()] = r.Value
		}
	}
	return out
}

// coldOracle returns what coldActive must, unfiltered, from o: per bucket
// the users active on one of its days and not deleted before that day.
func coldOracle(ctx context.Context, t *testing.T, e *insights.Engine, o *durOracle) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Month, insights.Total} {
		res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: g, From: durDate(0), To: durDate(durDays)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows { // the buckets' bounds only
			users := map[string]bool{}
			for d := max(0, durDayOf(r.Start)); d < min(durDays, durDayOf(r.End)); d++ {
				for u := range o.active[d] {
					if o.alive(u, d) {
						users[u] = true
					}
				}
			}
			out[g.String()+"/"+r.Start.String()] = float64(len(users))
		}
	}
	return out
}

func coldCompare(t *testing.T, what string, want, got map[string]float64) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d buckets, want %d", what, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s = %v, want %v", what, k, got[k], v)
		}
	}
}

func TestColdActiveSets(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	g := &durGen{seed: 71, prefix: "c", batches: func(int) int { return 80 }, focus: func(_, b int) int { return b % durDays }}
	o := newDurOracle()
	e, err := insights.Open(ctx, s, &insights.Options{Now: durClock})
	if err != nil {
		t.Fatal(err)
	}
	for b := range 80 {
		if err := e.Add(ctx, g.events(0, b)...); err != nil {
			t.Fatal(err)
		}
		o.add(g.batch(0, b)...)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	open := func(st store.Store) *insights.Engine {
		e, err := insights.Open(ctx, st, &insights.Options{Now: durClock})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	e = open(s)
	want := coldOracle(ctx, t, e, o)
	coldCompare(t, "cold", want, coldActive(ctx, t, e, insights.Filter{}))
	if index, active := insights.SegmentLoads(e); index != 0 || active == 0 {
		t.Fatalf("cold unfiltered queries read %d indexes and %d active sets, want 0 and some", index, active)
	}
	ios := insights.Eq(insights.DimOS, "iOS")
	filtered := coldActive(ctx, t, e, ios)
	if index, _ := insights.SegmentLoads(e); index == 0 {
		t.Fatal("a filtered query read no index")
	}
	coldCompare(t, "unfiltered, the indexes loaded", want, coldActive(ctx, t, e, insights.Filter{}))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// Under a memory limit that keeps one day, the active sets read alone
	// are evicted and read again: the answers stay.
	tight, err := insights.Open(ctx, s, &insights.Options{Now: durClock, MemoryLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	coldCompare(t, "evicting", want, coldActive(ctx, t, tight, insights.Filter{}))
	coldCompare(t, "evicting, filtered", filtered, coldActive(ctx, t, tight, ios))
	coldCompare(t, "evicting, again", want, coldActive(ctx, t, tight, insights.Filter{}))
	if m := tight.Memory(); m.Evictions == 0 || m.Days != 1 {
		t.Fatalf("under a limit of 1 byte: %+v", m)
	}
	if err := tight.Close(); err != nil {
		t.Fatal(err)
	}

	// A store read whole answers the same.
	w := open(wholeStore{s})
	coldCompare(t, "whole segments", want, coldActive(ctx, t, w, insights.Filter{}))
	coldCompare(t, "whole segments, filtered", filtered, coldActive(ctx, t, w, ios))
	if _, active := insights.SegmentLoads(w); active != 0 {
		t.Fatalf("%d active sets read alone from a store that does not read ranges", active)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A late event and an erasure on days whose active sets were read
	// alone: the answers follow them, before and after a reopen.
	e = open(s)
	coldActive(ctx, t, e, insights.Filter{})
	late := &durGen{seed: 72, prefix: "l", batches: func(int) int { return 6 }, focus: func(_, b int) int { return 3 + 9*b }}
	for b := range 6 {
		if err := e.Add(ctx, late.events(0, b)...); err != nil {
			t.Fatal(err)
		}
		o.add(late.batch(0, b)...)
	}
	coldCompare(t, "after the late events", coldOracle(ctx, t, e, o), coldActive(ctx, t, e, insights.Filter{}))
	var gone string
	for u := range o.active[10] {
		gone = u
		break
	}
	if _, err := e.Erase(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for d := range o.active {
		delete(o.active[d], gone)
	}
	delete(o.deleted, gone)
	want = coldOracle(ctx, t, e, o)
	coldCompare(t, "after the late events and the erasure", want, coldActive(ctx, t, e, insights.Filter{}))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(s)
	coldCompare(t, "reopened", want, coldActive(ctx, t, e, insights.Filter{}))
	if index, _ := insights.SegmentLoads(e); index != 0 {
		t.Fatalf("cold unfiltered queries read %d indexes", index)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestColdActiveSetsInParallel: a cold unfiltered query over many days
// reads their active sets ahead, on QueryParallelism goroutines, and
// queries then answer as the oracle; also under a memory limit that evicts them as
// they come, and with a store that does not read ranges.
func TestColdActiveSetsInParallel(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	g := &durGen{seed: 73, prefix: "p", batches: func(int) int { return 60 }, focus: func(_, b int) int { return b % durDays }}
	o := newDurOracle()
	e, err := insights.Open(ctx, s, &insights.Options{Now: durClock})
	if err != nil {
		t.Fatal(err)
	}
	for b := range 60 {
		if err := e.Add(ctx, g.events(0, b)...); err != nil {
			t.Fatal(err)
		}
		o.add(g.batch(0, b)...)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		st    store.Store
		limit int64
	}{{"ranges", s, 0}, {"ranges, evicting", s, 1}, {"whole", wholeStore{s}, 0}} {
		e, err := insights.Open(ctx, c.st, &insights.Options{Now: durClock, QueryParallelism: 4, MemoryLimit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: durDate(0), To: durDate(durDays)}); err != nil {
			t.Fatal(err)
		}
		_, active := insights.SegmentLoads(e)
		prefetched := insights.PrefetchedActive(e)
		coldCompare(t, c.name, coldOracle(ctx, t, e, o), coldActive(ctx, t, e, insights.Filter{}))
		switch {
		case c.st == s && (prefetched == 0 || c.limit == 0 && prefetched != active):
			t.Fatalf("%s: %d active sets read ahead of %d read alone", c.name, prefetched, active)
		case c.st != s && active != 0:
			t.Fatalf("%s: %d active sets read alone", c.name, active)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
