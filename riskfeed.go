package insights

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insightslab/insights/internal/risk"
)

// riskQueueCap bounds the observations waiting for the detector: past it,
// Add waits before logging a batch until the detector has taken the queue
// (riskFeed.waitRoom). About 10 MB of observations.
const riskQueueCap = 1 << 16

// riskChunk is how many observations the detector folds per hold of its
// lock, so that a reader waits for at most one chunk.
const riskChunk = 256

// riskFeed runs the risk detector on a goroutine of its own (detect), off
// the engine's locks: apply gathers each applied event's observation,
// queued once per batch (flush), the goroutine folds them in order, and
// a risk read waits until it has folded every one queued before the read
// began. When the
// detector must be built (when the first risk read starts it, after
// Erase, retention, a follower's swap, a too-late event, RescanRisk, a
// failed rebuild), the goroutine reads the event log of every day, one
// day at a time under the read lock, while the events applied meanwhile
// queue; it then folds the queued ones its read did not see.
//
// Lock order: Engine.mu, then qmu, then dmu. The goroutine takes the
// engine's read lock only while it holds neither.
type riskFeed struct {
	// Guarded by the engine's write lock: the observations of the events
	// applied in the current batch, queued together by flush.
	pending []riskItem

	// Guarded by qmu: the queue and what the next rebuild starts from.
	qmu     sync.Mutex
	live    atomic.Bool   // apply queues: from startRisk to stopRisk; written under qmu, read without
	queue   []riskItem    // the observations applied and not yet taken, in order
	head    uint64        // the number of the first queued item (items count from 1 since Open)
	gen     uint64        // counts resets: a rebuild of another generation is dropped
	opt     risk.Options  // with the address lists in force (SetRiskLists)
	kick    chan struct{} // buffered: wakes the goroutine (an item, a reset, stop)
	room    signal        // the queue was taken
	stopped bool
	// dormant: a too-late event dropped the detector; nothing is queued,
	// and the rebuild waits for the next risk read (queued), so that a
	// backfill of old events costs one rebuild, not one per late event.
	dormant bool

	// Guarded by dmu: the detector and what it has folded.
	dmu      sync.Mutex
	det      *risk.Detector // nil while it is rebuilt, or after a failed rebuild (err)
	dgen     uint64         // the generation det and err belong to
	done     uint64         // items folded (or read from the log by its rebuild): det covers items 1..done
	err      error          // the failure of generation dgen's rebuild
	changed  signal         // det, done or err changed
	waiters  int            // reads in await: while any, a too-late event does not make the feed dormant
	levels   map[risk.Ref]risk.Level
	levelsOf *risk.Detector // the detector levels were computed from
	levelsAt uint64         // and its version then

	stop     chan struct{}      // closed by Close
	cancel   context.CancelFunc // cancels a rebuild's reads at Close
	finished chan struct{}      // closed when the goroutine has returned
}

// riskItem is one queued change: an observation, or new address lists.
type riskItem struct {
	obs   risk.Observation
	lists *[2][]netip.Prefix // anonymized, malicious; nil for an observation
}

// signal wakes every goroutine waiting on it; its owner's lock guards it.
type signal struct{ ch chan struct{} }

// wait returns a channel closed at the next notify.
func (s *signal) wait() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// notify wakes the waiters.
func (s *signal) notify() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// errRiskReset stops a rebuild whose generation a reset ended.
var errRiskReset = errors.New("insights: risk detections reset")

// startRisk starts the detector's goroutine, which first rebuilds the
// detections from the log, if no read started it before: the first risk
// read calls it. From then on, apply queues.
func (e *Engine) startRisk() {
	f := &e.risk.feed
	if f.live.Load() {
		return
	}
	f.qmu.Lock()
	if f.live.Load() || f.stopped {
		f.qmu.Unlock()
		return
	}
	var ctx context.Context
	ctx, f.cancel = context.WithCancel(context.Background())
	f.kick, f.stop, f.finished = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	f.live.Store(true)
	f.qmu.Unlock()
	f.reset()
	go func() {
		defer close(f.finished)
		e.detect(ctx, f)
	}()
}

// stopRisk stops the goroutine, if started, and waits for it; readers
// waiting then get ErrClosed. Close calls it.
func (e *Engine) stopRisk() {
	f := &e.risk.feed
	f.qmu.Lock()
	if f.stopped {
		f.qmu.Unlock()
		return
	}
	f.stopped, f.queue = true, nil
	f.live.Store(false)
	f.room.notify()
	f.qmu.Unlock()
	if f.stop != nil {
		f.cancel()
		close(f.stop)
		<-f.finished
	}
	f.dmu.Lock()
	f.det, f.err, f.levels, f.levelsOf = nil, ErrClosed, nil, nil
	f.changed.notify()
	f.dmu.Unlock()
}

// flush queues the observations apply gathered in pending, in one hold
// of qmu and one wake for the batch rather than one per event. When the
// queue is empty (the detector's goroutine keeps up), pending's array
// becomes the queue and the queue's the next pending: copying a batch's
// observations, with the write barriers of their strings, was ~5% of
// apply's time with detection (BenchmarkAddRisk, #18, session 11). The write
// lock is held: the loops calling apply call it before they release it,
// so a read that starts after an Add returned waits for its events.
func (f *riskFeed) flush() {
	if len(f.pending) == 0 {
		return
	}
	f.qmu.Lock()
	switch {
	case !f.live.Load() || f.dormant:
	case len(f.queue) == 0: // the goroutine keeps up: the batch is handed over, not copied
		f.queue, f.pending = f.pending, f.queue
		f.wake()
	default:
		f.queue = append(f.queue, f.pending...)
		f.wake()
	}
	f.qmu.Unlock()
	clear(f.pending) // its strings: the array is kept for the next batch
	f.pending = f.pending[:0]
}

// setLists records new address lists, for the next rebuild and, queued,
// for the events applied after them. During a rebuild, which reads events
// applied after the change with the lists it started with, the rebuild
// starts again with the new ones (review S3): every event is then read
// with them, as RescanRisk would. The write lock is held.
func (f *riskFeed) setLists(anonymized, malicious []netip.Prefix) {
	f.qmu.Lock()
	f.opt.Anonymized, f.opt.Malicious = anonymized, malicious
	live := f.live.Load() && !f.dormant // a dormant feed's rebuild reads f.opt
	if live {
		f.queue = append(f.queue, riskItem{lists: &[2][]netip.Prefix{anonymized, malicious}})
		f.wake()
	}
	f.qmu.Unlock()
	f.dmu.Lock()
	rebuilding := live && f.det == nil && f.err == nil
	f.dmu.Unlock()
	if rebuilding {
		f.reset()
	}
}

// wake kicks the goroutine, if not kicked already.
func (f *riskFeed) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// reset drops the detector and the queue: the goroutine rebuilds the
// detections from the log, which holds every event queued so far.
// Callers hold the write lock (Erase, retention, a follower's swap,
// RescanRisk), or no lock (a retry).
func (f *riskFeed) reset() { f.drop(false) }

// sleep is reset after a too-late event: the rebuild waits for the next
// risk read (dormant). The goroutine calls it, holding no lock.
func (f *riskFeed) sleep() { f.drop(true) }

// drop does reset's and sleep's work; dormant makes the feed dormant (a
// reset leaves it as it is).
func (f *riskFeed) drop(dormant bool) {
	f.qmu.Lock()
	if !f.live.Load() {
		f.qmu.Unlock()
		return
	}
	f.gen++
	f.head += uint64(len(f.queue))
	clear(f.queue)
	f.queue = f.queue[:0]
	f.room.notify()
	f.wake()
	f.dmu.Lock()
	f.det, f.dgen, f.err = nil, f.gen, nil
	f.dormant = f.dormant || dormant && f.waiters == 0 // a waiting read needs the rebuild now
	f.changed.notify()
	f.dmu.Unlock()
	f.qmu.Unlock()
}

// retry resets generation gen, whose rebuild failed, unless something
// reset it since.
func (f *riskFeed) retry(gen uint64) {
	f.qmu.Lock()
	again := f.gen == gen
	f.qmu.Unlock()
	if again {
		f.reset()
	}
}

// waitRoom waits while the queue holds riskQueueCap items or more: Add
// calls it, holding no lock, before logging a batch, so that ingest goes
// at the detector's pace rather than queueing without bound.
func (f *riskFeed) waitRoom(ctx context.Context) error {
	f.qmu.Lock()
	for f.live.Load() && len(f.queue) >= riskQueueCap {
		ch := f.room.wait()
		f.qmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.qmu.Lock()
	}
	f.qmu.Unlock()
	return nil
}

// queued returns the number of the last item queued. qmu is taken.
func (f *riskFeed) queued() uint64 {
	f.qmu.Lock()
	defer f.qmu.Unlock()
	return f.head + uint64(len(f.queue)) - 1
}

// rouse starts a dormant feed's rebuild. qmu is taken.
func (f *riskFeed) rouse() {
	f.qmu.Lock()
	if f.dormant {
		f.dormant = false
		f.wake()
	}
	f.qmu.Unlock()
}

// await returns, with dmu held (release it with dmu.Unlock), the
// detector once it covers item upTo. With stale, it returns errRiskStale
// instead of waiting for a rebuild: for a caller holding the engine's
// read lock, which a rebuild needs. A failed rebuild's error is returned,
// and the next read retries.
func (f *riskFeed) await(ctx context.Context, upTo uint64, stale bool) (*risk.Detector, error) {
	// Counted as waiting before rousing the feed: from then on a too-late
	// event leaves it awake (drop), so the rebuild this read needs runs.
	f.dmu.Lock()
	f.waiters++
	f.dmu.Unlock()
	f.rouse()
	f.dmu.Lock()
	for {
		switch {
		case f.err != nil:
			err, gen := f.err, f.dgen
			f.waiters--
			f.dmu.Unlock()
			if !errors.Is(err, ErrClosed) {
				f.retry(gen)
			}
			return nil, err
		case f.det == nil && stale:
			f.waiters--
			f.dmu.Unlock()
			return nil, errRiskStale
		case f.det != nil && f.done >= upTo:
			f.waiters--
			return f.det, nil
		}
		ch := f.changed.wait()
		f.dmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			f.dmu.Lock()
			f.waiters--
			f.dmu.Unlock()
			return nil, ctx.Err()
		}
		f.dmu.Lock()
	}
}

// detect is the detector's goroutine: it rebuilds the detector when its
// generation changes and folds the queue, until stop.
func (e *Engine) detect(ctx context.Context, f *riskFeed) {
	var (
		det   *risk.Detector
		read  map[int32]uint32 // day → entries the rebuild read from the log
		gen   uint64
		spare []riskItem
	)
	for {
		f.qmu.Lock()
		for (f.gen == gen || f.dormant) && len(f.queue) == 0 && !f.stopped {
			f.qmu.Unlock()
			select {
			case <-f.kick:
			case <-f.stop:
			}
			f.qmu.Lock()
		}
		if f.stopped {
			f.qmu.Unlock()
			return
		}
		if f.gen != gen {
			gen, det = f.gen, nil
			opt, covered := f.opt, f.head-1
			f.qmu.Unlock()
			start := time.Now()
			var err error
			det, read, err = e.rebuildRisk(ctx, f, gen, opt)
			if errors.Is(err, errRiskReset) || ctx.Err() != nil {
				continue // reset meanwhile, or stopped (stopRisk tells the readers)
			}
			if err == nil && e.obs.log != nil { // before the readers waiting for it go on
				e.obs.log.LogAttrs(ctx, slog.LevelInfo, "insights: risk detections rebuilt from the event log",
					slog.Int("days", len(read)), slog.Int("detections", det.Len()), slog.Duration("duration", time.Since(start)))
			}
			f.dmu.Lock()
			if f.dgen == gen {
				f.det, f.err, f.done = det, err, covered
				f.changed.notify()
			}
			f.dmu.Unlock()
			continue
		}
		items, first := f.queue, f.head
		// The queue is only ever given a finished array: one folded and
		// cleared (spare), never items, which this goroutine reads after
		// it unlocks. flush may swap the queue's array into pending, where
		// apply writes the next batch under the engine's write lock, not
		// qmu: an array still being folded would be written as it is read
		// (go test -race -run Risk . reports that race).
		f.queue, f.head = spare[:0], f.head+uint64(len(items))
		f.room.notify()
		f.qmu.Unlock()
		if det != nil && e.fold(f, det, gen, read, items, first) {
			f.sleep() // a too-late event: rebuild from the log, which holds it, at the next read
		}
		clear(items)
		spare = items
	}
}

// fold adds the queued items, numbered from first, to det in chunks, and
// reports whether one was too late for it. An observation the rebuild
// read from the log (its sequence below read's count for its day) is
// skipped: det has it.
func (e *Engine) fold(f *riskFeed, det *risk.Detector, gen uint64, read map[int32]uint32, items []riskItem, first uint64) (tooLate bool) {
	for i := 0; i < len(items); i += riskChunk {
		f.dmu.Lock()
		if f.dgen != gen {
			f.dmu.Unlock()
			return false // reset meanwhile
		}
		for j := i; j < min(i+riskChunk, len(items)); j++ {
			it := &items[j]
			if it.lists != nil {
				det.SetLists(it.lists[0], it.lists[1])
				continue
			}
			if n, seq := refEntry(it.obs.Ref); seq < read[n] {
				continue
			}
			if err := det.Add(&it.obs); err != nil { // ErrTooLate: det is unchanged
				f.done = first + uint64(j) - 1
				f.changed.notify()
				f.dmu.Unlock()
				return true
			}
		}
		f.done = first + uint64(min(i+riskChunk, len(items))) - 1
		f.changed.notify()
		f.dmu.Unlock()
	}
	return false
}

// rebuildRisk returns a detector of every event the log holds, and how
// many entries of each day it read. It reads the days in order, each
// under the read lock only while it finds the day's sealed index, and
// stops with errRiskReset when generation gen ends.
func (e *Engine) rebuildRisk(ctx context.Context, f *riskFeed, gen uint64, opt risk.Options) (*risk.Detector, map[int32]uint32, error) {
	det := risk.New(opt)
	e.mu.RLock()
	days := make([]int32, 0, len(e.days))
	for n := range e.days {
		days = append(days, n)
	}
	e.mu.RUnlock()
	slices.Sort(days)
	read := make(map[int32]uint32, len(days))
	var obs []risk.Observation
	for _, n := range days {
		f.qmu.Lock()
		ended := f.gen != gen
		f.qmu.Unlock()
		if ended {
			return nil, nil, errRiskReset
		}
		var err error
		if obs, err = e.dayObservations(ctx, n, obs[:0], read); err != nil {
			return nil, nil, err
		}
		for i := range obs {
			if err := det.Add(&obs[i]); err != nil {
				return nil, nil, err // in order: never too late
			}
		}
	}
	return det, read, nil
}
