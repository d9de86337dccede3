package insights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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
// returns its key. On an error it may have stored it (see store.Replicas),
// and the caller unpins g's events. A sequence taken that catching up
// neither reads nor skips (a hole in the log) is ErrCorrupt, not a retry
// without end. walMu is held.
func (e *Engine) appendRecord(ctx context.Context, g *commitGroup, rec []byte) (string, error) {
	for {
		// A refresh since Add's preload, or the catch-up, may have
		// swapped in a new state: pin the group's days in the state it is
		// applied to (a no-op but for a lookup per event, mostly).
		e.mu.Lock()
		for i := range g.events {
			unpin(&g.events[i])
		}
		e.mu.Unlock()
		// A day's segment may be gone (errStale), the lease holder having
		// committed a checkpoint that replaced it: catch up, as when
		// another replica took the sequence.
		key := walKey(e.walSeq)
		err := e.preload(ctx, g.events)
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
