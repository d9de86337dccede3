package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/insightslab/insights/store"
)

// A follower (Options.Follow) reads a store that one other engine, the
// writer, writes: in another process on the same directory
// (store.DirOptions.Follow), or on the same PostgreSQL schema. It writes
// nothing, and keeps up by polling (Refresh):
//
//   - while the store's MANIFEST names the generation it loaded, it
//     applies the log records the writer appended since its last one, in
//     sequence order, each under the write lock, and stops at the first
//     sequence missing: a record is whole once listed (the writer's Put is
//     atomic), and nothing past a gap may be applied;
//   - when the MANIFEST names another generation, it builds a new state
//     from it, as Open does (the catalog, the days named lazily, the log
//     from the manifest's first sequence), on the side, and swaps it in
//     under the write lock: queries in flight end on the old state, later
//     ones see the new one.
//
// The writer deletes what a new manifest no longer names as soon as it
// commits it: a segment, catalog or log record the follower was about to
// read may be gone. A key the follower's manifest names that is missing
// while the store's MANIFEST still names the same generation is
// corruption, as at Open; missing while the MANIFEST moved on, it is
// errStale: Refresh then starts again from the newer manifest, and a
// query that met it (loading an evicted or never loaded day, or a day's
// log) refreshes and runs again. Neither answers from a mix of two
// generations.

// DefaultRefreshInterval is the Options.RefreshInterval of Options left at
// zero: how often a follower polls its store.
const DefaultRefreshInterval = 500 * time.Millisecond

// errStale says that a newer manifest was committed and a file it no
// longer names deleted while the engine read it: a follower's state names
// it (the follower must move on), or on the writer what read it holding
// no lock took it from an earlier state (it must look again).
var errStale = errors.New("insights: the store's checkpoint moved on while the engine read it")

// Refresh brings a follower (Options.Follow) up to date with its store
// now: it applies the log records written since its last refresh, or,
// when the writer committed a checkpoint since, moves to it. When it
// returns nil the engine answers with every event the writer had
// acknowledged when Refresh began (and perhaps some acknowledged since).
// Cost: with no checkpoint since the last refresh, a read of the
// manifest, a listing of the log (on a store.RangeLister, such as
// PostgreSQL, of the records past the last one applied only; on the
// directory store, of every record since the checkpoint) and a read of
// each new record; after a
// checkpoint, what Open costs (the catalog read whole, the log since the
// checkpoint replayed; days are read again when next queried). Queries go
// on meanwhile but for the brief swap. Refreshes, the background one of
// RefreshInterval included, run one at a time. A Refresh that fails
// leaves the engine as it was, answering from what it had. On an engine
// that is not a follower it returns an error wrapping ErrInvalidQuery.
func (e *Engine) Refresh(ctx context.Context) error {
	if !e.follow {
		return fmt.Errorf("%w: Refresh: the engine is not a follower (Options.Follow) or a replica (Options.Replica)", ErrInvalidQuery)
	}
	e.walMu.Lock()
	defer e.walMu.Unlock()
	if err := e.catchUp(ctx); err != nil {
		return err
	}
	e.checkpointIfDue(false)
	return nil
}

// refresh is one attempt of Refresh; walMu is held.
func (e *Engine) refresh(ctx context.Context) error {
	if e.walSeq == 0 && e.gen == 0 {
		// Nothing seen yet: the writer may have created the store since
		// Open, with a zone or precision other than the follower's.
		if err := e.checkMeta(ctx); err != nil {
			return err
		}
	}
	// The log is listed before the manifest is read: a record listed
	// then deleted is a gap or a record gone, which the manifest read
	// again explains (logGap); but a listing taken after a newer
	// checkpoint deleted the log it covers may just be shorter, and the
	// records missed, acknowledged before the refresh began, would go
	// unnoticed until the next refresh. On a store that lists ranges,
	// only the records from the next sequence on are listed.
	logs, listed, err := e.listLog(ctx, e.walSeq)
	if err != nil {
		return err
	}
	m, err := e.storeManifest(ctx)
	if err != nil {
		return err
	}
	switch {
	case m.gen < e.gen:
		return fmt.Errorf("%w: %s: generation %d, older than the %d the follower loaded: the store was replaced; reopen the follower",
			ErrCorrupt, manifestKey, m.gen, e.gen)
	case m.gen == e.gen:
		_, _, err := e.replayLog(ctx, e.walSeq, logs)
		return err
	}
	s := &Engine{
		loc: e.loc, now: e.now, precision: e.precision, store: e.store,
		checkpointBytes: e.checkpointBytes, retentionDays: e.retentionDays, parallelism: e.parallelism,
		maxDimValues: e.maxDimValues, memoryLimit: e.memoryLimit, readOnly: true, follow: true,
		zenc: e.zenc, zdec: e.zdec, obs: e.obs,
	}
	s.state = s.newState()
	if m.walFrom < listed {
		// The new checkpoint covers less than the follower applied: the
		// records between, which it applied, are listed too. Listed after
		// the manifest, they may be gone, covered by a later checkpoint:
		// the new state then falls short of the old one.
		more, _, err := e.listLog(ctx, m.walFrom)
		if err != nil {
			return err
		}
		i, _ := slices.BinarySearch(more, walKey(listed))
		logs = append(more[:i:i], logs...)
	}
	if err := s.load(ctx, m, logs); err != nil {
		return err
	}
	if s.walSeq < e.walSeq {
		// A record the follower applied is gone: collected under a newer
		// checkpoint (move to it), or lost. (A checkpoint deletes the
		// catalog it replaces before the log, so load has most likely
		// met the newer one already; this guards the order.)
		now, err := e.storeManifest(ctx)
		if err != nil {
			return err
		}
		missing := fmt.Errorf("%w: %s: applied by the follower, gone from the log after generation %d", ErrCorrupt, walKey(s.walSeq), m.gen)
		if now.gen == m.gen {
			return missing
		}
		return fmt.Errorf("%w: %w", errStale, missing)
	}
	e.carryDays(s)
	e.mu.Lock()
	e.state = s.state
	e.risk.feed.reset() // the detections are rebuilt from the new state's log
	e.mu.Unlock()
	e.walSeq, e.walFrom, e.walBytes = s.walSeq, s.walFrom, s.walBytes
	e.eraseUpTo = max(e.eraseUpTo, s.eraseUpTo)
	return nil
}

// listLog lists the log records from sequence from on, on a store that
// lists ranges (store.RangeLister), and returns from; on another, every
// log record, and 0.
func (e *Engine) listLog(ctx context.Context, from uint64) ([]string, uint64, error) {
	if r, ok := e.store.(store.RangeLister); ok {
		keys, err := r.ListFrom(ctx, "wal/", walKey(from))
		return keys, from, err
	}
	keys, err := e.store.List(ctx, "wal/")
	return keys, 0, err
}

// carryDays gives the days of s, a follower's next state, that the new manifest names with the
// segment they had, and that no log record changed since, the sealed
// index e holds of them, if any: a checkpoint rewrites the days that
// changed, and the others need not be read again. A sealed day is
// immutable, and shared freely. walMu is held.
func (e *Engine) carryDays(s *Engine) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	for n, ds := range s.days {
		if old := e.days[n]; old != nil && old.sealed != nil && old.evictable() && old.segKey == ds.segKey && ds.sealed == nil && ds.open == nil {
			ds.sealed, ds.segFullIDs = old.sealed, old.segFullIDs
			s.hold(ds)
		}
	}
}

// checkMeta reads the store's metadata, if it has any yet, and refuses a
// zone or precision other than the engine's.
func (e *Engine) checkMeta(ctx context.Context) error {
	b, err := e.store.Get(ctx, metaKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("insights: refresh: %w", err)
	}
	var got meta
	if err := json.Unmarshal(b, &got); err != nil {
		return fmt.Errorf("%w: %s: unreadable", ErrCorrupt, metaKey)
	}
	if got.Zone != e.loc.String() || got.HLLPrecision != e.precision {
		return fmt.Errorf("%w: Options: the follower opened an empty store in zone %q, precision %d; "+
			"its writer created it in zone %q, precision %d", ErrInvalidQuery, e.loc, e.precision, got.Zone, got.HLLPrecision)
	}
	return nil
}

// storeManifest reads the store's manifest: an empty one if it has none
// yet.
func (e *Engine) storeManifest(ctx context.Context) (*manifest, error) {
	b, err := e.store.Get(ctx, manifestKey)
	if errors.Is(err, store.ErrNotFound) {
		return &manifest{horizon: math.MinInt32, segments: map[int32]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("insights: refresh: %w", err)
	}
	return decodeManifest(b)
}

// logGap returns what replayLog returns at a missing log record (err, the
// corruption Open reports): on a follower, errStale if the store's
// manifest moved on (the writer deleted the record, covered by it), else
// nil: the record is not written yet, and the follower stops before it.
func (e *Engine) logGap(ctx context.Context, err error) error {
	if !e.follow {
		return err
	}
	m, merr := e.storeManifest(ctx)
	switch {
	case merr != nil:
		return merr
	case m.gen != e.gen:
		return fmt.Errorf("%w: %w", errStale, err)
	}
	return nil
}

// fresh returns f(), but while f meets a file that a newer checkpoint
// replaced and deleted (errStale) calls f again: on a follower after a
// refresh (its writer deleted the file), on the writer at once (its own
// checkpoint did, while f read holding no lock: a risk rebuild's logs, a
// day's sections or log read after the lock is released). No lock is
// held. A retry that does not find the engine at another generation than
// the one before the failed call cannot help: the file is then reported
// as corrupt rather than looked for again. The writer's first retry is
// free of that test: f may have waited for work that started before it
// (a risk rebuild), with the state of an earlier generation.
func fresh[T any](ctx context.Context, e *Engine, f func() (T, error)) (T, error) {
	for tries := 0; ; tries++ {
		gen := e.generation() // before f: a background refresh may move on meanwhile
		v, err := f()
		if !errors.Is(err, errStale) {
			return v, err
		}
		if e.follow {
			if rerr := e.Refresh(ctx); rerr != nil {
				return v, rerr
			}
		}
		if e.generation() == gen && (e.follow || tries > 0) {
			return v, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
}

// generation returns the generation of the checkpoint the engine's state
// comes from.
func (e *Engine) generation() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.gen
}

// poll refreshes the follower every interval until stop is closed; done
// is closed when it returns. A failed refresh is counted and logged, and
// retried at the next tick.
func (e *Engine) poll(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := e.Refresh(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
			e.obs.refreshFailures.Add(1)
			if e.obs.log != nil {
				e.obs.log.LogAttrs(ctx, slog.LevelError, "insights: refresh failed", slog.String("error", err.Error()))
			}
		}
	}
}
