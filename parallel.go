package insights

import (
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// dayInput is one day a query evaluates, with what the sequential part of
// the evaluation found for it: the day (restricted to the log-field
// filter's events when the predicate is logged) and the users to drop.
type dayInput struct {
	n      int32
	d      *day            // nil for a plain predicate's day
	active *roaring.Bitmap // the day's active set, for a plain predicate (activeSet)
	del    *roaring.Bitmap // users deleted before the day, when p drops them; nil for none
}

// inputs returns the days of [from, to) that have data and for which done
// (nil: none is) is false, loading them on the caller's goroutine: day
// loading and the deletion and log-field caches write the evaluation's
// state. Stops early, with ev.err set, when the context ends.
func (ev *evaluation) inputs(p userPred, from, to int32, done func(n int32) bool) []dayInput {
	var in []dayInput
	switch {
	case ev.err != nil || p.logged:
	case p.plain:
		ev.e.prefetchActive(ev.ctx, max(from, ev.minDay), min(to, ev.maxDay+1))
	default:
		ev.e.prefetchDays(ev.ctx, max(from, ev.minDay), min(to, ev.maxDay+1), ev.need)
	}
	for n := max(from, ev.minDay); n < to && n <= ev.maxDay; n++ {
		if !ev.check() {
			return nil
		}
		if done != nil && done(n) {
			continue
		}
		var x dayInput
		switch {
		case p.plain && !p.logged:
			x.active = ev.activeSet(n) // the set alone, read from the segment if need be
		case p.logged:
			x.d = ev.loggedDay(n)
		default:
			x.d = ev.day(n)
		}
		if x.d == nil && x.active == nil {
			continue
		}
		x.n = n
		if p.dropDeleted {
			x.del = ev.deletedBefore(n)
		}
		in = append(in, x)
	}
	return in
}

// forEach calls f(i) for every i in [0, n) on up to workers goroutines,
// the caller's among them, and returns when every call has returned. f
// must be safe to run concurrently with itself.
func forEach(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			f(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
