package insights

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/insightslab/insights/store"
)

// Recovery reports what Open found in the store.
type Recovery struct {
	Checkpoint   uint64 // generation of the checkpoint it started from, 0 for none
	Days         int    // day segments the checkpoint names (loaded lazily)
	LogRecords   int    // log records replayed on top of it
	LogEvents    int    // events in those records
	TornTail     string // key of the last log record, dropped because it failed its checks
	RemovedFiles int    // leftovers of an interrupted checkpoint, deleted
}

// Recovery returns what Open recovered.
func (e *Engine) Recovery() Recovery {
	e.walMu.Lock()
	defer e.walMu.Unlock()
	return e.recovery
}

// recover loads the manifest and catalog, replays the log written since
// the checkpoint and deletes what no checkpoint refers to. It runs in Open,
// before the engine is shared.
func (e *Engine) recover(ctx context.Context) error {
	m := &manifest{horizon: math.MinInt32, segments: map[int32]string{}}
	switch b, err := e.store.Get(ctx, manifestKey); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		if m, err = decodeManifest(b); err != nil {
			return err
		}
	}
	if m.catalog != "" {
		b, err := e.store.Get(ctx, m.catalog)
		if err != nil {
			return missing(m.catalog, err)
		}
		if err := e.decodeCatalog(m.catalog, b); err != nil {
			return err
		}
	}
	for n, k := range m.segments {
		e.days[n] = &dayState{segKey: k, saved: true}
	}
	if err := e.rehashSketches(ctx); err != nil {
		return err
	}
	e.gen, e.catalog, e.walFrom, e.walSeq, e.horizon = m.gen, m.catalog, m.walFrom, m.walFrom, m.horizon
	e.recovery = Recovery{Checkpoint: m.gen, Days: len(m.segments)}

	logs, err := e.store.List(ctx, "wal/")
	if err != nil {
		return err
	}
	for i, k := range logs {
		seq := keyGen(k)
		if k != walKey(seq) || seq < m.walFrom {
			continue // not a log record, or covered by the checkpoint: garbage
		}
		b, err := e.store.Get(ctx, k)
		if err != nil {
			return missing(k, err)
		}
		events, err := decodeWAL(k, b)
		if err != nil && i == len(logs)-1 && errors.Is(err, ErrCorrupt) {
			// The last record may be torn by a store whose Put is not
			// atomic: its Add never returned, so it was not acknowledged.
			if err := e.store.Delete(ctx, k); err != nil {
				return err
			}
			e.recovery.TornTail = k
			break
		}
		if err != nil {
			return err
		}
		if err := e.preload(ctx, events); err != nil {
			return err
		}
		for i := range events {
			e.apply(&events[i])
		}
		e.walSeq, e.walBytes = seq+1, e.walBytes+len(b)
		e.recovery.LogRecords++
		e.recovery.LogEvents += len(events)
	}
	removed, err := e.removeGarbage(ctx, m)
	e.recovery.RemovedFiles = removed
	return err
}

// missing turns a store's not-found error for a key the manifest names
// into corruption.
func missing(key string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s: named by the manifest but missing", ErrCorrupt, key)
	}
	return err
}

// removeGarbage deletes the catalogs, segments and log records that
// manifest m does not refer to: what an interrupted checkpoint left.
func (e *Engine) removeGarbage(ctx context.Context, m *manifest) (int, error) {
	live := map[string]bool{m.catalog: true}
	for _, k := range m.segments {
		live[k] = true
	}
	removed := 0
	for _, prefix := range []string{"catalog/", "days/", "wal/"} {
		keys, err := e.store.List(ctx, prefix)
		if err != nil {
			return removed, err
		}
		for _, k := range keys {
			if live[k] || strings.HasPrefix(k, "wal/") && keyGen(k) >= e.walFrom {
				continue
			}
			if err := e.store.Delete(ctx, k); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// loadDay reads and decodes the segment of day n.
func (e *Engine) loadDay(ctx context.Context, n int32, key string) (*day, error) {
	b, err := e.store.Get(ctx, key)
	if err != nil {
		return nil, missing(key, err)
	}
	var lim limits
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = len(e.userKeys)
	d, err := decodeDay(key, b, n, lim, e.zdec)
	if err != nil {
		return nil, err
	}
	d.logGet = e.segmentGetter(key) // read the log again when needed, rather than keep b
	return d, nil
}

// closeDay drops the builder of a day no longer written. A day whose
// sealed form is what its segment holds then keeps its log only there
// (read back when next needed), freeing the copy in memory. The write
// lock, or the read lock and sealMu, is held.
func (e *Engine) closeDay(ds *dayState) {
	ds.open = nil
	if d := ds.sealed; ds.saved && d != nil && d.logBase == nil && d.logGet == nil && d.log.blocks == nil {
		ds.sealed = d.withStoredLog(ds.segKey, ds.logOff, len(e.userKeys), e.segmentGetter(ds.segKey), e.zdec)
	}
}

// segmentGetter returns a function reading the segment key, for a day's
// log read on first use. The segment stays in the store while a day
// version that names it is the current one.
func (e *Engine) segmentGetter(key string) func() ([]byte, error) {
	return func() ([]byte, error) {
		b, err := e.store.Get(context.Background(), key)
		if err != nil {
			return nil, missing(key, err)
		}
		return b, nil
	}
}

// preload loads the stored segments of the days events fall on, so that
// applying them cannot fail half-way.
func (e *Engine) preload(ctx context.Context, events []normEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	for i := range events {
		ds := e.days[events[i].day]
		if ds == nil || ds.open != nil {
			continue
		}
		if ds.sealed == nil {
			d, err := e.loadDay(ctx, events[i].day, ds.segKey)
			if err != nil {
				return err
			}
			ds.sealed = d
		}
	}
	return nil
}

// commitGroup is the batches of concurrent Adds written with one store Put.
type commitGroup struct {
	events []normEvent
	body   []byte
	done   chan struct{}
	err    error
}

// commit logs and applies a batch. The first caller that finds no write
// in progress becomes the writer: it writes its group, then every group
// that formed meanwhile, so concurrent Adds share store writes.
func (e *Engine) commit(events []normEvent) error {
	body := make([]byte, 0, 160*len(events)) // a typical event logs in well under 160 bytes
	for i := range events {
		body = appendEvent(body, &events[i])
	}
	e.cmu.Lock()
	g := e.pending
	if g == nil {
		g = &commitGroup{done: make(chan struct{})}
		e.pending = g
	}
	g.events = append(g.events, events...)
	g.body = append(g.body, body...)
	if e.writing {
		e.cmu.Unlock()
		<-g.done
		return g.err
	}
	e.writing = true
	for e.pending != nil {
		next := e.pending
		e.pending = nil
		e.cmu.Unlock()
		next.err = e.writeGroup(next)
		close(next.done)
		e.cmu.Lock()
	}
	e.writing = false
	e.cmu.Unlock()
	return g.err
}

// writeGroup writes g's log record, then applies its events, and writes a
// checkpoint when enough log has accumulated. The group's writes do not
// depend on any caller's context: once started, a group completes.
func (e *Engine) writeGroup(g *commitGroup) error {
	ctx := context.Background()
	e.walMu.Lock()
	defer e.walMu.Unlock()
	if e.isClosed() {
		return ErrClosed
	}
	rec := encodeWAL(len(g.events), g.body)
	key := walKey(e.walSeq)
	if err := e.store.Put(ctx, key, rec); err != nil {
		_ = e.store.Delete(ctx, key) // best effort: the batch was not applied
		return fmt.Errorf("insights: writing log record %s: %w", key, err)
	}
	e.walSeq++
	e.walBytes += len(rec)
	e.mu.Lock()
	for i := range g.events {
		e.apply(&g.events[i])
	}
	e.mu.Unlock()
	if e.walBytes >= e.checkpointBytes {
		// The batch is durable and applied: a failed checkpoint is reported
		// by the next Flush or Close, and retried by the next checkpoint.
		e.checkpointErr = e.writeCheckpoint(ctx)
	}
	return nil
}

// Flush writes a checkpoint: the days changed since the last one as new
// segment versions, the catalog, and the manifest that commits them; then
// it deletes the log they cover and the versions they replace. Add is
// durable without Flush; Flush bounds the log replayed by the next Open
// and applies retention. It returns the error of an earlier automatic
// checkpoint that failed, if this one fails too.
func (e *Engine) Flush(ctx context.Context) error {
	e.walMu.Lock()
	defer e.walMu.Unlock()
	if e.isClosed() {
		return ErrClosed
	}
	return e.writeCheckpoint(ctx)
}

// writeCheckpoint does Flush's work. walMu is held, so no event is applied
// meanwhile; queries go on.
func (e *Engine) writeCheckpoint(ctx context.Context) error {
	type write struct {
		n      int32
		d      *day
		key    string
		logOff int
	}
	e.mu.Lock()
	// Every attempt takes a new generation: a failed attempt's files (and
	// even its manifest, if its Put failed after the rename) may be on
	// disk, and must never be overwritten with other contents.
	e.gen++
	gen := e.gen
	garbage := e.applyRetention()
	var writes []write
	segments := make(map[int32]string, len(e.days))
	today := dayOf(e.now(), e.loc)
	for n, ds := range e.days {
		if ds.dirty {
			ds.sealed, ds.dirty = ds.open.seal(), false
		}
		if ds.open != nil && n < today-1 {
			e.closeDay(ds)
		}
		segments[n] = ds.segKey
		if !ds.saved {
			writes = append(writes, write{n: n, d: ds.sealed, key: segmentKey(n, gen)})
			segments[n] = segmentKey(n, gen)
		}
	}
	walSeq := e.walSeq
	if len(writes) == 0 && len(garbage) == 0 && walSeq == e.walFrom && e.catalog != "" && !e.sketches.rehashed {
		e.mu.Unlock()
		return nil // nothing changed since the last checkpoint
	}
	cat, err := e.encodeCatalog()
	horizon := e.horizon
	e.mu.Unlock()
	if err != nil {
		return e.failCheckpoint(err)
	}

	for i := range writes {
		w := &writes[i]
		b, off, err := encodeDay(w.n, w.d, e.zenc)
		if err == nil {
			err = e.store.Put(ctx, w.key, b)
		}
		if err != nil {
			return e.failCheckpoint(err)
		}
		w.logOff = off
	}
	m := manifest{gen: gen, walFrom: walSeq, horizon: horizon, catalog: catalogKey(gen), segments: segments}
	if err := e.store.Put(ctx, m.catalog, cat); err != nil {
		return e.failCheckpoint(err)
	}
	if err := e.store.Put(ctx, manifestKey, m.encode()); err != nil {
		return e.failCheckpoint(err)
	}

	// Committed. What the new manifest no longer names is garbage.
	e.mu.Lock()
	for _, w := range writes {
		ds := e.days[w.n]
		if ds.segKey != "" {
			garbage = append(garbage, ds.segKey)
		}
		ds.segKey, ds.saved, ds.logOff = w.key, true, w.logOff
		if ds.sealed == w.d && ds.open == nil {
			e.closeDay(ds)
		}
	}
	if e.catalog != "" {
		garbage = append(garbage, e.catalog)
	}
	e.catalog = m.catalog
	e.mu.Unlock()
	for seq := e.walFrom; seq < walSeq; seq++ {
		garbage = append(garbage, walKey(seq))
	}
	e.walFrom, e.walBytes, e.checkpointErr = walSeq, 0, nil
	slices.Sort(garbage)
	for _, k := range garbage {
		if err := e.store.Delete(ctx, k); err != nil {
			return fmt.Errorf("insights: checkpoint %d is written; deleting %s: %w", gen, k, err)
		}
	}
	return nil
}

// failCheckpoint wraps a checkpoint's error, with the previous one if any.
func (e *Engine) failCheckpoint(err error) error {
	err = fmt.Errorf("insights: checkpoint: %w", err)
	if e.checkpointErr != nil {
		err = errors.Join(err, e.checkpointErr)
	}
	return err
}
