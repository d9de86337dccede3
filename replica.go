package insights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/insightslab/insights/internal/wal"
	"github.com/insightslab/insights/store"
)

// A replica (Options.Replica) is a follower that may also Add: several
// engines, in as many processes, write one tenant on a store that
// implements store.Replicas (pgstore). Each keeps up as a follower does
// (follow.go), and:
//
//   - appends a group of batches by creating the log record of its next
//     sequence (store.Replicas.Create), which fails if another replica
//     created it first, or if a checkpoint's garbage collection deleted
//     it: the replica then catches up (applies the records up to the
//     first sequence missing, or moves to the newer checkpoint), pins the
//     group's days again in what may be a new state, and tries the next
//     sequence. Once a Create succeeds, every record before it is one
//     the replica applied, so the group is applied after them, in log
//     order: every replica applies the same records in the same order,
//     and deduplication by request id (first copy wins) and AddCount's
//     count agree across replicas. A Create that fails otherwise may have
//     stored the record: it is never deleted (another replica may have
//     applied it), and the replica applies it when it finds it.
//   - writes a checkpoint only while it holds the store's lease
//     (store.Replicas.TakeLease, renewed at each checkpoint): having
//     taken it, and with it the checkpoint's generation, unique across
//     replicas, it catches up with the store, deletes what the store's
//     manifest does not name (leftovers of a holder that died), writes
//     the days and catalog, and commits the manifest with PutLeased,
//     which fails if another replica has taken the lease meanwhile. Only
//     then does it delete the log records the checkpoint covers. A
//     replica that does not hold the lease skips its checkpoints (Flush
//     returns an error wrapping store.ErrLeaseHeld) and tries again after
//     half of LeaseTTL; the other replicas move to each new checkpoint as
//     followers do, and find their own records past it in the log.

// DefaultLeaseTTL is the Options.LeaseTTL of Options left at zero.
const DefaultLeaseTTL = 10 * time.Second

// newHolder returns a replica's name for the lease: random, so that no
// two engines share one.
func newHolder() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("insights: Open: naming the replica: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// catchUp brings the engine up to the store: Refresh's work, with walMu
// held.
func (e *Engine) catchUp(ctx context.Context) error {
	for {
		if e.isClosed() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		begun := time.Now()
		err := e.refresh(ctx)
		if err == nil {
			e.obs.refreshed.Store(int64(begun.Sub(e.obs.opened)))
		}
		if !errors.Is(err, errStale) {
			return err
		}
	}
}

// appendRecord creates rec as the log record of the replica's next
// sequence, catching up each time another replica took it first, and
// returns its key. Before each try it calls prepare, which readies the
// state the record is applied to (loads and pins a group's days); an
// errStale from it catches up too. On an error it may have stored rec
// (see store.Replicas). A sequence taken that catching up neither reads
// nor skips (a hole in the log) is ErrCorrupt, not a retry without end.
// walMu is held.
func (e *Engine) appendRecord(ctx context.Context, prepare func() error, rec []byte) (string, error) {
	for {
		// A day's segment may be gone (errStale), the lease holder having
		// committed a checkpoint that replaced it: catch up, as when
		// another replica took the sequence.
		key := walKey(e.walSeq)
		err := prepare()
		if err == nil {
			err = e.replica.Create(ctx, key, rec)
			if !errors.Is(err, store.ErrExists) {
				return key, err
			}
		} else if !errors.Is(err, errStale) {
			return key, err
		}
		seq, gen := e.walSeq, e.generation()
		if err := e.catchUp(ctx); err != nil {
			return key, err
		}
		if e.walSeq == seq && e.generation() == gen {
			// Caught up, and nothing moved: trying again would only meet
			// the same hole (a record taken, yet neither readable nor
			// covered by a checkpoint) or missing file.
			if errors.Is(err, store.ErrExists) {
				return key, fmt.Errorf("%w: %s: the store refuses to create it, but holds no such record "+
					"and no checkpoint covers it", ErrCorrupt, key)
			}
			return key, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
}

// takeLease takes or renews the lease for a checkpoint, and returns the
// checkpoint's generation; held by another replica, an error wrapping
// store.ErrLeaseHeld, and background checkpoints wait half of LeaseTTL.
func (e *Engine) takeLease(ctx context.Context) (uint64, error) {
	e.mu.RLock()
	above := e.gen
	e.mu.RUnlock()
	gen, err := e.replica.TakeLease(ctx, e.holder, e.leaseTTL, above)
	if err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			e.walMu.Lock()
			e.leaseRetry = time.Now().Add(e.leaseTTL / 2)
			e.walMu.Unlock()
		}
		return 0, fmt.Errorf("insights: checkpoint: %w", err)
	}
	return gen, nil
}

// releaseLease lets the next replica take the lease at once, rather than
// once it expires: a lease renewed to expire now. Lost meanwhile, it is
// not this replica's to release.
func (e *Engine) releaseLease(ctx context.Context) error {
	if _, err := e.replica.TakeLease(ctx, e.holder, 0, 0); err != nil && !errors.Is(err, store.ErrLeaseHeld) {
		return fmt.Errorf("insights: releasing the lease: %w", err)
	}
	return nil
}

// eraseOnReplica is Erase on a replica: having caught up, it creates an
// erase record under its next sequence, as a group of events is created
// (appendRecord), applies it, and returns once a checkpoint covers it.
func (e *Engine) eraseOnReplica(ctx context.Context, userKey string) (Erasure, error) {
	rep := Erasure{UserKey: userKey}
	e.walMu.Lock()
	if err := e.catchUp(ctx); err != nil {
		e.walMu.Unlock()
		return rep, err
	}
	e.mu.RLock()
	_, known := e.keys[userKey]
	e.mu.RUnlock()
	if !known {
		e.walMu.Unlock()
		return rep, nil
	}
	// The days that hold the user are thawed, their logs read, before
	// the record is created: the lease holder, applying it, may commit
	// a checkpoint that deletes their segments before this replica
	// reads them.
	rec := wal.EncodeErase(userKey)
	key, err := e.appendRecord(ctx, func() error {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.thawUser(ctx, userKey)
	}, rec)
	if err != nil {
		e.walMu.Unlock()
		return rep, fmt.Errorf("insights: erasing %q: writing log record %s (if stored, every replica applies it): %w", userKey, key, err)
	}
	upTo := e.walSeq + 1
	e.mu.Lock()
	rep, err = e.eraseUser(ctx, userKey)
	e.mu.Unlock()
	switch {
	case err == nil:
		e.walSeq++
		e.walBytes += len(rec)
		e.eraseUpTo = e.walSeq
	case errors.Is(err, errStale):
		// A day that does not hold the user, evicted since it was
		// loaded, whose segment the holder's checkpoint deleted:
		// catching up moves to that checkpoint (and applies the record,
		// if it does not cover it). The report holds what this replica
		// removed before.
		err = e.catchUp(ctx)
	}
	e.walMu.Unlock()
	if err != nil {
		// The record stays unapplied: the next refresh applies it again.
		return rep, fmt.Errorf("insights: erasing %q: log record %s is written; applying it: %w", userKey, key, err)
	}
	if err := e.awaitCovered(ctx, upTo); err != nil {
		return rep, fmt.Errorf("insights: erasing %q: log record %s is written and applied, not yet covered by a checkpoint that deleted what it replaced: %w", userKey, key, err)
	}
	return rep, nil
}

// eraseRetry is how often a replica's Erase, the lease being held by
// another, looks for the holder's checkpoint.
const eraseRetry = 100 * time.Millisecond

// awaitCovered returns once a committed checkpoint covers the log before
// sequence upTo, and the files it replaced are deleted: it writes the
// checkpoint if it can take the lease; else it refreshes until the
// holder's (which the holder starts on applying the erase record,
// checkpointIfDue) is committed and collected. No lock is held.
func (e *Engine) awaitCovered(ctx context.Context, upTo uint64) error {
	covered := func() bool {
		e.walMu.Lock()
		defer e.walMu.Unlock()
		return e.walFrom >= upTo
	}
	for {
		// Until the record is covered and what the covering checkpoint
		// replaced is deleted: a checkpoint that finds the log covered
		// still collects (writeCheckpoint's removeGarbage), and the
		// covering one may have left its deletions to the next, having
		// failed one or found a refresh ahead of it.
		e.ckMu.Lock()
		err := ErrClosed
		if !e.isClosed() {
			err = e.writeCheckpoint(ctx)
		}
		e.ckMu.Unlock()
		if err != nil && !errors.Is(err, store.ErrLeaseHeld) {
			return err
		}
		if covered() {
			done, err := e.collected(ctx)
			if done || err != nil {
				return err
			}
		}
		t := time.NewTimer(eraseRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := e.Refresh(ctx); err != nil {
			return err
		}
	}
}

// collected reports whether the store holds no file that its manifest
// replaced: no log record before the manifest's first sequence, and no
// catalog or segment of its generation or an earlier one that it does
// not name. (Those of later generations are a checkpoint's in progress.)
func (e *Engine) collected(ctx context.Context) (bool, error) {
	m, err := e.storeManifest(ctx)
	if err != nil {
		return false, err
	}
	for _, prefix := range []string{"wal/", "catalog/", "days/"} {
		keys, err := e.store.List(ctx, prefix)
		if err != nil {
			return false, err
		}
		for _, k := range keys {
			if prefix == "wal/" && keyGen(k) < m.walFrom || prefix != "wal/" && keyGen(k) <= m.gen && !m.names(k) {
				return false, nil
			}
		}
	}
	return true, nil
}
