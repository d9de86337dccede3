package insights

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"
)

// Observability (SPEC §11): what the engine logs through Options.Logger,
// and Stats. Durations (query latency, checkpoint duration and age, ingest
// lag) are measured on the machine's monotonic clock, not on Options.Now:
// they describe the process, while Options.Now is the calendar of the data
// (a host importing old events may well fix it). Nothing is logged when
// Options.Logger is nil, and the paths of Add and Query then build no
// log record at all.

// DefaultSlowQuery is the Options.SlowQuery of Options left at zero.
const DefaultSlowQuery = time.Second

// observer holds the engine's logger and the counters behind Stats. The
// counters are atomics, updated by Add, Query and checkpoints without a
// lock.
type observer struct {
	log       *slog.Logger // nil: nothing is logged
	slowQuery time.Duration
	opened    time.Time // when Open began: the origin of the offsets below

	events, duplicates atomic.Uint64
	ingestLag          atomic.Int64 // ns: the last group's wait, from its first batch to applied

	queries, slowQueries atomic.Uint64
	queryTime            atomic.Int64 // ns, summed

	checkpoints, checkpointFailures atomic.Uint64
	lastCheckpoint                  atomic.Int64 // ns after opened when the last checkpoint committed, -1 for none
	checkpointTime                  atomic.Int64 // ns the last committed checkpoint took

	refreshed       atomic.Int64 // a follower: ns after opened when the last successful refresh began, -1 for none
	refreshFailures atomic.Uint64

	// Evictions not yet logged (counted only with a logger), logged by
	// the next Add, query or checkpoint once it holds no lock.
	evicted      atomic.Uint64
	evictedBytes atomic.Int64

	capsLogged uint64 // guarded by mu: a bit per indexed dimension whose cap was logged
}

// Stats is a snapshot of an engine's state and of its work since Open,
// for monitoring: the module github.com/insightslab/insights/prometheus
// exports it. Counters (Events, Queries, ...) start at zero at Open.
type Stats struct {
	Events     uint64 // events Add applied since Open; replayed ones are in Recovery.LogEvents
	Duplicates uint64 // events Add skipped since Open as copies of earlier ones (same RequestID and day)
	Users      int    // user keys the engine knows (any event with a user key), erased ones excluded

	Days       int         // days with data, in memory or only in the store
	DaysStored int         // days with a segment in the store (their latest changes may still be only in the log)
	Memory     MemoryUsage // Engine.Memory: the sealed days in memory (Memory.Days are the resident days), their bytes, evictions
	Recovery   Recovery    // Engine.Recovery: what Open found

	Checkpoints        uint64        // checkpoints committed since Open
	CheckpointFailures uint64        // checkpoints that failed since Open (retried by the next)
	LastCheckpoint     time.Time     // when the last checkpoint committed; zero if none since Open
	CheckpointAge      time.Duration // since LastCheckpoint, or since Open if none
	CheckpointDuration time.Duration // how long the last committed checkpoint took; 0 if none
	CheckpointRunning  bool          // a checkpoint is being written
	LogBytes           int           // write-ahead log bytes not yet covered by a checkpoint (what the next Open replays)
	LogRecords         uint64        // write-ahead log records not yet covered by a checkpoint

	// IngestLag is how long the last group of Adds waited, from the
	// moment its first batch joined the group commit queue to the moment
	// it was durable in the log and applied: the group ahead of it, the
	// back-pressure of a late checkpoint, the store's write. It is what
	// an Add spends in the engine past validation, so it grows when
	// ingest falls behind. It is not the age of the events, which a
	// backfill makes as old as it likes.
	IngestLag time.Duration

	// Refreshed is, on a follower (Options.Follow), when its last
	// successful refresh began: it answers with every event its writer
	// had acknowledged by then. Zero if none since Open (it answers with
	// what Open found). RefreshFailures counts the background refreshes
	// that failed (each logged, and retried at the next tick).
	Refreshed       time.Time
	RefreshFailures uint64

	Queries     uint64        // calls of Query and Users since Open, failed ones included
	QueryTime   time.Duration // their summed duration: QueryTime/Queries is the mean latency
	SlowQueries uint64        // those that took longer than Options.SlowQuery
}

// Stats returns a snapshot of the engine's state and activity. Cost: it
// takes the log's lock and then the engine's read lock, one after the
// other, so it may wait for a batch being written, a checkpoint sealing
// its days or a follower's refresh; and it counts the days with a segment, O(days). Safe for
// concurrent use, also after Close (which empties the engine).
func (e *Engine) Stats() Stats {
	o := e.obs
	s := Stats{
		Events: o.events.Load(), Duplicates: o.duplicates.Load(),
		Recovery:           e.Recovery(),
		Memory:             e.Memory(),
		Checkpoints:        o.checkpoints.Load(),
		CheckpointFailures: o.checkpointFailures.Load(),
		CheckpointDuration: time.Duration(o.checkpointTime.Load()),
		IngestLag:          time.Duration(o.ingestLag.Load()),
		Queries:            o.queries.Load(),
		QueryTime:          time.Duration(o.queryTime.Load()),
		SlowQueries:        o.slowQueries.Load(),
	}
	if at := o.refreshed.Load(); at >= 0 {
		s.Refreshed = o.opened.Add(time.Duration(at))
	}
	s.RefreshFailures = o.refreshFailures.Load()
	since := time.Since(o.opened)
	s.CheckpointAge = since
	if at := o.lastCheckpoint.Load(); at >= 0 {
		s.LastCheckpoint = o.opened.Add(time.Duration(at))
		s.CheckpointAge = since - time.Duration(at)
	}
	e.walMu.Lock()
	s.LogBytes, s.LogRecords, s.CheckpointRunning = e.walBytes, e.walSeq-e.walFrom, e.ckRunning
	e.walMu.Unlock()
	e.mu.RLock()
	defer e.mu.RUnlock()
	s.Users, s.Days = e.liveUsers(), len(e.days)
	for _, ds := range e.days {
		if ds.segKey != "" {
			s.DaysStored++
		}
	}
	return s
}

// observeQuery counts a call of Query or Users that began at start, and
// logs q if it was slow. No lock is held.
func (e *Engine) observeQuery(q Query, start time.Time) {
	o := e.obs
	d := time.Since(start)
	o.queries.Add(1)
	o.queryTime.Add(int64(d))
	if d > o.slowQuery {
		o.slowQueries.Add(1)
		if o.log != nil {
			b, _ := json.Marshal(q) // a Query always marshals
			o.log.LogAttrs(context.Background(), slog.LevelWarn, "insights: slow query",
				slog.Duration("duration", d), slog.Any("query", json.RawMessage(b)))
		}
	}
	e.logEvictions()
}

// evicting counts, for the log, a day of n bytes evicted from memory. The
// days' lock is held.
func (o *observer) evicting(n int64) {
	if o.log != nil {
		o.evicted.Add(1)
		o.evictedBytes.Add(n)
	}
}

// logEvictions logs, at Debug level, the evictions counted since it last
// did. No lock is held.
func (e *Engine) logEvictions() {
	o := e.obs
	if o.log == nil || o.evicted.Load() == 0 {
		return
	}
	n, b := o.evicted.Swap(0), o.evictedBytes.Swap(0)
	o.log.LogAttrs(context.Background(), slog.LevelDebug, "insights: days evicted from memory",
		slog.Uint64("days", n), slog.Int64("bytes", b), slog.Int64("limit", e.memoryLimit))
}

// newlyCapped returns the indexed dimensions whose dictionary reached its
// cap since the last call, as a bit per dimension (bit k for Dimension
// k+1), when there is a logger to tell. The write lock is held.
func (e *Engine) newlyCapped() uint64 {
	if e.obs.log == nil {
		return 0
	}
	var capped uint64
	for k, d := range e.dims {
		if d.overflowed {
			capped |= 1 << k
		}
	}
	capped &^= e.obs.capsLogged
	e.obs.capsLogged |= capped
	return capped
}

// logCaps logs, at Warn level, each dimension of capped (newlyCapped). No
// lock is held.
func (e *Engine) logCaps(capped uint64) {
	for k := range numIndexed {
		if capped&(1<<k) != 0 {
			e.obs.log.LogAttrs(context.Background(), slog.LevelWarn, "insights: dimension reached its cap; new values count as "+OtherGroup,
				slog.String("dimension", Dimension(k+1).String()), slog.Int("cap", e.dims[k].limit))
		}
	}
}

// logRecovery logs what Open recovered, and the dimensions found capped.
// It runs at the end of Open, before the engine is shared.
func (e *Engine) logRecovery() {
	o := e.obs
	if o.log == nil {
		return
	}
	r := e.recovery
	ctx := context.Background()
	o.log.LogAttrs(ctx, slog.LevelInfo, "insights: opened",
		slog.Uint64("checkpoint", r.Checkpoint), slog.Int("days", r.Days), slog.Int("logRecords", r.LogRecords),
		slog.Int("logEvents", r.LogEvents), slog.Int("removedFiles", r.RemovedFiles), slog.Duration("duration", time.Since(o.opened)))
	if r.TornTail != "" {
		o.log.LogAttrs(ctx, slog.LevelWarn, "insights: dropped a torn last log record, never acknowledged", slog.String("key", r.TornTail))
	}
	e.logCaps(e.newlyCapped())
}

// checkpointDone counts checkpoint gen, which wrote days and began at
// start, and logs it: Info when committed, Error when it failed. ckMu is
// held; walMu and mu are not.
func (e *Engine) checkpointDone(gen uint64, days int, start time.Time, err error) {
	o := e.obs
	d := time.Since(start)
	if err != nil {
		o.checkpointFailures.Add(1)
	} else {
		o.checkpoints.Add(1)
		o.checkpointTime.Store(int64(d))
		o.lastCheckpoint.Store(int64(time.Since(o.opened)))
	}
	if o.log != nil {
		ctx := context.Background()
		if err != nil {
			o.log.LogAttrs(ctx, slog.LevelError, "insights: checkpoint failed",
				slog.Uint64("generation", gen), slog.Duration("duration", d), slog.String("error", err.Error()))
		} else {
			o.log.LogAttrs(ctx, slog.LevelInfo, "insights: checkpoint",
				slog.Uint64("generation", gen), slog.Int("days", days), slog.Duration("duration", d))
		}
	}
	e.logEvictions()
}
