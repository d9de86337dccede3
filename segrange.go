package insights

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/dayindex"
	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// Ranged reads of format v3 segments (internal/segment), on a store that
// implements store.RangeGetter: the head (day, combinations, directory,
// checksums) and the active set laid out after it first, in one read,
// then only the sections a use needs, each checked against its checksum. A day's index
// is read without its event log (read whole, and checked by the frame's
// checksum, when first needed: day.events), and unfiltered activity reads
// only the day's active set. A read that comes back shorter than asked is
// continued until a read returns nothing (segment.ReadRest). Segments of format
// v1 and v2 have no section checksums: they are read whole, at once after
// the first read of a day finds one (dayState.wholeKey).

// errNotRanged reports a segment of a format without section checksums:
// the caller reads it whole.
var errNotRanged = segment.ErrNotRanged

// rangedIndex reads the index of day n from its format v3 segment under
// key, without the event log, within lim: its active set and request ids,
// then the sections of need (daysections.go); the others are read when
// first needed. The day's log is read from the segment when first needed
// (its logGet left to the caller to set). errNotRanged for a segment of an
// earlier format.
func rangedIndex(ctx context.Context, rg store.RangeGetter, key string, n int32, lim limits, dec *zstd.Decoder, need sectionSet) (*day, error) {
	seg := lim.segment()
	x, g, err := segment.ReadRanged(ctx, rg, key, n, seg)
	if err != nil {
		return nil, err
	}
	d := &day{ix: dayindex.Day{Index: dayindex.Index{Combos: x.Combos, Active: x.Active}}, fullIDs: x.FullIDs, requestIDs: x.RequestIDs}
	d.lazy = &sectionReader{key: key, ranged: g, lim: seg, dec: dec, get: func(ctx context.Context, off, n int) ([]byte, error) {
		return segment.ReadRest(ctx, rg, key, off, n, nil)
	}}
	d.pending.Store(uint32(lazySections))
	d.index.Store(d.headBytes())
	d.logKey, d.logOff, d.logUsers, d.logDec = key, g.LogOff, lim.users, dec
	if err := d.need(ctx, need); err != nil {
		return nil, err
	}
	return d, nil
}

// segmentLoads counts an engine's segment reads, for tests: indexes, and
// active sets read alone, of them prefetched those prefetchActive read,
// and the indexes and sections prefetchDays read.
type segmentLoads struct{ index, active, prefetched, prefetchedDays atomic.Int64 }

// activeSet returns the active users of day n (shared: do not modify),
// nil if it has no data: the sealed day's, or, for a day whose index is
// not in memory, the set alone from its segment (storedActive). The read
// lock is held.
func (ev *evaluation) activeSet(n int32) *roaring.Bitmap {
	if ev.err != nil {
		return nil
	}
	s, err := ev.e.storedActive(ev.ctx, n)
	if err == nil && s == nil {
		if d := ev.day(n); d != nil {
			s = d.ix.Active
		}
	}
	if err != nil {
		ev.err = err
	}
	return s
}

// storedActive returns the active set of day n read alone from its
// segment, when sealedDay would load the day from there (its index is
// not in memory and it has no change since), the store reads ranges and
// the segment is of format v3; else nil. The set is kept on the day,
// counted in Options.MemoryLimit, until it is evicted or its index loads.
// The read lock is held; sealMu serializes concurrent queries.
func (e *Engine) storedActive(ctx context.Context, n int32) (*roaring.Bitmap, error) {
	rg, ok := e.store.(store.RangeGetter)
	if !ok {
		return nil, nil
	}
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	ds := e.days[n]
	if !ds.activeStored() {
		return nil, nil
	}
	if ds.activeOnly == nil {
		s, err := segment.RangedActive(ctx, rg, ds.segKey, n, e.userCount())
		switch {
		case errors.Is(err, errNotRanged):
			ds.wholeKey = ds.segKey
			return nil, nil
		case errors.Is(err, store.ErrNotFound):
			return nil, e.missing(ctx, ds.segKey, err)
		case err != nil:
			return nil, err
		}
		ds.activeOnly = s
		e.loads.active.Add(1)
	}
	e.hold(ds)
	return ds.activeOnly, nil
}

// activeStored reports whether the day's active set is read from its
// segment alone (storedActive): it has data, no change since its segment,
// no index in memory, and a segment not known to be of format v1 or v2.
// The read lock is held, and sealMu.
func (ds *dayState) activeStored() bool {
	return ds != nil && !ds.dirty && ds.sealed == nil && ds.segKey != "" && ds.wholeKey != ds.segKey
}
