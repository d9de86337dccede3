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

// The users (the key of every user id, then its first, last, joined and
// deletion days) are what a large engine's catalog mostly holds: about 50
// bytes a user with 36-byte keys. A catalog of version frame.CatalogVersion
// keeps them in a frame of their own (kind 'U', key usersKey of its
// generation), and holds their counts and the deleted users' days, which
// aggregate queries need (deletedDay): Open reads the catalog alone, and
// the users frame is read, checksummed and decoded at the first operation
// that needs the users (loadUsers): an Add (preload), the replay of a
// log, Erase, a checkpoint (its snapshot, catalog.go), a user-level query
// (user metrics but active, inactive and rolling active users; Users,
// User, the event log, display names, registrations, risk reads), or the
// rebuild of a day sketch that did not decode (freshenSketches hashes the
// users' keys). The first checkpoint after Open thus decodes the users
// under walMu and the write lock: about 1.8 s at a million users.
// Followers, replicas and read-only engines decode them at Open (load):
// the writer they share the store with may delete the frame once it
// commits the next catalog.
//
// A catalog of version frame.Version holds its user section inside: a
// writer's Open reads past it (skipUsers), keeping the same counts and
// deletion days, and loadUsers reads the catalog again to decode it;
// other engines decode it at Open.
//
// The users frame's body is the old user section: users (uvarint), each
// user's key (string), then the four day columns (varints, NoDay for
// none). Its catalog names its key and CRC-32C, so that a frame of
// another catalog is refused, and the users it decodes must agree with
// the catalog's counts and deleted users (ErrCorrupt otherwise).

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
	key     string     // the users frame's store key, or a catalog's of version frame.Version
	frame   bool       // key is a users frame, whose trailer is crc; not a catalog
	crc     uint32     // the users frame's CRC-32C, as its catalog names it
	off     int        // in a catalog, the section's offset in its body (its user count)
	users   int        // user ids, erased users' included
	live    int        // users not erased
	deleted []deletion // the users with a deletion day, by ascending id
}

// lazyUsers reports whether Open may leave the user section undecoded:
// on a writer, which alone deletes its catalogs, and only after writing a
// catalog again (which decodes the section first).
func (e *Engine) lazyUsers() bool { return !e.follow && e.replica == nil && !e.readOnly }

// decodeUsers decodes the user section of users ids from r. On error
// (r.Err) the columns are partial and must be discarded. Cost: a map
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

// loadUsers decodes the users Open left undecoded, reading their frame
// (or the catalog, of version frame.Version, again) from the store; it does
// nothing if there is none or once it is done. The engine's lock, read or
// write, is held, or the engine is not yet shared (load): under the read
// lock, concurrent callers wait for the one decoding. Cost at a million
// users: the frame (about 50 MB) read and checksummed, a map of a million
// keys built (bench/RESULTS.md has the figures).
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
		return fmt.Errorf("insights: reading the users of %s: %w", p.key, e.missing(ctx, p.key, err))
	}
	c, err := p.decode(b)
	if err != nil {
		return err
	}
	e.setUsers(c)
	p.done.Store(true)
	return nil
}

// decode decodes the users from b, the value stored under p.key.
func (p *pendingUsers) decode(b []byte) (userColumns, error) {
	if !p.frame {
		r, err := frame.Open(p.key, frame.KindCatalog, b)
		if err != nil {
			return userColumns{}, err
		}
		r.Off = p.off
		if users := r.Count(1<<32-1, 5); r.Err == nil && users != p.users {
			r.Fail("%d users, %d at Open", users, p.users)
		}
		if r.Err != nil { // p.users is bounded by the section's bytes only once it matched
			return userColumns{}, r.Err
		}
		c := decodeUsers(r, p.users)
		return c, r.Err
	}
	if len(b) < frame.Trailer || binary.LittleEndian.Uint32(b[len(b)-frame.Trailer:]) != p.crc {
		return userColumns{}, fmt.Errorf("%w: %s: not the users frame its catalog names (checksum)", ErrCorrupt, p.key)
	}
	r, err := frame.Open(p.key, frame.KindUsers, b)
	if err != nil {
		return userColumns{}, err
	}
	if users := r.Count(1<<32-1, 5); r.Err == nil && users != p.users {
		r.Fail("%d users, %d in the catalog", users, p.users)
	}
	if r.Err != nil { // p.users is bounded by the frame's bytes only once it matched
		return userColumns{}, r.Err
	}
	c := decodeUsers(r, p.users)
	if err := r.End(); err != nil {
		return userColumns{}, err
	}
	if len(c.keys) != p.live {
		r.Fail("%d users not erased, %d in the catalog", len(c.keys), p.live)
	}
	i := 0
	for u, n := range c.deleted {
		if n == metrics.NoDay {
			continue
		}
		if i >= len(p.deleted) || p.deleted[i] != (deletion{n, uint32(u)}) {
			r.Fail("user %d's deletion day %s is not the catalog's", u, dateOfNum(n))
			break
		}
		i++
	}
	if r.Err == nil && i != len(p.deleted) {
		r.Fail("%d deleted users, %d in the catalog", i, len(p.deleted))
	}
	return c, r.Err
}

// readUserSummary reads a catalog's user counts, users frame and deleted
// users (frame.CatalogVersion), the catalog stored under catKey, and returns
// them undecoded with the user count. Cost: the deleted users only.
func readUserSummary(r *frame.Reader, catKey string) (*pendingUsers, int) {
	users := r.Count(1<<32-1, 0) // checked against the users frame's bytes before anything is sized by it (decode)
	p := &pendingUsers{users: users, frame: true}
	p.live = r.Count(users, 0)
	if p.key = r.String(256); r.Err == nil && p.key != usersKey(keyGen(catKey)) {
		r.Fail("users frame %q is not the catalog's", p.key)
	}
	if crc := r.Bytes(4); crc != nil {
		p.crc = binary.LittleEndian.Uint32(crc)
	}
	n := r.Count(p.live, 2) // an id and a day; a deleted user is not erased
	p.deleted = make([]deletion, 0, n)
	u := uint64(0)
	for i := 0; i < n && r.Err == nil; i++ {
		d := r.Uvarint()
		if i > 0 && d == 0 || d >= uint64(users) || u+d >= uint64(users) {
			r.Fail("deleted user: id %d after %d, of %d users", d, u, users)
		}
		u += d
		day := r.Day32()
		if day == metrics.NoDay {
			r.Fail("deleted user %d without a deletion day", u)
		}
		p.deleted = append(p.deleted, deletion{day, uint32(u)})
	}
	return p, users
}

// encodeUsers returns the users frame of c. Cost: a pass over the keys to
// size it, then one append of each key and day.
func encodeUsers(c *userColumns) []byte {
	size := frame.Header + binary.MaxVarintLen64 + 4*5*len(c.userKeys) + frame.Trailer
	for _, k := range c.userKeys {
		size += 1 + len(k)
	}
	b := append(make([]byte, 0, size), frame.New(frame.KindUsers)...)
	b = frame.AppendUvarint(b, uint64(len(c.userKeys)))
	for _, k := range c.userKeys {
		b = frame.AppendString(b, k)
	}
	for _, days := range [][]int32{c.first, c.last, c.joined, c.deleted} {
		for _, n := range days {
			b = frame.AppendVarint(b, int64(n))
		}
	}
	return frame.Seal(b)
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
