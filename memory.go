package insights

// Sealed days in memory are bounded by Options.MemoryLimit. Every day
// whose sealed index is in memory, or only its active set read alone from
// its segment (storedActive), is on a list, most recently used first,
// with the bytes it held when last measured. When their sum passes the
// limit, days are evicted from the least recently used end: their sealed
// index is dropped, and read again from their segment when a query or a
// late event next needs it. A day can be evicted only when its segment
// holds exactly its sealed form (saved), no builder is open on it, and no
// Add between its preload and its apply has it pinned (a day that preload
// did not find is pinned when an Add creates it: absentDay); the others stay,
// counted, so the limit can be passed while many days are being written
// (a bulk import before its first checkpoint). Results never depend on
// the limit: an evicted day reads back the same.
//
// The list is guarded like the days: by the write lock, or the read lock
// with sealMu held.

// DefaultMemoryLimit is the MemoryLimit of Options left at zero: the sealed
// day indexes that an engine keeps in memory, in bytes.
const DefaultMemoryLimit = 512 << 20

// residents is the list of days in memory, and their bytes.
type residents struct {
	limit     int64
	bytes     int64
	days      int
	evictions uint64
	head      *dayState // most recently used
	tail      *dayState // least recently used, evicted first
}

// MemoryUsage reports the days an engine holds in memory: their sealed
// index, or only their active set read alone from a segment.
type MemoryUsage struct {
	Limit     int64  // Options.MemoryLimit, in bytes
	Days      int    // days in memory: sealed, or holding only an active set read alone (storedActive)
	Bytes     int64  // heap they hold, about, in bytes (as of their last use)
	Evictions uint64 // days dropped from memory since Open, to be read again when needed
}

// Memory reports the sealed days in memory. It takes the engine's read
// lock: cheap, safe for concurrent use.
func (e *Engine) Memory() MemoryUsage {
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	r := &e.residents
	return MemoryUsage{Limit: r.limit, Days: r.days, Bytes: r.bytes, Evictions: r.evictions}
}

// residence is a day's place on the residents list.
type residence struct {
	prev, next *dayState
	listed     bool
	bytes      int64 // heap held by the sealed day when last measured
	pins       int   // events between preload and apply that need the day
}

// hold records that ds's sealed day was just used: it moves to the front
// with its bytes measured again (it may have been sealed anew, or grown
// derived sets), and days are evicted from the back while the list holds
// more than the limit. ds itself is kept.
func (e *Engine) hold(ds *dayState) {
	r := &e.residents
	r.unlist(ds)
	switch {
	case ds.sealed != nil:
		ds.bytes = ds.sealed.memBytes()
	case ds.activeOnly != nil:
		ds.bytes = int64(ds.activeOnly.GetSizeInBytes())
	default:
		return
	}
	r.push(ds)
	r.bytes += ds.bytes
	for c := r.tail; c != nil && r.bytes > r.limit; {
		prev := c.prev
		if c != ds && c.evictable() {
			c.sealed, c.activeOnly = nil, nil
			e.obs.evicting(c.bytes)
			r.unlist(c)
			r.evictions++
		}
		c = prev
	}
}

// evictable reports whether the day's sealed index, or the active set
// read alone from its segment (storedActive), can be dropped and read
// back from its segment.
func (ds *dayState) evictable() bool {
	if ds.sealed == nil {
		return ds.activeOnly != nil
	}
	return ds.open == nil && !ds.dirty && ds.saved && ds.pins == 0
}

// push puts ds at the front.
func (r *residents) push(ds *dayState) {
	ds.prev, ds.next, ds.listed = nil, r.head, true
	if r.head != nil {
		r.head.prev = ds
	}
	r.head = ds
	if r.tail == nil {
		r.tail = ds
	}
	r.days++
}

// unlist takes ds off the list, if it is on it, with its bytes.
func (r *residents) unlist(ds *dayState) {
	if !ds.listed {
		return
	}
	if ds.prev != nil {
		ds.prev.next = ds.next
	} else {
		r.head = ds.next
	}
	if ds.next != nil {
		ds.next.prev = ds.prev
	} else {
		r.tail = ds.prev
	}
	r.bytes -= ds.bytes
	r.days--
	ds.residence = residence{pins: ds.pins}
}

// absentDay counts the events between their preload and their apply
// whose day preload did not find. The Add that first applies to the day
// creates it pinned for them (ds): else another Add could create it, a
// checkpoint store it and the memory limit evict it before their apply,
// which would then start the day anew, empty, losing what the segment
// holds (TestStatsWhileAddsQueriesAndCheckpointsRun lost a batch so about
// 1 run in 130).
type absentDay struct {
	events int
	ds     *dayState // created since, pinned events times; nil if not yet
}

// pin pins the day of n for its apply, or counts it absent. The write lock
// is held.
func (e *Engine) pin(n *normEvent) {
	if ds := e.days[n.day]; ds != nil {
		ds.pins++
		n.pinned = ds
		return
	}
	if e.absent == nil {
		e.absent = map[int32]*absentDay{}
	}
	a := e.absent[n.day]
	if a == nil {
		a = &absentDay{}
		e.absent[n.day] = a
	}
	a.events++
	n.absent = true
}

// unpin releases the day that preload pinned for n, if any, or n's count
// as absent. The write lock is held.
func (e *Engine) unpin(n *normEvent) {
	if n.pinned != nil {
		n.pinned.pins--
		n.pinned = nil
	}
	if n.absent {
		n.absent = false
		a := e.absent[n.day]
		if a.ds != nil {
			a.ds.pins--
		}
		if a.events--; a.events == 0 {
			delete(e.absent, n.day)
		}
	}
}

// memBytes returns about how many bytes of heap d holds: its index, its
// event log as far as it is in memory, and the derived sets and log
// indexes built so far. Safe for concurrent use.
func (d *day) memBytes() int64 {
	n := d.index.Load()
	if n == 0 { // a day with every section from the start; one read by ranges sets its index when made, then adds what need decodes
		for s := range secActive {
			n += d.sectionBytes(s)
		}
		n += d.headBytes()
		d.index.Store(n)
	}
	if p := d.recovered.Load(); p != nil { // request ids read back from the log
		n += 8 * int64(len(*p))
	}
	return n + d.logBytes() + d.derived.Load() + d.ix.DerivedBytes()
}

// sectionBytes returns the bytes of zstd section s of d decoded: a code
// column, the event counts or the users.
func (d *day) sectionBytes(s int) int64 {
	switch s {
	case secCounts:
		return d.ix.Counts.Bytes()
	case secUsers:
		return 4 * int64(len(d.ix.Offs)+len(d.ix.Users))
	}
	return d.ix.Cols[s].Bytes()
}

// headBytes returns the bytes of d's active set and request ids (at
// least 1: a day's index is never measured as none).
func (d *day) headBytes() int64 {
	return max(1, 8*int64(len(d.requestIDs))+int64(d.ix.Active.GetSizeInBytes()))
}

// logBytes returns the bytes of d's event log in memory, its base's
// included: its chunks by their capacity, records and room after them (a
// chunk is given a little more room than the one before: appendChunked);
// its compressed blocks, which share one buffer of exactly their bytes
// (segment.DecodeLog), and its columns, held capped at their length
// (eventLog.view), by their length.
func (d *day) logBytes() int64 {
	d.logMu.Lock()
	l, base := &d.log, d.logBase
	n := 8*int64(len(l.times)) + 4*int64(len(l.users)+len(l.combos)+len(l.offs)) + int64(l.chunkRoom())
	for _, b := range l.blocks {
		n += int64(len(b))
	}
	d.logMu.Unlock()
	if base != nil {
		n += base.logBytes()
	}
	return n
}

// grew adds n bytes of derived sets or log indexes to d's size.
func (d *day) grew(n int) { d.derived.Add(int64(n)) }

// bytes returns the bytes of the index's arrays.
func (c csr) bytes() int { return 4 * (len(c.start) + len(c.ids)) }
