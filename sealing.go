package insights

import "sync"

// A checkpoint seals the days it writes aside, holding no lock, so that
// Adds and queries wait only for its brief swaps (durability.go,
// writeCheckpoint). Under the write lock it freezes each changed day's
// builder: from then on nothing writes the builder, which only the
// sealing reads; an event applied to the day meanwhile is checked against
// the builder's request ids and kept aside, in order (deferred). Once
// sealed, the day is unfrozen: its sealed index becomes the day's (under
// the write lock), the events kept aside are added to the builder holding
// no engine lock (addAside) while they are many, then the last of them
// under the write lock, and the builder is open again. Their request ids
// go into the builder's set only then: until that, Adds check copies
// against the set as frozen and the ids kept aside (firstCopy), and
// nothing writes the set. Whatever else must change a frozen day's builder
// (a query wanting the day, an erasure) unfreezes it first, sealing it
// itself if the checkpoint has not yet: a day is sealed once.

// sealJob is a day's builder frozen for a checkpoint to seal, and the
// events applied to the day since.
type sealJob struct {
	b        *dayBuilder // frozen: read only until the seal, then added to only under mu
	once     sync.Once
	d        *day            // b sealed, once sealed returned
	deferred []deferredEvent // applied since the freeze, in order
	ids      map[uint64]bool // hashes of their request ids
	seq      uint32          // b.nextSeq(), at the freeze
	room     dayRoom         // b.room(), at the freeze: the next day's room (dayState.room)

	// mu guards the additions to b once sealed, and merged: taken by
	// addAside, holding no engine lock, and by dayState.unfreeze under
	// the write lock, or the read lock and sealMu.
	mu     sync.Mutex
	merged int // of deferred, added to b
}

// unfreezeChunk is how many events kept aside the checkpoint adds to a
// day's builder under the write lock, at most: about what one Add of a
// thousand events applies under it. While more are kept aside it adds
// them holding no engine lock (addAside).
const unfreezeChunk = 1024

// deferredEvent is dayBuilder.add's arguments for an event applied to a
// frozen day, and the hash of its request id, if it has one.
type deferredEvent struct {
	c        combo
	uid      uint32
	hasUser  bool
	activity bool
	hasID    bool
	t        int64
	id       uint64
	rec      string
}

// freeze hands ds's builder to a sealJob. The write lock is held; ds is
// dirty and not frozen.
func (ds *dayState) freeze() *sealJob {
	ds.sealing = &sealJob{b: ds.open, ids: map[uint64]bool{}, seq: ds.open.nextSeq(), room: ds.open.room()}
	return ds.sealing
}

// room returns the room of ds's builder (dayBuilder.room), as it was
// when frozen if it is: a frozen builder is added to holding no engine
// lock (addAside). None if no builder is open. The write lock is held.
func (ds *dayState) room() dayRoom {
	switch {
	case ds.sealing != nil:
		return ds.sealing.room
	case ds.open != nil:
		return ds.open.room()
	}
	return dayRoom{}
}

// sealed returns j's builder sealed, sealing it on the first call;
// concurrent callers wait for the first. No lock need be held. Cost: a
// seal of the day (dayBuilder.seal).
func (j *sealJob) sealed() *day {
	j.once.Do(func() { j.d = j.b.seal() })
	return j.d
}

// unfreeze adds the events kept aside for ds that addAside did not to its
// builder, with every kept event's request id, and opens the builder
// again; it does nothing if ds is not frozen. The sealed index becomes
// ds's, if sealed (seal, when set, seals it first); ds stays dirty if any
// event was kept aside, or if it was not sealed. The write lock is held,
// or the read lock and sealMu (and then seal is set, or no other goroutine
// can be sealing j). Cost: the seal, then an add per event left, and a
// set insertion per request id kept aside; it waits for a running
// addAside.
func (ds *dayState) unfreeze(seal bool) {
	j := ds.sealing
	if j == nil {
		return
	}
	if seal {
		j.sealed()
	}
	ds.publish()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.addDeferred(j.deferred[j.merged:])
	for id := range j.ids {
		j.b.seen[id] = struct{}{}
	}
	ds.sealing = nil
}

// publish makes the frozen builder's sealed index ds's, once sealed.
// The write lock is held, or the read lock and sealMu.
func (ds *dayState) publish() {
	if j := ds.sealing; j.d != nil && ds.sealed != j.d { // published once: Adds set dirty since
		ds.sealed, ds.dirty = j.d, len(j.deferred) > 0
	}
}

// aside returns how many events kept aside are not yet in the builder.
// The write lock is held.
func (j *sealJob) aside() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.deferred) - j.merged
}

// addAside adds to j's builder, sealed, the events of pending (j.deferred
// as the caller read it under the write lock) that are not in it yet,
// without their request ids (unfreeze adds them). It holds no engine
// lock: a query or an erasure that unfreezes the day meanwhile waits for
// it. Cost: an add per event.
func (j *sealJob) addAside(pending []deferredEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.merged < len(pending) {
		j.addDeferred(pending[j.merged:])
	}
}

// addDeferred adds evs, the next events kept aside, to j's builder,
// sealed. j.mu is held.
func (j *sealJob) addDeferred(evs []deferredEvent) {
	for _, v := range evs {
		j.b.add(v.c, v.uid, v.hasUser, v.activity, v.t, v.rec)
	}
	j.merged += len(evs)
}

// firstCopy is dayBuilder.firstCopy on the day's builder, frozen or not.
// The write lock is held.
func (ds *dayState) firstCopy(requestID string) bool {
	j := ds.sealing
	if j == nil {
		return ds.open.firstCopy(requestID)
	}
	if requestID == "" {
		return true
	}
	k := requestIDHash(requestID)
	if _, dup := j.b.seen[k]; dup || j.ids[k] {
		return false
	}
	j.ids[k] = true
	return true
}

// add is dayBuilder.add on the day's builder, kept aside while it is
// frozen with the request id's hash; it returns the sequence of the event
// in the day's log. The write lock is held.
func (ds *dayState) add(c combo, uid uint32, hasUser, activity bool, t int64, rec, requestID string) uint32 {
	j := ds.sealing
	if j == nil {
		seq := ds.open.nextSeq()
		ds.open.add(c, uid, hasUser, activity, t, rec)
		return seq
	}
	v := deferredEvent{c: c, uid: uid, hasUser: hasUser, activity: activity, t: t, rec: rec, hasID: requestID != ""}
	if v.hasID {
		v.id = requestIDHash(requestID)
	}
	j.deferred = append(j.deferred, v)
	return j.seq + uint32(len(j.deferred)-1)
}
