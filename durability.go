package insights

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/insightslab/insights/internal/wal"
	"github.com/insightslab/insights/store"
)

// Recovery reports what Open found in the store.
type Recovery struct {
	Checkpoint   uint64 // generation of the checkpoint it started from, 0 for none
	Days         int    // day segments the checkpoint names (loaded lazily)
	LogRecords   int    // log records replayed on top of it
	LogEvents    int    // events in those records
	TornTail     string // key of a torn last log record dropped, on a store.Tearing store only
	RemovedFiles int    // leftovers of interrupted or failed checkpoints, deleted
}

// Recovery returns what Open recovered.
func (e *Engine) Recovery() Recovery {
	e.walMu.Lock()
	defer e.walMu.Unlock()
	return e.recovery
}

// recover loads the manifest and catalog, replays the log written since
// the checkpoint and deletes what the manifest proves unreferenced. It
// runs in Open, before the engine is shared. It never guesses (see
// store/FORMAT.md, "Open"): a missing manifest beside a catalog or
// segments, a gap in the log and a damaged log record are ErrCorrupt,
// and nothing is deleted unless a manifest was read.
func (e *Engine) recover(ctx context.Context) error {
	logs, err := e.store.List(ctx, "wal/") // before the manifest: see load
	if err != nil {
		return err
	}
	m, err := e.readManifest(ctx)
	if err != nil {
		return err
	}
	if err := e.load(ctx, m, logs); err != nil {
		return err
	}
	if e.readOnly || e.replica != nil { // a replica collects garbage holding the lease (writeCheckpoint)
		return nil
	}
	removed, err := e.removeGarbage(ctx, m, math.MaxUint64)
	e.recovery.RemovedFiles = removed
	return err
}

// load builds the engine's state from manifest m: its catalog, its days
// (their segments named, loaded lazily), then the log from m's first
// sequence on, of the keys logs, listed before m was read: so that a
// checkpoint committed since, and the log it covers deleted, cannot leave
// a follower a listing without the records it missed (a shorter
// listing, with no gap to tell it). The state is not yet shared: Open's
// engine, or the one a follower builds to swap in (follow.go).
func (e *Engine) load(ctx context.Context, m *manifest, logs []string) error {
	e.gen = m.gen
	if m.catalog != "" {
		b, err := e.store.Get(ctx, m.catalog)
		if err != nil {
			return e.missing(ctx, m.catalog, err)
		}
		if err := e.decodeCatalog(m.catalog, b); err != nil {
			return err
		}
		if !e.lazyUsers() { // its writer may delete the users frame with the catalog
			if err := e.loadUsers(ctx); err != nil {
				return err
			}
		}
	}
	for n, k := range m.segments {
		e.days[n] = &dayState{segKey: k, saved: true}
	}
	if err := e.rehashSketches(ctx); err != nil {
		return err
	}
	e.catalog, e.walFrom, e.walSeq, e.horizon = m.catalog, m.walFrom, m.walFrom, m.horizon
	e.recovery = Recovery{Checkpoint: m.gen, Days: len(m.segments)}
	records, events, err := e.replayLog(ctx, m.walFrom, logs)
	e.recovery.LogRecords, e.recovery.LogEvents = records, events
	return err
}

// readManifest reads the manifest. A store without one is new, or was
// written before stores got one at creation and never checkpointed: it
// then holds no catalog and no segment, and a writable engine gives it an
// empty manifest, so that a later checkpoint interrupted before its
// commit leaves files that a manifest proves unreferenced. A follower or
// a replica takes files without a manifest for a replica's first
// checkpoint in progress.
func (e *Engine) readManifest(ctx context.Context) (*manifest, error) {
	b, err := e.store.Get(ctx, manifestKey)
	if err == nil {
		return decodeManifest(b)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	for _, prefix := range []string{"catalog/", "days/"} {
		if e.follow {
			// Replicas write no empty manifest: their first checkpoint's
			// files precede the first MANIFEST (the writer's Open, or the
			// lease holder, judges the store).
			break
		}
		keys, err := e.store.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("%w: %s: missing, but the store holds %s: "+
				"the checkpoint it committed is lost, and no file is guessed at or deleted", ErrCorrupt, manifestKey, someKeys(keys))
		}
	}
	m := &manifest{horizon: math.MinInt32, segments: map[int32]string{}}
	if e.readOnly || e.replica != nil { // a replica's Put could replace another's first manifest
		return m, nil
	}
	return m, e.store.Put(ctx, manifestKey, m.encode())
}

// replayLog applies the log records of logs (the store's wal/ keys) from
// sequence from on, and returns
// how many records and events it applied. They must follow each other
// without a gap; records before from are what a checkpoint covered and had
// not yet deleted. A damaged record is ErrCorrupt, but for the last one on
// a store whose Puts can tear: that one was never acknowledged, and is
// dropped and reported in TornTail. A follower stops, instead, at a gap,
// a listed record gone or a torn last record, unless the store's manifest
// moved on meanwhile (errStale): the writer has yet to write the record
// (or to replace a failed one), and nothing past it may be applied.
func (e *Engine) replayLog(ctx context.Context, from uint64, logs []string) (records, events int, err error) {
	t, tears := e.store.(store.Tearing)
	tears = tears && t.PutCanTear()
	next := from
	for i, k := range logs {
		seq := keyGen(k)
		if k != walKey(seq) {
			return records, events, fmt.Errorf("%w: %s: not a log record's key", ErrCorrupt, k)
		}
		if seq < from {
			continue
		}
		if seq != next {
			return records, events, e.logGap(ctx, fmt.Errorf("%w: %s: missing: the log goes on at %s", ErrCorrupt, walKey(next), k))
		}
		b, err := e.store.Get(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			return records, events, e.logGap(ctx, missing(k, err))
		}
		if err != nil {
			return records, events, err
		}
		var evs []normEvent
		var erased string // the user an erase record erases (internal/wal)
		if wal.IsErase(b) {
			erased, err = wal.DecodeErase(k, b, MaxKeyLength)
		} else {
			evs, err = decodeWAL(k, b)
		}
		if err != nil && tears && i == len(logs)-1 && errors.Is(err, ErrCorrupt) {
			if e.follow {
				return records, events, nil
			}
			if !e.readOnly {
				if err := e.store.Delete(ctx, k); err != nil {
					return records, events, err
				}
			}
			e.recovery.TornTail = k
			return records, events, nil
		}
		if err != nil {
			return records, events, err
		}
		if err := e.applyRecord(ctx, evs, erased); err != nil {
			return records, events, err
		}
		if erased != "" {
			e.eraseUpTo = seq + 1
		}
		e.walSeq, e.walBytes = seq+1, e.walBytes+len(b)
		records++
		events += len(evs)
		next++
	}
	return records, events, nil
}

// applyRecord applies a log record's events, or erases the user of an
// erase record. walMu is held. On an error nothing is applied, but an
// erasure may be partial: applied again, it completes.
func (e *Engine) applyRecord(ctx context.Context, evs []normEvent, erased string) error {
	if erased != "" {
		e.mu.Lock()
		defer e.mu.Unlock()
		_, err := e.eraseUser(ctx, erased)
		return err
	}
	if err := e.preload(ctx, evs); err != nil {
		return err
	}
	e.mu.Lock()
	e.applyAll(evs)
	e.risk.feed.flush()
	e.mu.Unlock()
	return nil
}

// someKeys names the first few of keys, for an error message.
func someKeys(keys []string) string {
	if len(keys) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(keys[:3], ", "), len(keys)-3)
	}
	return strings.Join(keys, ", ")
}

// Segments read holding no lock. A checkpoint deletes what its manifest
// no longer names as soon as it commits it (removeGarbage's rules do not
// change: nothing waits for readers). A read that holds the engine's lock
// (read or write) from taking a day's segment key to its last read of it
// cannot meet a deleted segment: the key is replaced only under the write
// lock. Some reads hold none: preload's (an Add's days' indexes and
// request ids), the risk rebuild's logs, and any read a day object makes
// after the lock is released (its log, its sections read lazily). Such a
// read may meet a segment that a checkpoint replaced and deleted
// meanwhile. That is not corruption: (*Engine).missing reports it as
// errStale, telling it from a key that the store's manifest still names
// (ErrCorrupt); preload then looks again at the day (ready), and a query
// or risk read runs again on the current state (fresh). Chosen over
// deferring the deletion while a reader may hold the key (reference
// counts, or an epoch): a day object may read its segment at any later
// time, and the retry is exact and costs only on the rare race.

// missing turns a store's not-found error for a key the manifest names
// into corruption.
func missing(key string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s: named by the manifest but missing", ErrCorrupt, key)
	}
	return err
}

// missing is the package's missing for key, which the engine's manifest
// named when key was taken from its state; but a key that the store's
// manifest no longer names is errStale: a checkpoint replaced it since and
// deleted it (removeGarbage), and what read it must start again from the
// current state (fresh, or preload's look again). On a follower, whose
// writer deletes what a newer manifest no longer names, that is a move to
// the newer manifest. On the writer, whose own checkpoint deleted it, a
// key is stale only if that manifest is of a later generation than the
// key: a key the current manifest names, or a manifest missing or
// unreadable, is corruption ("Segments read holding no lock", above).
// Cost: one read of the manifest, on a missing key only.
func (e *Engine) missing(ctx context.Context, key string, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	m, merr := e.storeManifest(ctx)
	switch {
	case merr != nil && e.follow:
		return merr
	case merr == nil && !m.names(key) && (e.follow || m.gen > keyGen(key)):
		return fmt.Errorf("%w: %s is gone", errStale, key)
	}
	return missing(key, err)
}

// removeGarbage deletes the catalogs and segments that manifest m does not
// refer to, of generations below below (what interrupted or failed
// checkpoints left), and log records m covers. A replica that may have
// lost the lease since it read m passes its own generation: the files of
// later holders have greater ones (store.Replicas.TakeLease).
func (e *Engine) removeGarbage(ctx context.Context, m *manifest, below uint64) (int, error) {
	live := map[string]bool{m.catalog: true, m.usersKey(): true}
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
			if live[k] || strings.HasPrefix(k, "wal/") && keyGen(k) >= e.walFrom || !strings.HasPrefix(k, "wal/") && keyGen(k) >= below {
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

// loadDay reads and decodes the segment of day n, ds's, with the
// sections of need at least, and reports whether it is of format v1 or v2
// (read whole). The write lock, or the read lock, is held.
func (e *Engine) loadDay(ctx context.Context, n int32, ds *dayState, need sectionSet) (*day, bool, error) {
	return e.readDay(ctx, n, ds.segKey, ds.wholeKey == ds.segKey, e.dayLimits(), need)
}

// dayLimits returns the codes and users that a segment stored now may
// reference. The write lock, or the read lock, is held.
func (e *Engine) dayLimits() limits {
	var lim limits
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = e.userCount()
	return lim
}

// readDay reads and decodes the segment key of day n, which references
// codes and users within lim: its index alone when the store reads ranges
// and the segment is of format v3 (segrange.go), of it the sections of
// need and those any use needs (daysections.go), else the whole segment,
// at once when whole says it is of format v1 or v2 (dayState.wholeKey).
// It reports whether the segment was read whole for being of format v1 or
// v2. The log is read again when first needed. No lock need be held.
func (e *Engine) readDay(ctx context.Context, n int32, key string, whole bool, lim limits, need sectionSet) (*day, bool, error) {
	d, whole, err := e.readIndex(ctx, n, key, whole, lim, need)
	if err != nil {
		return nil, false, err
	}
	d.logGet = e.segmentGetter(key)
	e.loads.index.Add(1)
	return d, whole, nil
}

// readIndex decodes the segment of day n under key, within lim (readDay).
func (e *Engine) readIndex(ctx context.Context, n int32, key string, whole bool, lim limits, need sectionSet) (*day, bool, error) {
	rg, ok := e.store.(store.RangeGetter)
	if ok && !whole {
		d, err := rangedIndex(ctx, rg, key, n, lim, e.zdec, need)
		if !errors.Is(err, errNotRanged) {
			if errors.Is(err, store.ErrNotFound) {
				err = e.missing(ctx, key, err)
			}
			return d, false, err
		}
	}
	b, err := e.store.Get(ctx, key)
	if err != nil {
		return nil, false, e.missing(ctx, key, err)
	}
	d, err := decodeDay(key, b, n, lim, e.zdec)
	return d, ok, err
}

// loadInto reads the segment of day n into ds, whose sealed index it
// becomes, with the sections of need at least. The write lock, or the
// read lock and sealMu, is held.
func (e *Engine) loadInto(ctx context.Context, n int32, ds *dayState, need sectionSet) error {
	d, whole, err := e.loadDay(ctx, n, ds, need)
	if err != nil {
		return err
	}
	ds.sealed, ds.segFullIDs, ds.activeOnly = d, d.fullIDs, nil
	if whole {
		ds.wholeKey = ds.segKey
	}
	return nil
}

// closeDay drops the builder of a day no longer written. A day whose
// sealed form is what its segment holds then keeps its log only there
// (read back when next needed), freeing the copy in memory. The write
// lock, or the read lock and sealMu, is held.
func (e *Engine) closeDay(ds *dayState) {
	ds.open = nil
	if d := ds.sealed; ds.saved && d != nil && d.logAtHand() {
		ds.sealed = d.withStoredLog(ds.segKey, ds.logOff, e.userCount(), e.segmentGetter(ds.segKey), e.zdec)
	}
}

// segmentGetter returns a function reading the segment key, for a day's
// log read on first use. The segment stays in the store while a day
// version that names it is the current one; on a follower, while the
// store's manifest names it.
func (e *Engine) segmentGetter(key string) func() ([]byte, error) {
	return func() ([]byte, error) {
		ctx := context.Background()
		b, err := e.store.Get(ctx, key)
		if err != nil {
			return nil, e.missing(ctx, key, err)
		}
		return b, nil
	}
}

// preload loads the stored segments of the days events fall on, and the
// request ids of those beyond the dedupe horizon (allRequestIDs), so that
// applying them cannot fail half-way nor count a copy twice, and pins
// those days in memory until each event is applied (apply) or its group
// fails (writeGroup); a day it does not find is pinned when an Add
// creates it (absentDay). It reads the store holding no lock: under the write
// lock it pins the days and finds what is missing; then it reads that,
// installs the segments read, and looks again, until nothing is missing
// (a day may change meanwhile: a checkpoint may seal or close it, another
// Add open it). A pinned day keeps what preload found until its apply: it
// is not evicted, and a day sealed or closed since keeps its request ids.
// On an error nothing stays pinned.
func (e *Engine) preload(ctx context.Context, events []normEvent) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil { // apply needs the users
		e.mu.Unlock()
		return err
	}
	for i := range events {
		e.pin(&events[i])
	}
	for {
		loads := unready(e.days, events)
		lim := e.dayLimits()
		e.mu.Unlock()
		if len(loads) == 0 {
			return nil
		}
		err := e.ready(ctx, loads, lim)
		e.mu.Lock()
		if err != nil {
			for i := range events {
				e.unpin(&events[i])
			}
			e.mu.Unlock()
			return err
		}
	}
}

// dayLoad is a day that preload reads: its segment, if d is nil, then the
// request ids of the sealed day.
type dayLoad struct {
	n     int32
	ds    *dayState
	key   string
	whole bool // key is of format v1 or v2 (dayState.wholeKey)
	d     *day
}

// unready returns the days events are pinned to whose segment is not in
// memory, or whose sealed index lacks request ids or sections not yet
// decoded (daysections.go), with no builder open;
// not those that retention dropped since they were pinned (days no
// longer holds them: apply starts such a day anew, as before preload).
// The write lock is held.
func unready(days map[int32]*dayState, events []normEvent) []dayLoad {
	var loads []dayLoad
	for i := range events {
		ds := events[i].pinned
		if ds == nil || days[events[i].day] != ds || ds.open != nil || ds.sealed != nil && ds.sealed.idsAtHand() && ds.sealed.whole() {
			continue
		}
		if slices.ContainsFunc(loads, func(l dayLoad) bool { return l.ds == ds }) {
			continue // a batch spans a few days: a short scan
		}
		loads = append(loads, dayLoad{n: events[i].day, ds: ds, key: ds.segKey, whole: ds.wholeKey == ds.segKey, d: ds.sealed})
	}
	return loads
}

// ready reads what loads lack, holding no lock but to install each
// segment read (as the day's sealed index, if it still has none and no
// builder: else it is dropped). A read that fails for a day dropped or
// written anew meanwhile (its segment replaced, and maybe deleted) is
// not an error: preload looks again.
func (e *Engine) ready(ctx context.Context, loads []dayLoad, lim limits) error {
	gone := func(l *dayLoad) bool { // dropped by retention, or written anew (its segment replaced, maybe deleted), meanwhile
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.days[l.n] != l.ds || l.ds.segKey != l.key
	}
	for i := range loads {
		l := &loads[i]
		if l.d == nil {
			d, whole, err := e.readDay(ctx, l.n, l.key, l.whole, lim, lazySections)
			if err != nil {
				if gone(l) { // preload looks again
					continue
				}
				return err
			}
			l.d = d
			e.mu.Lock()
			if ds := l.ds; ds.sealed == nil && ds.open == nil && ds.segKey == l.key {
				ds.sealed, ds.segFullIDs, ds.activeOnly = d, d.fullIDs, nil
				if whole {
					ds.wholeKey = l.key
				}
				e.hold(ds)
			}
			e.mu.Unlock()
		}
		grows := !l.d.whole()
		err := e.need(ctx, l.d, lazySections) // for thaw: all of the index
		if err == nil && grows {
			e.mu.Lock()
			if l.ds.sealed == l.d {
				e.hold(l.ds) // its sections decoded count in MemoryLimit
			}
			e.mu.Unlock()
		}
		if err == nil {
			_, err = l.d.allRequestIDs() // for thaw: a copy of any of the day's events is refused
		}
		if err != nil && !gone(l) { // gone: the segment the day reads its sections and log from may be deleted
			return err
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
	since  time.Time // when its first batch joined: Stats.IngestLag
	capped uint64    // dimensions whose cap its events reached, to log (newlyCapped)
}

// commit logs and applies a batch. The first caller that finds no write
// in progress becomes the writer: it writes its group, then every group
// that formed meanwhile, so concurrent Adds share store writes. The
// group keeps events (the caller must not modify them). Cost: the log
// body in one allocation, sized first, framed in place (wal.Frame).
func (e *Engine) commit(events []normEvent) error {
	size := 0
	for i := range events {
		size += eventSize(&events[i])
	}
	body := wal.NewBody(size)
	for i := range events {
		body = appendEvent(body, &events[i])
	}
	e.cmu.Lock()
	g := e.pending
	if g == nil { // the group takes the batch and its body as they are
		g = &commitGroup{done: make(chan struct{}), since: time.Now(), events: events, body: body}
		e.pending = g
	} else {
		g.events = append(g.events, events...)
		g.body = append(g.body, body[wal.BodyRoom:]...)
	}
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
		if next.capped != 0 {
			e.logCaps(next.capped)
		}
		e.logEvictions()
		e.cmu.Lock()
	}
	e.writing = false
	e.cmu.Unlock()
	return g.err
}

// writeGroup writes g's log record, then applies its events and counts
// them for Stats, and starts a checkpoint when enough log has accumulated.
// The group's writes do not depend on any caller's context: once started,
// a group completes.
func (e *Engine) writeGroup(g *commitGroup) error {
	ctx := context.Background()
	e.walMu.Lock()
	defer e.walMu.Unlock()
	e.awaitBacklog()
	if e.isClosed() {
		return ErrClosed
	}
	if err := e.settleUnsettled(ctx); err != nil {
		e.mu.Lock()
		for i := range g.events {
			e.unpin(&g.events[i])
		}
		e.mu.Unlock()
		return err
	}
	rec := wal.Frame(len(g.events), g.body)
	key, err := walKey(e.walSeq), error(nil)
	var putErr error // a Put that failed, yet stored the record: applied, and reported
	if e.replica != nil {
		key, err = e.appendRecord(ctx, func() error {
			// A refresh since Add's preload, or a catch-up, may have
			// swapped in a new state: pin the group's days in the state
			// it is applied to (a no-op but for a lookup per event,
			// mostly).
			e.mu.Lock()
			for i := range g.events {
				e.unpin(&g.events[i])
			}
			e.mu.Unlock()
			return e.preload(ctx, g.events)
		}, rec)
	} else if err = e.store.Put(ctx, key, rec); err != nil {
		stored, serr := e.settle(ctx, key, rec)
		if serr != nil {
			e.unsettled = rec
		}
		if stored {
			putErr, err = err, nil
		}
	}
	if err != nil {
		e.mu.Lock()
		for i := range g.events {
			e.unpin(&g.events[i])
		}
		e.mu.Unlock()
		return fmt.Errorf("insights: writing log record %s: %w", key, err)
	}
	e.walSeq++
	e.walBytes += len(rec)
	e.mu.Lock()
	added := e.applyAll(g.events)
	e.risk.feed.flush()
	g.capped = e.newlyCapped()
	e.mu.Unlock()
	e.obs.events.Add(uint64(added))
	e.obs.duplicates.Add(uint64(len(g.events) - added))
	e.obs.ingestLag.Store(int64(time.Since(g.since)))
	// The batch is durable and applied; a checkpoint runs on its own
	// goroutine. One that fails removed what it wrote and is retried
	// after the next group.
	e.checkpointIfDue(e.walBytes >= e.checkpointBytes)
	if putErr != nil {
		return fmt.Errorf("insights: writing log record %s: %w (the store holds it: it is applied)", key, putErr)
	}
	return nil
}

// settle finds out whether the store holds rec, the log record whose Put
// under key failed: a Put can fail after writing (an fsync error after
// the rename). Held whole, it is applied, as a follower that read it has
// and a reopen would, rather than its sequence given to the next group:
// a record once stored is applied (store/FORMAT.md, "Follow"). Absent, or
// damaged (a torn write, which no reader applies, deleted here), the
// sequence is free. When the store cannot tell (an error), the sequence
// is neither reused nor skipped: settleUnsettled asks again before the
// next group. walMu is held.
func (e *Engine) settle(ctx context.Context, key string, rec []byte) (stored bool, err error) {
	b, err := e.store.Get(ctx, key)
	switch {
	case err == nil && bytes.Equal(b, rec):
		return true, nil
	case err == nil:
		return false, e.store.Delete(ctx, key)
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

// settleUnsettled settles the log record whose Put failed and whose
// read-back failed too, if any, before the next group takes a sequence:
// applied if the store holds it. walMu is held.
func (e *Engine) settleUnsettled(ctx context.Context) error {
	if e.unsettled == nil {
		return nil
	}
	key := walKey(e.walSeq)
	stored, err := e.settle(ctx, key, e.unsettled)
	if err == nil && stored {
		var evs []normEvent
		if evs, err = decodeWAL(key, e.unsettled); err == nil {
			err = e.applyRecord(ctx, evs, "")
		}
		if err == nil {
			e.walSeq++
			e.walBytes += len(e.unsettled)
		}
	}
	if err != nil {
		return fmt.Errorf("insights: log record %s: its write failed, and whether the store holds it is unknown: %w", key, err)
	}
	e.unsettled = nil
	return nil
}

// checkpointIfDue starts a background checkpoint if due, or if a replica
// applied an erase record that no checkpoint covers yet (so that the
// lease holder's next one rewrites the user's days, wherever the erase
// was logged); unless one runs, or the lease was held by another replica
// lately. walMu is held.
func (e *Engine) checkpointIfDue(due bool) {
	due = due || e.replica != nil && (e.walFrom < e.eraseUpTo || e.garbage)
	if due && !e.ckRunning && time.Now().After(e.leaseRetry) {
		e.ckRunning, e.ckDone = true, make(chan struct{})
		go e.backgroundCheckpoint()
	}
}

// backgroundCheckpoint writes the checkpoint that a group's log started,
// unless the engine closed meanwhile.
func (e *Engine) backgroundCheckpoint() {
	e.ckMu.Lock()
	if !e.isClosed() {
		_ = e.writeCheckpoint(context.Background())
	}
	e.ckMu.Unlock()
	e.walMu.Lock()
	e.ckRunning = false
	close(e.ckDone)
	e.walMu.Unlock()
}

// awaitBacklog holds back the group writer while a checkpoint runs and the
// log it has not covered passes backlogFactor times CheckpointBytes: the
// back-pressure that bounds the log when Adds outpace checkpoints. walMu
// is held, and released while waiting.
func (e *Engine) awaitBacklog() {
	for e.ckRunning && e.walBytes >= backlogFactor*e.checkpointBytes {
		done := e.ckDone
		e.walMu.Unlock()
		<-done
		e.walMu.Lock()
	}
}

// backlogFactor is how many times CheckpointBytes of log a running
// checkpoint may fall behind before Adds wait for it.
const backlogFactor = 4

// Flush writes a checkpoint: the days changed since the last one as new
// segment versions, the catalog, and the manifest that commits them; then
// it deletes the log they cover and the versions they replace. Add is
// durable without Flush; Flush bounds the log replayed by the next Open
// and applies retention. A failed Flush returns why this attempt failed,
// having removed the files it wrote (but those a manifest it may have
// committed names); the engine keeps working and the next checkpoint
// writes the same days again. On a read-only engine it returns an error
// wrapping ErrReadOnly.
func (e *Engine) Flush(ctx context.Context) error {
	e.ckMu.Lock()
	defer e.ckMu.Unlock()
	if e.isClosed() {
		return ErrClosed
	}
	if e.readOnly {
		return fmt.Errorf("%w: Flush", ErrReadOnly)
	}
	return e.writeCheckpoint(ctx)
}

// writeCheckpoint does Flush's work; ckMu is held. It holds the log's and
// the days' locks (walMu, then the write lock) twice, briefly: to freeze
// the changed days' builders and snapshot the catalog as of the last log
// record applied (encoded holding none: catalog.go), and to commit what it
// wrote. In between it seals each
// frozen day holding no lock (sealing.go), latest day first, and takes the
// write lock to swap the sealed index in and add back the events kept
// aside for the day meanwhile (holding no lock while more than 1,024 are
// left: sealing.go); then it encodes and
// writes the day's segment, holding none. Meanwhile Adds and queries go
// on, waiting only for those swaps: an Add to a frozen day is kept aside
// until its swap, and a query of a frozen day seals it itself, if the
// checkpoint has not yet. A day that an Add changes meanwhile gets the new
// segment, but stays to be written again (its version moved). Stats counts
// the checkpoint, and Options.Logger logs it, unless it finds nothing to
// write.
func (e *Engine) writeCheckpoint(ctx context.Context) (err error) {
	start := time.Now()
	var leased uint64 // a replica's generation, taken with the lease
	if e.replica != nil {
		if leased, err = e.takeLease(ctx); err != nil {
			return err
		}
	}
	e.walMu.Lock()
	if e.replica != nil {
		// Start from the store's last checkpoint and log: the new one
		// covers them, and the holder that wrote it may have died
		// leaving files that it does not name.
		err := e.catchUp(ctx)
		if err == nil {
			var m *manifest
			if m, err = e.storeManifest(ctx); err == nil {
				_, err = e.removeGarbage(ctx, m, leased)
			}
		}
		if err == nil {
			// What earlier attempts left is deleted now, or named by the
			// manifest (one whose commit reported an error, loaded since):
			// not to be deleted after this one commits.
			e.strays, e.garbage = nil, false
		}
		if err != nil {
			e.walMu.Unlock()
			return fmt.Errorf("insights: checkpoint: %w", err)
		}
	}
	e.mu.Lock()
	e.logSketchRebuild(e.sketches.settle())
	if err := e.freshenSketches(ctx); err != nil { // the catalog saves them
		e.mu.Unlock()
		e.walMu.Unlock()
		return err
	}
	// Every attempt takes a new generation: a failed attempt's files (and
	// even its manifest, if its Put failed after the rename) may be on
	// disk, and must never be overwritten with other contents.
	gen := leased
	if e.replica == nil {
		e.gen++
		gen = e.gen
	}
	// Days retention drops stay in the store until a manifest without
	// them commits.
	e.strays = append(e.strays, e.applyRetention()...)
	var writes []segmentWrite
	segments := make(map[int32]string, len(e.days))
	today := dayOf(e.now(), e.loc)
	for n, ds := range e.days {
		var job *sealJob
		switch {
		case ds.dirty:
			job = ds.freeze() // sealed below, without the locks
		case ds.open != nil && n < today-1:
			e.closeDay(ds)
		}
		inside := insideDedupeHorizon(n, today)
		if ds.saved && ds.segFullIDs && !inside && ds.sealed != nil {
			ds.saved = false // left the dedupe horizon: rewritten without the ids its log holds
		}
		segments[n] = ds.segKey
		if !ds.saved {
			writes = append(writes, segmentWrite{n: n, ds: ds, d: ds.sealed, job: job, frozen: job != nil, key: segmentKey(n, gen), version: ds.version, allIDs: inside})
			segments[n] = segmentKey(n, gen)
		}
	}
	// The latest days first: those that Adds write to are frozen for
	// their own sealing only.
	slices.SortFunc(writes, func(a, b segmentWrite) int { return cmp.Compare(b.n, a.n) })
	defer e.unfreezeAll(writes, today) // the days still frozen when the checkpoint fails
	walSeq, walBytes := e.walSeq, e.walBytes
	if len(writes) == 0 && len(e.strays) == 0 && walSeq == e.walFrom && e.catalog != "" && !e.sketches.rehashed {
		e.mu.Unlock()
		e.walMu.Unlock()
		return nil // nothing changed since the last checkpoint
	}
	defer func() { e.checkpointDone(gen, len(writes), start, err) }()
	snap, err := e.snapshotCatalog(ctx)
	horizon := e.horizon
	e.mu.Unlock()
	e.walMu.Unlock()
	if err != nil {
		return e.failCheckpoint(ctx, err, gen, nil)
	}

	var written []string // by this attempt, removed if it fails
	for i := range writes {
		w := &writes[i]
		if w.job != nil {
			w.d = w.job.sealed()
			e.unfreeze(w, today)
		}
		err := e.need(ctx, w.d, lazySections) // encodeDay's, a segment missing reported as the engine's
		var b []byte
		var off int
		if err == nil {
			b, off, err = encodeDay(ctx, w.n, w.d, e.zenc, w.allIDs)
		}
		if err == nil {
			written = append(written, w.key)
			err = e.store.Put(ctx, w.key, b)
		}
		if err != nil { // a day encodeDay refuses (its log's parts disagree: a bug) stays as it is and fails every
			// later checkpoint too, so the write-ahead log, trimmed by checkpoints only, grows until the engine
			// is reopened from it: the error names the day (Flush's, Checkpoint's, the logger's)
			return e.failCheckpoint(ctx, err, gen, written)
		}
		w.logOff = off
	}
	m := manifest{gen: gen, walFrom: walSeq, horizon: horizon, catalog: catalogKey(gen), segments: segments}
	cat, users := snap.encode(gen) // once the days are written: the snapshot is smaller than its frames
	for _, f := range []struct {
		key string
		b   []byte
	}{{usersKey(gen), users}, {m.catalog, cat}} { // the users before the catalog that names them
		written = append(written, f.key)
		if err := e.store.Put(ctx, f.key, f.b); err != nil {
			return e.failCheckpoint(ctx, err, gen, written)
		}
	}
	if e.replica != nil {
		err = e.replica.PutLeased(ctx, e.holder, manifestKey, m.encode(), e.leaseTTL)
	} else {
		err = e.store.Put(ctx, manifestKey, m.encode())
	}
	if err != nil {
		return e.failCheckpoint(ctx, err, gen, written)
	}

	// Committed. What the new manifest no longer names is garbage.
	e.walMu.Lock()
	e.mu.Lock()
	if e.replica != nil && e.gen >= gen {
		// A refresh moved the replica to this manifest, or a later one,
		// already; the next checkpoint collects what this one replaced,
		// and is due (checkpointIfDue) even if nothing else changes: an
		// erasure waits for it (awaitCovered).
		e.garbage = true
		e.mu.Unlock()
		e.walMu.Unlock()
		return nil
	}
	garbage := e.strays
	e.strays = nil
	for _, w := range writes {
		ds := e.days[w.n]
		if ds.segKey != "" {
			garbage = append(garbage, ds.segKey)
		}
		ds.segKey, ds.logOff, ds.segFullIDs = w.key, w.logOff, w.allIDs
		if ds.version == w.version { // not changed since it was sealed
			ds.saved = true
			if ds.sealed == w.d && ds.open == nil {
				e.closeDay(ds)
			}
		}
		e.hold(ds) // now evictable, if closed
	}
	if e.catalog != "" {
		garbage = append(garbage, e.catalog, usersKey(keyGen(e.catalog))) // none for a catalog of version frame.Version: its Delete does nothing
	}
	e.catalog, e.gen = m.catalog, gen
	e.sketches.rehashed = false // the committed catalog has key-hash sketches
	e.mu.Unlock()
	for seq := e.walFrom; seq < walSeq; seq++ {
		garbage = append(garbage, walKey(seq))
	}
	e.walFrom, e.walBytes = walSeq, e.walBytes-walBytes
	e.walMu.Unlock()
	slices.Sort(garbage)
	for i, k := range garbage {
		if err := e.store.Delete(ctx, k); err != nil {
			e.strays = garbage[i:] // retried by the next checkpoint
			if e.replica != nil {
				e.walMu.Lock()
				e.garbage = true // which is due, as above
				e.walMu.Unlock()
			}
			return fmt.Errorf("insights: checkpoint %d is written; deleting %s: %w", gen, k, err)
		}
	}
	return nil
}

// segmentWrite is a day that a checkpoint writes: its sealed index d, or
// its builder frozen for the checkpoint to seal (job), and the segment.
type segmentWrite struct {
	n       int32
	ds      *dayState
	d       *day
	job     *sealJob
	frozen  bool // job's day is frozen for this checkpoint, as far as it knows
	key     string
	logOff  int
	version uint64 // the day's at the checkpoint's start
	allIDs  bool   // inside the dedupe horizon: keeps every request id
}

// unfreeze opens w's day again, once the checkpoint sealed it or, after
// a failure (unfreezeAll), unsealed, unless a query or an erasure did
// meanwhile, and drops its builder if the day is before yesterday (by
// today) and took no Add meanwhile: it is rarely written again. While more
// than unfreezeChunk events are kept aside for a day sealed it adds them
// to the builder holding no lock (addAside), then takes the write lock for
// the last of them; an unsealed day takes them all under the write lock,
// since a query's seal of that builder would race with addAside.
func (e *Engine) unfreeze(w *segmentWrite, today int32) {
	w.frozen = false
	for {
		e.mu.Lock()
		ds := w.ds
		if ds.sealing != w.job {
			e.mu.Unlock()
			return
		}
		if w.job.d != nil && w.job.aside() > unfreezeChunk { // sealed: a day a failed checkpoint never sealed is unfrozen whole
			ds.publish()
			pending := w.job.deferred
			e.mu.Unlock()
			w.job.addAside(pending)
			continue
		}
		if ds.unfreeze(false); !ds.dirty && w.n < today-1 {
			e.closeDay(ds)
		}
		e.mu.Unlock()
		return
	}
}

// unfreezeAll opens again the days of writes still frozen, unsealed if
// the checkpoint did not get to them. It takes the write lock if any is.
func (e *Engine) unfreezeAll(writes []segmentWrite, today int32) {
	for i := range writes {
		if w := &writes[i]; w.frozen {
			e.unfreeze(w, today)
		}
	}
}

// failCheckpoint removes the files that the failed checkpoint gen wrote
// and wraps its error. When the manifest's Put failed, the manifest of gen
// may be in place all the same (a Put can fail after its rename): the
// store's manifest is read back, and if it names gen, or cannot be read,
// its files stay until a later checkpoint commits (e.strays). Removal
// ignores ctx's cancellation, which may be what failed the checkpoint.
func (e *Engine) failCheckpoint(ctx context.Context, err error, gen uint64, written []string) error {
	ctx = context.WithoutCancel(ctx)
	if b, gerr := e.store.Get(ctx, manifestKey); gerr != nil || manifestGen(b) == gen {
		e.strays = append(e.strays, written...)
	} else {
		for _, k := range written {
			if e.store.Delete(ctx, k) != nil {
				e.strays = append(e.strays, k)
			}
		}
	}
	return fmt.Errorf("insights: checkpoint %d: %w", gen, err)
}

// manifestGen returns the generation of the encoded manifest b, or 0 if b
// does not decode.
func manifestGen(b []byte) uint64 {
	m, err := decodeManifest(b)
	if err != nil {
		return 0
	}
	return m.gen
}
