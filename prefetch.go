package insights

import (
	"context"
	"errors"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/store"
)

// A query's first reads of its days go to the store one day at a time
// when a query reads them as it goes (sealedDay, storedActive, under
// sealMu); the prefetches here read the days of a range ahead (its
// indexes: up to half the MemoryLimit), on up to QueryParallelism
// goroutines, holding sealMu only to find the days and to
// install what they read, so that the reads wait on the store (an open
// and a read on the directory store, a round trip on PostgreSQL) side by
// side. They change no answer: what they install is what the query would
// read, and a read that fails is left to the query's own, which reads it
// again and reports the error. The read lock is held.

// prefetchActive reads the active sets that storedActive would read one
// at a time for the days of [from, to), on up to the engine's
// QueryParallelism goroutines, and keeps them on their days as
// storedActive does: a day's read waits on the store (an open and a read
// on the directory store, a round trip on PostgreSQL) more than on the
// CPU. It holds sealMu only to find the days and to install what it read
// (a day changed meanwhile by another query keeps what that query put).
// A read that fails is left to storedActive, which reads it again and
// reports the error. The read lock is held.
func (e *Engine) prefetchActive(ctx context.Context, from, to int32) {
	rg, ok := e.store.(store.RangeGetter)
	if !ok || e.parallelism <= 1 {
		return
	}
	type read struct {
		n   int32
		ds  *dayState
		key string
		set *roaring.Bitmap
		err error
	}
	var reads []read
	e.sealMu.Lock()
	for n := from; n < to; n++ {
		if ds := e.days[n]; ds.activeStored() && ds.activeOnly == nil {
			reads = append(reads, read{n: n, ds: ds, key: ds.segKey})
		}
	}
	users := e.userCount()
	e.sealMu.Unlock()
	if len(reads) < 2 {
		return
	}
	forEach(len(reads), e.parallelism, func(i int) {
		r := &reads[i]
		r.set, r.err = segment.RangedActive(ctx, rg, r.key, r.n, users)
	})
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	for _, r := range reads {
		ds := r.ds
		switch {
		case !ds.activeStored() || ds.segKey != r.key || ds.activeOnly != nil:
		case errors.Is(r.err, errNotRanged):
			ds.wholeKey = r.key
		case r.err == nil:
			ds.activeOnly = r.set
			e.loads.active.Add(1)
			e.loads.prefetched.Add(1)
			e.hold(ds)
		}
	}
}

// prefetchDays reads, for the days of [from, to) that sealedDay would
// load from their segments or whose loaded index lacks sections of need,
// those indexes and sections, on up to the engine's QueryParallelism
// goroutines, and installs the indexes read as sealedDay does (a day
// loaded meanwhile by another query keeps that one). It reads the range's
// first day alone, then windows of up to twice QueryParallelism days, as
// many as its days so far say fit, and stops once what it installed
// passes half the MemoryLimit: the query reads the rest as it goes, so
// that no day read ahead is evicted by the days read after it before the
// query uses it (read again) under a limit smaller than the range.
func (e *Engine) prefetchDays(ctx context.Context, from, to int32, need sectionSet) {
	if e.parallelism <= 1 {
		return
	}
	e.sealMu.Lock()
	budget := e.residents.limit / 2
	e.sealMu.Unlock()
	var held int64 // bytes of the days read ahead so far
	days := 0      // days read ahead so far
	for n := from; n < to; {
		w := int64(2 * e.parallelism)
		switch {
		case days == 0:
			w = 1 // its bytes size the windows after it
		case held > 0:
			w = min(w, (budget-held)/max(held/int64(days), 1)) // the days of average bytes that fit
		}
		if w < 1 {
			return
		}
		end := int32(min(int64(to), int64(n)+w))
		b, k := e.prefetchWindow(ctx, n, end, need)
		held, days, n = held+b, days+k, end
		if held > budget {
			return
		}
	}
}

// prefetchWindow is prefetchDays for the days of [from, to): it returns
// the bytes the days it read hold after, and how many they are.
func (e *Engine) prefetchWindow(ctx context.Context, from, to int32, need sectionSet) (int64, int) {
	type read struct {
		n     int32
		ds    *dayState
		key   string
		whole bool
		d     *day // loaded: needs sections; else read here
		grown bool // d loaded, its sections of need decoded here
		err   error
	}
	var reads []read
	e.sealMu.Lock()
	for n := from; n < to; n++ {
		ds := e.days[n]
		switch {
		case ds == nil || ds.dirty || ds.segKey == "" || ds.sealing != nil || ds.open != nil: // sealedDay's to handle
		case ds.sealed == nil:
			reads = append(reads, read{n: n, ds: ds, key: ds.segKey, whole: ds.wholeKey == ds.segKey})
		case sectionSet(ds.sealed.pending.Load())&need != 0:
			reads = append(reads, read{n: n, ds: ds, d: ds.sealed})
		}
	}
	lim := e.dayLimits()
	e.sealMu.Unlock()
	if len(reads) == 0 {
		return 0, 0
	}
	forEach(len(reads), e.parallelism, func(i int) {
		r := &reads[i]
		if r.d != nil {
			if r.d.need(ctx, need) == nil { // an error is the query's to report (sealedDay)
				e.loads.prefetchedDays.Add(1)
				r.grown = true
			}
			return
		}
		r.d, r.whole, r.err = e.readDay(ctx, r.n, r.key, r.whole, lim, need)
	})
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	var bytes int64
	days := 0
	for _, r := range reads {
		ds := r.ds
		switch {
		case r.grown:
			if ds.sealed != r.d {
				continue // evicted or sealed anew meanwhile
			}
		case r.d != nil && r.err == nil && ds.sealed == nil && !ds.dirty && ds.sealing == nil && ds.open == nil && ds.segKey == r.key:
			ds.sealed, ds.segFullIDs, ds.activeOnly = r.d, r.d.fullIDs, nil
			if r.whole {
				ds.wholeKey = r.key
			}
			e.loads.prefetchedDays.Add(1)
		default:
			continue
		}
		e.hold(ds) // measures the sections decoded
		bytes += ds.bytes
		days++
	}
	return bytes, days
}
