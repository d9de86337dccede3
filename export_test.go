package insights

import "math/bits"

// AwaitCheckpoint waits for the background checkpoint under way in e, if
// any: for tests that look at the store's files between Adds.
func AwaitCheckpoint(e *Engine) {
	e.walMu.Lock()
	running, done := e.ckRunning, e.ckDone
	e.walMu.Unlock()
	if running {
		<-done
	}
}

// AppliedLog returns the sequence of the next log record e would write or,
// on a follower, apply: how many records it has applied since the store
// was created.
func AppliedLog(e *Engine) uint64 {
	e.walMu.Lock()
	defer e.walMu.Unlock()
	return e.walSeq
}

// SegmentLoads returns how many day indexes e read from segments, and how
// many active sets it read alone, since Open.
func SegmentLoads(e *Engine) (index, active int64) {
	return e.loads.index.Load(), e.loads.active.Load()
}

// PrefetchedActive returns how many of the active sets e read alone since
// Open were read ahead, in parallel (prefetchActive).
func PrefetchedActive(e *Engine) int64 { return e.loads.prefetched.Load() }

// PrefetchedDays returns how many day indexes, or sections of loaded
// ones, e read ahead, in parallel (prefetchDays).
func PrefetchedDays(e *Engine) int64 { return e.loads.prefetchedDays.Load() }

// PendingSections returns how many days e holds sealed in memory, and how
// many sections of their indexes they have not decoded yet (daysections.go).
func PendingSections(e *Engine) (days, pending int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	for _, ds := range e.days {
		if ds.sealed != nil {
			days++
			pending += bits.OnesCount32(ds.sealed.pending.Load())
		}
	}
	return days, pending
}
