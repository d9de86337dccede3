package insights

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// markStaleSketches records that uid is now deleted on day d: the day
// sketches after d that took uid's activity (up to its last activity day,
// and not past an earlier-recorded deletion, after which nothing was
// inserted) are stale. The write lock is held.
func (e *Engine) markStaleSketches(uid uint32, d int32) {
	last := min(e.last[uid], e.deleted[uid])
	if e.last[uid] == metrics.NoDay || last <= d {
		return
	}
	for n := d + 1; n <= last; n++ {
		if e.sketches.hasDay(n) {
			if e.sketches.stale == nil {
				e.sketches.stale = map[int32]bool{}
			}
			e.sketches.stale[n] = true
		}
	}
}

// freshenSketches rebuilds the stale day sketches, and their weeks and
// months, from the days' exact active sets, so that they count no user
// after the user's deletion day, as the exact metrics do. The write lock
// is held. Cost: nothing when none is stale (the usual case); else days
// not in memory are loaded, and an insertion per active user of each.
func (e *Engine) freshenSketches(ctx context.Context) error {
	if len(e.sketches.stale) == 0 {
		return nil
	}
	if err := e.loadUsers(ctx); err != nil { // the rebuild hashes the users' keys
		return err
	}
	days := slices.Sorted(maps.Keys(e.sketches.stale))
	_, err := e.rebuildSketches(days, func(n int32) (*roaring.Bitmap, error) {
		ds := e.days[n]
		if ds != nil {
			ds.unfreeze(true) // its builder has every activity
		}
		switch {
		case ds == nil:
			return roaring.New(), nil
		case ds.open != nil:
			return ds.open.index.Active(), nil
		case ds.sealed == nil:
			if err := e.loadInto(ctx, n, ds, 0); err != nil { // the active set alone
				return nil, err
			}
			e.hold(ds)
		}
		return ds.sealed.ix.Active, nil
	})
	if err != nil {
		return err
	}
	e.sketches.stale = nil
	return nil
}

// readFreshSketches takes the read lock with the sketches loaded and
// fresh, for an approximate query: the write lock is taken only while
// they are lazy or some are stale, and the check is made again under the
// read lock, since a late deletion may come between the two locks. The
// caller releases the read lock.
func (e *Engine) readFreshSketches(ctx context.Context) error {
	for {
		e.mu.RLock()
		if len(e.sketches.stale) == 0 && !e.sketches.lazy {
			return nil
		}
		e.mu.RUnlock()
		e.mu.Lock()
		err := ErrClosed
		if !e.closed {
			e.logSketchRebuild(e.sketches.load())
			err = e.freshenSketches(ctx)
		}
		e.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// logSketchRebuild logs, at Warn level, that a catalog's sketch bytes did
// not decode (err, from sketches.load or settle) and that the day's
// sketch is rebuilt from its exact set. Nothing is logged for a nil err.
func (e *Engine) logSketchRebuild(err error) {
	if err != nil && e.obs.log != nil {
		e.obs.log.LogAttrs(context.Background(), slog.LevelWarn, "insights: a stored sketch does not decode; rebuilt from the exact set",
			slog.String("error", err.Error()))
	}
}
