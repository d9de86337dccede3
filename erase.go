package insights

import (
	"context"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/axiomhq/hyperloglog"

	"github.com/insightslab/insights/metrics"
)

// Erasure reports what Erase removed.
type Erasure struct {
	UserKey string
	Found   bool   // the key was known
	Days    []Date // days whose user sets held the user, ascending
	// Sketches is the number of approximate-mode sketches rebuilt from the
	// exact sets, since a sketch cannot forget one user: a day's, and its
	// week's and month's once an approximate query since Open has built
	// those (before, they are built later from the rebuilt days).
	Sketches int
}

// Erase removes a user (GDPR erasure): from every day's user sets, the
// per-user first-activity and deletion days, the user dictionary (the id
// stays, keyless), and, through a checkpoint that rewrites the changed
// days and deletes the log, from every file of the store. Event counts
// keep the user's events: they are aggregates, not personal data. Erasing
// an unknown key reports Found false and changes nothing. An error (a day
// that cannot be read, ctx cancelled) may leave the user removed from some
// days only: call Erase again until it succeeds. Cost: every day
// is loaded and scanned; the engine's writers wait meanwhile.
//
// On a replica (Options.Replica), Erase appends an erase record to the
// shared log, which every replica applies in log order, as it applies
// events: the user's events logged before it are erased everywhere, and
// events of the same key logged after it count afresh. Erase then
// returns once a checkpoint covering the record has committed (its own,
// if it can take the lease; otherwise the lease holder's, which every
// replica starts on applying an erase record): the store then holds the
// user in no file. An error after the record was created says so; the
// record stays, and is applied and covered all the same (replica.go).
// Every replica applying the record pays what Erase costs above (every
// day loaded and scanned, its writers and queries waiting), at once. On
// a follower, or a read-only engine, it returns an error wrapping
// ErrReadOnly.
func (e *Engine) Erase(ctx context.Context, userKey string) (Erasure, error) {
	if e.replica != nil {
		return e.eraseOnReplica(ctx, userKey)
	}
	e.ckMu.Lock()
	defer e.ckMu.Unlock()
	if e.isClosed() {
		return Erasure{UserKey: userKey}, ErrClosed
	}
	if e.follow {
		return Erasure{UserKey: userKey}, fmt.Errorf("%w: Erase on a follower: erase on the writer (or a replica), "+
			"whose checkpoint reaches the follower", ErrReadOnly)
	}
	if e.readOnly {
		return Erasure{UserKey: userKey}, fmt.Errorf("%w: Erase", ErrReadOnly)
	}
	e.walMu.Lock()
	e.mu.Lock()
	rep, err := e.eraseUser(ctx, userKey)
	e.mu.Unlock()
	e.walMu.Unlock() // before the checkpoint, which takes them again
	if err != nil || !rep.Found {
		return rep, err
	}
	if err := e.writeCheckpoint(ctx); err != nil {
		return rep, fmt.Errorf("insights: erasing %q: removed from memory, not yet from the store: %w", userKey, err)
	}
	return rep, nil
}

// eraseUser removes userKey from the engine's memory: Erase's work but
// the checkpoint, also done by every replica that applies an erase record
// (replayLog). walMu and the write lock are held. An error may leave the
// user removed from some days only; done again, it removes the rest.
func (e *Engine) eraseUser(ctx context.Context, userKey string) (Erasure, error) {
	rep := Erasure{UserKey: userKey}
	if err := e.loadUsers(ctx); err != nil {
		return rep, err
	}
	if err := e.thawUser(ctx, userKey); err != nil {
		return rep, err
	}
	uid, ok := e.keys[userKey]
	if !ok {
		return rep, nil
	}
	rep.Found = true
	days := make([]int32, 0, len(e.days))
	for n, ds := range e.days {
		if ds.open != nil { // thawUser opened every day that holds the user
			days = append(days, n)
		}
	}
	slices.Sort(days)
	var touched []int32
	for _, n := range days {
		if ds := e.days[n]; ds.open.remove(uid) {
			ds.dirty, ds.saved = true, false
			ds.version++
			touched = append(touched, n)
			rep.Days = append(rep.Days, dateOfNum(n))
		}
	}
	rep.Sketches, _ = e.rebuildSketches(touched, func(n int32) (*roaring.Bitmap, error) { return e.days[n].open.index.Active(), nil })
	delete(e.keys, userKey)
	e.userKeys = slices.Clone(e.userKeys) // open user lists read the old slice without the lock
	e.userKeys[uid] = ""
	e.moveFirst(uid, e.first[uid], metrics.NoDay)
	for _, days := range [][]int32{e.first, e.last, e.joined, e.deleted} {
		days[uid] = metrics.NoDay
	}
	e.deletedU.Remove(uid)
	delete(e.regs, uid)
	e.risk.feed.reset() // rebuilt without the user's events
	return rep, nil
}

// thawUser makes ready every day that holds userKey's user for its
// erasure, reading the store: it loads each day, thaws those whose sets
// hold the user, and brings each open day's log into memory. Nothing is
// removed. The write lock is held.
func (e *Engine) thawUser(ctx context.Context, userKey string) error {
	if e.closed {
		return ErrClosed
	}
	uid, ok := e.keys[userKey]
	if !ok {
		return nil
	}
	for n, ds := range e.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		ds.unfreeze(true) // a replica's erasure may come while a checkpoint seals
		if ds.open == nil && ds.sealed == nil {
			if err := e.loadInto(ctx, n, ds, lazySections); err != nil {
				return err
			}
			e.hold(ds)
		}
		if ds.open == nil {
			if !ds.sealed.whole() {
				if err := e.need(ctx, ds.sealed, lazySections); err != nil { // for holds and thaw
					return err
				}
				e.hold(ds) // its sections decoded count in MemoryLimit
			}
			if !ds.sealed.ix.Holds(uid) {
				continue
			}
			if _, err := ds.sealed.allRequestIDs(); err != nil { // for thaw
				return err
			}
			ds.open = ds.sealed.thaw()
		}
		if err := ds.open.joinLog(); err != nil {
			return err
		}
	}
	return nil
}

// joinLog brings the log of the builder's base into its own, plain, so
// that every entry can be rewritten.
func (b *dayBuilder) joinLog() error {
	if b.logBase == nil {
		return nil
	}
	l, err := b.logBase.joined(&b.log, b.baseAt)
	if err != nil {
		return err
	}
	b.log, b.logBase, b.baseAt = l, nil, nil
	return nil
}

// remove deletes uid from every set of the builder, reporting whether any held it.
func (b *dayBuilder) remove(uid uint32) bool {
	found := b.index.Remove(uid)
	var logged bool
	b.log, logged = b.log.erase(uid)
	return found || logged
}

// rebuildSketches recomputes the sketches of the given days, and of their
// weeks and months, from the exact active sets that active returns (read
// once a day, in order; an error stops the rebuild and is returned), and
// returns how many it built. The write lock is held. Cost: an insertion
// per active user of each day, then a merge per day of each week and
// month touched.
func (e *Engine) rebuildSketches(days []int32, active func(n int32) (*roaring.Bitmap, error)) (int, error) {
	rebuilt := 0
	weeks, months := map[int32]bool{}, map[int32]bool{}
	for _, n := range days {
		set, err := active(n)
		if err != nil {
			return rebuilt, err
		}
		sk, _ := hyperloglog.NewSketch(e.precision, true)
		it := set.Iterator()
		for it.HasNext() {
			if u := it.Next(); n <= e.deleted[u] {
				sk.InsertHash(userHash(e.userKeys[u]))
			}
		}
		e.sketches.setDay(n, sk)
		rebuilt++
		w, _ := bucketBounds(n, Week, 1)
		m, _ := bucketBounds(n, Month, 1)
		weeks[w], months[m] = true, true
	}
	if !e.sketches.lazy { // else load builds them
		rebuilt += e.sketches.mergeDays(weeks, months)
	}
	return rebuilt, nil
}
