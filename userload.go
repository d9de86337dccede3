package insights

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/metrics"
)

// The catalog's user section (the key of every user id, then its first,
// last, joined and deletion days) is what a large engine's catalog mostly
// holds: about 50 bytes a user with 36-byte keys. A writer's Open does not
// decode it (skipUsers): it keeps the deletion days of the deleted users
// only, which aggregate queries need (deletedDay), and reads the section
// again from the store at the first operation that needs the users
// (loadUsers): an Add (preload), the replay of a log, Erase, a checkpoint
// that writes a catalog, a user-level query (user metrics but active,
// inactive and rolling active users; Users, User, the event log, display
// names, registrations, risk reads), or the rebuild of a day sketch that
// did not decode (freshenSketches hashes the users' keys). The first
// checkpoint after Open thus decodes the users under walMu and the write
// lock: about 1.8 s at a million users. Followers, replicas and read-only
// engines decode it at Open: the writer they share the store with may
// delete the catalog once it commits the next.

// userColumns is a decoded user section: the key map and the per-user
// days, indexed by user id.
type userColumns struct {
	keys                         map[string]uint32
	userKeys                     []string
	first, last, joined, deleted []int32
}

// pendingUsers is the user section that Open left undecoded. mu
// serializes its decoding; done says it was decoded into the engine's
// state, which nothing changes before (every writer decodes it first).
type pendingUsers struct {
	mu      sync.Mutex
	done    atomic.Bool
	key     string     // the catalog's store key
	off     int        // the section's offset in the catalog's body (its user count)
	users   int        // user ids, erased users' included
	live    int        // users not erased
	deleted []deletion // the users with a deletion day, by ascending id
}

// lazyUsers reports whether Open may leave the user section undecoded:
// on a writer, which alone deletes its catalogs, and only after writing a
// catalog again (which decodes the section first).
func (e *Engine) lazyUsers() bool { return !e.follow && e.replica == nil && !e.readOnly }

// decodeUsers decodes the user section of users ids from r. On error
// (r.err) the columns are partial and must be discarded. Cost: a map
// insertion and a string allocation per user.
func decodeUsers(r *frame.Reader, users int) userColumns {
	// Sized once: growing a map of a million keys rehashed it about twenty
	// times, a third of Open's time. The count is bounded by the frame's bytes.
	c := userColumns{keys: make(map[string]uint32, users), userKeys: make([]string, 0, users)}
	for i := 0; i < users && r.Err == nil; i++ {
		k := r.String(MaxKeyLength)
		if before := len(c.keys); k != "" {
			if c.keys[k] = uint32(i); len(c.keys) == before { // one map operation, not a lookup and then a store
				r.Fail("user key %q listed twice", k)
			}
		}
		c.userKeys = append(c.userKeys, k)
	}
	c.first, c.last, c.joined, c.deleted = make([]int32, users), make([]int32, users), make([]int32, users), make([]int32, users)
	for _, days := range [][]int32{c.first, c.last, c.joined, c.deleted} {
		for i := 0; i < len(days) && r.Err == nil; i++ {
			days[i] = r.Day32()
		}
	}
	return c
}

// skipUsers reads past the user section of users ids, starting at offset
// off of the catalog stored under key, keeping only its counts and the
// deletion days. Cost: a pass over the section's bytes, no allocation but
// for the deleted users.
func skipUsers(r *frame.Reader, key string, off, users int) *pendingUsers {
	p := &pendingUsers{key: key, off: off, users: users}
	for i := 0; i < users && r.Err == nil; i++ {
		if len(r.Bytes(r.Count(MaxKeyLength, 1))) > 0 {
			p.live++
		}
	}
	skipVarints(r, 3*users) // first, last, joined
	for u := 0; u < users && r.Err == nil; u++ {
		if n := r.Day32(); n != metrics.NoDay && r.Err == nil {
			p.deleted = append(p.deleted, deletion{n, uint32(u)})
		}
	}
	return p
}

// skipVarints moves r past n varints, checking only that its bytes hold
// them (decodeUsers checks their values). Cost: a look at 8 bytes at a
// time, counting the bytes that end a varint (high bit clear).
func skipVarints(r *frame.Reader, n int) {
	if r.Err != nil {
		return
	}
	b, i := r.Body[r.Off:], 0
	for ; n >= 8 && i+8 <= len(b); i += 8 { // at most 8 ends in 8 bytes: never past the n-th
		n -= bits.OnesCount64(^binary.LittleEndian.Uint64(b[i:]) & 0x8080808080808080)
	}
	for ; n > 0 && i < len(b); i++ {
		if b[i] < 0x80 {
			n--
		}
	}
	if n > 0 {
		r.Fail("%d varints past the end", n)
		return
	}
	r.Off += i
}

// setUsers makes c the engine's users and fills firstOn, which must be
// empty. The deletion set (deletedU) is the caller's.
func (e *Engine) setUsers(c userColumns) {
	e.keys, e.userKeys, e.first, e.last, e.joined, e.deleted = c.keys, c.userKeys, c.first, c.last, c.joined, c.deleted
	for u, n := range c.first {
		if n != metrics.NoDay {
			e.moveFirst(uint32(u), metrics.NoDay, n)
		}
	}
}

// loadUsers decodes the user section Open left undecoded, reading the
// catalog again from the store; it does nothing if there is none or once
// it is done. The engine's lock, read or write, is held: under the read
// lock, concurrent callers wait for the one decoding. Cost at a million
// users: the catalog read and checksummed again, a map of a million keys
// built (bench/RESULTS.md has the figures).
func (e *Engine) loadUsers(ctx context.Context) error {
	p := e.undecoded
	if p == nil || p.done.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return nil
	}
	if e.closed {
		return ErrClosed
	}
	b, err := e.store.Get(ctx, p.key)
	if err != nil {
		return fmt.Errorf("insights: reading the users of %s: %w", p.key, missing(p.key, err))
	}
	r, err := frame.Open(p.key, frame.KindCatalog, b)
	if err != nil {
		return err
	}
	r.Off = p.off
	if users := r.Count(1<<32-1, 5); r.Err == nil && users != p.users {
		r.Fail("%d users, %d at Open", users, p.users)
	}
	c := decodeUsers(r, p.users)
	if r.Err != nil {
		return r.Err
	}
	e.setUsers(c)
	p.done.Store(true)
	return nil
}

// usersReady reports whether the users are decoded (loadUsers). The
// engine's lock, read or write, is held.
func (e *Engine) usersReady() bool { return e.undecoded == nil || e.undecoded.done.Load() }

// userCount returns how many user ids there are, erased users' included.
// The engine's lock, read or write, is held.
func (e *Engine) userCount() int {
	if !e.usersReady() {
		return e.undecoded.users
	}
	return len(e.userKeys)
}

// liveUsers returns how many users there are, erased ones left out. The
// engine's lock, read or write, is held.
func (e *Engine) liveUsers() int {
	if !e.usersReady() {
		return e.undecoded.live
	}
	return len(e.keys)
}

// deletedDay returns user u's deletion day, metrics.NoDay if none,
// whether the users are decoded or not. The engine's lock, read or write,
// is held. Cost: an array read, or a binary search of the deleted users.
func (e *Engine) deletedDay(u uint32) int32 {
	if e.usersReady() {
		return e.deleted[u]
	}
	d := e.undecoded.deleted
	if i, ok := slices.BinarySearchFunc(d, u, func(x deletion, u uint32) int { return cmp.Compare(x.user, u) }); ok {
		return d[i].day
	}
	return metrics.NoDay
}
