// Package insights answers "who uses our sign-in, how, and how is it
// going" for a Go identity server or SaaS backend, in process: daily and
// monthly active users, new, returning and inactive users, authentications
// and their failures, MFA challenges and security signals, the sign-in log,
// and authentication-methods registration and reset activity, exact and
// real-time.
//
// Open an Engine on a store, Add events as they happen, and Query metrics:
//
//	eng, _ := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris"})
//	eng.Add(ctx, insights.Event{Time: t, Kind: insights.KindSignIn, UserKey: "u1", AppID: "portal"})
//	res, _ := eng.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: from, To: to})
//
// The definitions are those of the project's SPEC §4, §5, §7 and §8; the
// choices made where it is silent are listed under Caveats.
//
// # Data path
//
// An event is validated (events.go), logged (durability.go), its dimension
// values mapped to dense codes (dict.go) and its user key to a dense user
// id (insights.go; what consecutive events of a batch share is looked up
// once: applybatch.go), and it is added to the open index of its day
// (day.go, internal/dayindex): the distinct combinations of dimension
// values seen that day, with event counts and user sets. A query seals the
// changed days it reads into immutable indexes shared without copying,
// plans its filter on each day's combinations (plan.go,
// internal/dayindex), combines the matching user sets per bucket
// (eval.go) and hands them to the formulas of package metrics.
//
// A sealed day keeps its combinations sorted by kind, status, sign-in
// type, app, OS and country (day.go), so each of their values is a few
// dense runs of combinations, and what a filter on them selects, with its
// users, sits together in memory. The combinations of the base predicates
// (activity, signing in, created) are computed once per sealed day and
// kept. A filter's And starts from its most selective leaf. Ungrouped user
// counts over several days set bits of one dense per-query set (a bit per
// user) instead of unioning a bitmap per day (userlists.go). A query
// evaluates the days of its range on up to Options.QueryParallelism
// goroutines (parallel.go); everything they read is immutable.
//
// # Event log
//
// Every applied event is also appended to its day's event log
// (eventlog.go): its time, user, the combination holding its indexed
// values, and a record of its log fields (internal/logrecord). Log, SignIns,
// UserSignIns, MethodActivity and Entries list it newest first (log.go):
// the filter's index-only parts are planned on the day's combinations and
// mapped to entries; log fields read per-day indexes built on first use:
// entries by user, by value (IP, city, state, principal), and by a 64-bit
// hash of the value for request and correlation ids, confirmed against
// the record. A metric whose
// filter names a log field runs on each day restricted to the matching
// events, rebuilt from the log per query (slower than the index; the
// result warns). MFAPolicyPrompts and ConditionalAccessPolicies read the
// policies of the matching entries' records. A stored day keeps its log
// compressed in its segment and decompresses it on the first listing.
//
// Registration state (registration.go) follows successful registration
// events and imported snapshots; RegistrationDetails and SummarizeMethods
// evaluate it under a MethodPolicy the caller passes.
//
// Risk detections (SPEC §9; risk.go) are computed by package
// internal/risk on a goroutine of the engine, to which Add queues each
// applied event (riskfeed.go, riskstate.go); it rebuilds them from the
// event log, holding no write lock, when the first risk read after Open
// starts it, after an erasure, retention dropping days or an event older
// than RiskOptions.LateHorizon behind the latest, and risk reads wait for
// it to have folded every event applied before them. Detections, RiskyUsers, the
// RiskDetections and RiskyUsers metrics (riskmetrics.go) and the computed
// risk of log entries read them.
//
// # Concurrency
//
// An Engine is safe for concurrent use. Add holds the engine's write lock
// while it applies a batch, having read what the batch needs from the
// store (the segments of its days not in memory) before; Query and Users hold the read lock while they
// compute, so every answer is one consistent snapshot. One query may use
// up to Options.QueryParallelism goroutines, all within the call. A long
// query delays writers until it ends, and, since a waiting writer holds
// back new readers, the queries that start meanwhile too. Results are
// values the caller owns.
//
// # Caveats
//
//   - Activity is a successful interactive or non-interactive user sign-in,
//     or a successful sign-up. Only successful user-created and user-deleted
//     events create or delete a user. Signing-in users count every user
//     sign-in, failures included: in SPEC §4's worked example u3 is a
//     signing-in user on Monday, though no other user metric counts u3. Deleted users' activities and sign-ins after
//     the day of deletion are ignored by every user metric, signing-in users
//     included. A user key once deleted stays deleted.
//   - As-of metrics (rolling, inactive, never-active, total, stickiness) are
//     evaluated on the last day of each bucket, clipped to the range.
//   - Never-active users have no activity at all (unfiltered) up to the day;
//     the filter applies to their user-created event.
//   - "In the bucket" means the bucket clipped to the range: new users of a
//     partial first week are those whose first activity is in the part of
//     the week inside the range; calendar-bucket inactivity (Days == 0) looks
//     for activity before the clipped bucket and none in it.
//   - Lifecycle compares each bucket with the full calendar bucket before it,
//     even when the first bucket is partial; with Total granularity, with the
//     same number of days before From. Retention cohorts and their later
//     activity both use the query's filter and group; Row.Start is the
//     cohort's bucket.
//   - Sign-in failure reasons are the sign-in set (incomplete, denied, ...):
//     code 500121 is "denied" on the sign-in, and its MFA result (DimMFAResult)
//     is mfaDenied or mfaIncomplete by the failed step's result detail. MFA
//     events carry MFA reasons. A failure with no reason and an unknown or
//     zero code is "other".
//   - Top N ranks the groups of a bucket by the value of the metric's first
//     series (ties by group values) and keeps every series of those groups.
//   - A writer's Open does not read the catalog's user keys and per-user
//     days, a frame of their own (userload.go): an idle engine, or one answering only aggregate
//     queries (activeUsers, rollingActiveUsers, inactiveUsers, the series
//     and policy metrics), keeps only the deleted users' days. The first
//     Add, log replay, Erase, checkpoint or user-level query (the other user
//     metrics, Users, User, the event log, display names, registration
//     details, risk reads) reads that frame and decodes them, under
//     the lock that operation holds: at a million users it costs about what
//     Open used to (bench/RESULTS.md), and it may fail with the store's
//     error or ErrCorrupt.
//   - Approximate mode answers ActiveUsers and RollingActiveUsers without
//     filter or group-by from HyperLogLog sketches (per day, ISO week and
//     month, updated at ingest), whose registers a query merges and
//     estimates with Ertl's improved raw estimator (hllestimate.go) rather
//     than the library's Merge and Estimate (BenchmarkRegistersEstimate
//     measures both); the two estimates agree within the sketch's error.
//     Any other query is answered exactly and says so in a warning.
//     Sketches cannot forget: a deletion reported after the activities it
//     voids does not remove them from approximate counts.
//   - The event log keeps every kind of event, not only sign-ins: SignIns
//     and MethodActivity narrow it. Entries are ordered by time, then by the
//     order applied, both descending; an entry's ID ("date/sequence") and
//     cursor stay valid for good. Erased users' entries are hidden and their
//     records emptied; their indexed values still count as events, but
//     not under MFAPolicyPrompts and ConditionalAccessPolicies, which read
//     the policies from the records.
//   - A day's log indexes (entries by user, by IP, city or state value, by
//     request or correlation id hash) are built when a listing or a
//     log-field filter first needs them and kept with that version of the
//     day: memory grows with the log fields queried, up to about the log's
//     own size per day read. A checkpoint replaces the versions it writes,
//     which frees them.
//   - IP addresses are stored in netip's canonical spelling, so Eq on DimIP
//     matches however the address is written; Prefix on DimIP is refused
//     (use CIDR). Times in the log are in the store's zone.
//   - MFA-protected sign-ins count successful sign-ins of every sign-in
//     type by requirement; passwordless ones by primary method, the first
//     step that is not a multi-factor one when the host gives none (see
//     PasswordlessMethods). MFA prompts by policy count MFA challenges, a
//     challenge required by two policies under both, and challenges without
//     a recorded policy under "". Sign-ins without applied CA policies are
//     not rows of ConditionalAccessPolicies.
//   - Registration state is the current one: for each user and method the
//     successful registration event latest in time decides (a tie goes to
//     the one applied last); failed events do not change it. An imported
//     snapshot adds registrations as of its time and removes nothing.
//     Users without a registered method are not rows of the registration
//     details list, so "enabled" counts only users with a method.
//     Passwordless is enabled for every user. Registration counts exclude
//     snapshots. Windows of registration and reset activity are calendar
//     days in the store's zone, like every range.
//   - A sealed day builds, on first use and for good, the postings of each
//     dimension a query filters or groups on (value → combinations), and
//     for unfiltered activity grouped by one dimension the active users of
//     each value: memory grows with the dimensions queried, up to about the
//     size of the day's index again.
//   - Filtered user metrics without group-by over more than two days
//     (active or signing-in users under a filter the index answers) keep,
//     per filter and sealed day, the matching users and unions over
//     blocks of up to 32 days, so a filter asked again (a dashboard's)
//     costs a union of two kept sets. They are named by Filter.String: a
//     filter written two ways keeps two copies. A day keeps those of at
//     most 8 filters, a filter asked of active and of signing-in users
//     counting twice; a ninth drops the others'. They count in
//     Options.MemoryLimit and go with their day.
//   - A day not in memory whose segment is of format v3, on a store that
//     reads ranges (store.RangeGetter), answers unfiltered activity (active
//     users, MAU, as-of metrics' activity) from its active set alone, read
//     from the segment and kept on the day, counted in
//     Options.MemoryLimit, until the day's index loads or is evicted;
//     such a query reads the active sets of its days ahead, on up to
//     QueryParallelism goroutines. A query that needs more reads the
//     day's index without its event log, and of it decodes, on first
//     need, only the code columns its filter, group-by and metric name
//     with the event counts and users (daysections.go): a column another
//     query names later is read then, and a damaged section fails only
//     the queries that read it; its days' indexes and sections are read
//     ahead on up to QueryParallelism goroutines (prefetch.go). Other
//     stores, and older segments, are read whole (segrange.go).
//   - Event counts keep an erased user's events: Erase removes the person
//     from every user set, list and file, not from aggregate counts.
//   - Risk detections are a function of the event log, not stored: the
//     first risk read after Open (Detections, RiskyUsers, a risk metric, a
//     log listing, which shows computed risk) waits while the detector's
//     goroutine reads every stored day's log once; Adds and queries go on
//     meanwhile (riskstate.go). Erased users' events are left out of
//     them, as if they had never happened, which may change detections of
//     other users or of none (a spray counting the user). Retention leaves
//     the detections of the retained log. The anonymized and malicious
//     lists are not stored: a rebuild checks every event against the lists
//     in force. A detection is matched by a metric's filter, and grouped,
//     through the event that fired it; LogQuery.ComputedRisk filters the
//     log on computed risk, metric filters cannot.
//   - SetUserRiskState records a KindRiskDecision event (RiskState
//     dismissed or confirmedCompromised): it is logged, listed and erased
//     like any event, counts under Requests, and is no activity. A user's
//     risk state as of a time: the latest decision before it decides first
//     (confirmedCompromised, level high, until a later decision; after a
//     dismissal only later detections count); then unremediated detections
//     of the last RiskOptions.RiskyUserWindow make the user atRisk at
//     their highest level; a detection is remediated by the user's first
//     later successful sign-in with an approved MFA challenge, or
//     successful password reset.
//
// # Durability
//
// Add returns once its batch is in the store's write-ahead log; concurrent
// Adds share one store write (group commit). Every Options.CheckpointBytes
// of log, and on Flush, Close and Erase, the changed days are written as
// new segment versions with a catalog and a manifest that commits them,
// and the log they cover is deleted. The automatic checkpoint runs on a
// goroutine of its own: Adds and queries go on while it seals and writes
// the days, and wait for it only when the log it has not covered passes
// four times CheckpointBytes; Flush, Close and Erase wait for it, then
// write theirs. It holds the engine's locks only briefly: to freeze the
// changed days' builders and snapshot the catalog (the per-user days
// copied, encoded without the locks: catalog.go; the first after Open
// decodes the catalog's users there: userload.go), to swap each day's
// sealed index in (with the last 1,024 events kept aside at most: the
// others are added back holding no lock), and to commit. An Add to a day it has frozen is
// deduplicated against the frozen builder and kept aside until the swap;
// a query of such a day seals it first (a day is sealed once, by whichever
// comes first). An Add to a day not in memory, or beyond the dedupe
// horizon, reads the day's segment and request ids holding no lock,
// before it applies its batch. Open replays the log written after
// the last checkpoint; day segments load lazily, when a query or a late
// event first needs their day, so reopening a long history is cheap. The
// catalog is read at Open; its sketches are decoded at the first
// approximate query, and a writer reads and decodes its users frame (user
// keys and per-user days) at the first operation that needs them
// (userload.go). store/FORMAT.md describes the files and the protocols.
//
// Recovery never guesses: a store whose manifest or metadata is missing
// beside other files, whose log has a gap, or whose files fail their checks
// is refused with ErrCorrupt naming the file, and Open then deletes
// nothing. Only a Store that declares its Puts can tear (store.Tearing) has
// a damaged last log record taken for an unacknowledged torn write, dropped
// and reported in Recovery. Options.ReadOnly opens a store that the
// process must not or cannot write (a backup, a read-only mount).
//
// # Followers
//
// An engine opened with Options.Follow follows a store that one other
// engine, the writer, writes: another process on the same directory (a
// store.Dir opened with DirOptions.Follow, which takes no lock, so the
// writer keeps its exclusive one) or on the same PostgreSQL schema
// (pgstore). It writes nothing, refuses Add, Flush and Erase like a
// read-only engine, and keeps up by itself every Options.RefreshInterval,
// or when the host calls Refresh (follow.go): it applies the log records
// the writer appended since, in sequence order and never past a missing
// one, each under the write lock like an Add; when the writer has
// committed a checkpoint, it builds the state of the new manifest aside
// (reading its catalog and users whole and the log after it, keeping the sealed
// days the checkpoint did not rewrite) and swaps it in. Queries in flight
// finish on the old state; every answer comes from one state. A file
// the writer's garbage collection deleted before the follower read it
// (a segment of a day it had not loaded or had evicted, a day's log, a
// log record, a catalog or its users) makes it move to the newer checkpoint and retry,
// never ErrCorrupt; a file that the store's manifest names and that is
// missing is corruption, as at Open.
//
// Staleness: an answer holds every event the writer acknowledged before
// the follower's last successful refresh began (Stats.Refreshed), so up to
// RefreshInterval plus a refresh's time behind. While the writer is down
// a follower answers with everything it acknowledged; it picks up the
// writer's next Open (which may delete leftovers under it) as a newer
// checkpoint or more log. Erasure and retention reach a follower with the
// checkpoint that commits them (an erasure on a replica, with its erase
// record in the log, before). A refresh costs, with nothing new, a read
// of the manifest and a listing of the log (on PostgreSQL two round
// trips); with new records, a read and an apply of each; after a
// checkpoint, about what Open costs, while queries go on.
//
// # Replicas
//
// Engines opened with Options.Replica, in several processes behind a load
// balancer, all write one tenant on a store that implements
// store.Replicas (pgstore on one PostgreSQL schema; not the directory
// store). Each is a follower that may Add (replica.go): an Add is
// acknowledged when its log record is created under a sequence no other
// replica holds, after the replica applied every record before it, so
// every replica applies the same records in the same order: a request id
// sent to two replicas counts once, in AddCount too, where its first copy
// in the log is. Every replica answers with the others' acknowledged
// events after its next refresh (RefreshInterval, or Refresh), and its
// own as soon as Add returns. One replica at a time, the holder of the
// store's lease, writes checkpoints and deletes the log they cover; the
// others load each checkpoint as followers do, and replay their own
// records past it from the log. A replica that dies holding the lease
// (or stalls past LeaseTTL) loses it to the next replica that
// checkpoints; its half-written files are deleted then. Close releases
// it. A replica that
// starts or restarts opens as a follower does. Erase on a replica
// appends an erase record to the log, which every replica applies in
// log order, and returns once a checkpoint covers it and the files it
// replaced are deleted (Engine.Erase). Cost over one writer: a
// group whose sequence another replica took first waits for a refresh
// and tries again; a checkpoint adds the lease's round trip and a
// listing of the store's keys.
//
// # Observability
//
// The engine prints nothing. It logs through Options.Logger, when the host
// gives one: recovery, checkpoints (and their failures, which a background
// checkpoint has no caller to return), evictions, dimensions reaching
// their cap, queries slower than Options.SlowQuery (observe.go). Stats
// reports its state and its counters since Open (events, users, days in
// memory and stored, memory, checkpoints, write-ahead log, ingest lag,
// queries); its durations are the machine's, not Options.Now's. The module
// github.com/insightslab/insights/prometheus exports Stats and a few
// aggregates to Prometheus.
package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/insightslab/insights/internal/risk"
	"github.com/insightslab/insights/metrics"
	"github.com/insightslab/insights/store"
)

// Options configures Open. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// Zone is the IANA zone whose calendar dates are the store's days.
	// Default "UTC". It is fixed when the store is created: opening a store
	// with another zone is an error.
	Zone string
	// Now is the only clock: validation, incomplete buckets. Default time.Now.
	Now func() time.Time
	// MaxDimensionValues caps each dimension's dictionary; later new values
	// count as "(other)" and results warn. Default 100,000.
	MaxDimensionValues int
	// HLLPrecision is the precision of approximate-mode sketches, 4 to 18;
	// the relative standard error is 1.04/sqrt(2^p). Default 14 (0.81%).
	// Fixed when the store is created, like Zone.
	HLLPrecision uint8
	// CheckpointBytes is how much log the engine writes before it seals the
	// changed days into segments, writes the catalog and drops the log:
	// more means fewer, larger checkpoints and a longer replay at Open.
	// Default 64 MiB.
	CheckpointBytes int
	// RetentionDays drops, at each checkpoint, the days older than this
	// many days before the clock's date; per-user first activity and
	// deletion days stay, so new and total users stay right. Queries
	// reaching before the horizon warn. Default 0: keep every day.
	RetentionDays int
	// QueryParallelism is how many goroutines one query may evaluate days
	// on, the caller's included. Default 0: runtime.GOMAXPROCS(0) at Open;
	// 1 answers on the caller's goroutine alone.
	QueryParallelism int
	// MemoryLimit bounds the bytes of sealed day indexes (with their event
	// logs and derived sets), and of active sets read alone from segments,
	// that the engine keeps in memory; days beyond
	// it, least recently used first, are dropped and read again from their
	// segments when needed. Days still being written, or not yet written
	// by a checkpoint, stay whatever the limit. Results never depend on
	// it. Default 0: DefaultMemoryLimit (512 MiB); math.MaxInt64 keeps
	// every day.
	MemoryLimit int64
	// Logger receives the engine's log (observe.go): what Open recovered
	// (Info; a dropped torn log record, Warn), each checkpoint (Info;
	// Error when one fails), days evicted from memory (Debug, in batches),
	// a dimension reaching MaxDimensionValues (Warn, once per dimension
	// and Open), slow queries (Warn, with the query as JSON) and rebuilds
	// of the risk detections from the event log (Info). It is
	// called from Add, Query and checkpoint goroutines, never with the
	// engine's lock on days and users held. Default nil: nothing is
	// logged, and nothing is printed anywhere.
	Logger *slog.Logger
	// SlowQuery is the duration beyond which a call of Query or Users is
	// counted in Stats.SlowQueries and logged. Default 0: DefaultSlowQuery
	// (1 s).
	SlowQuery time.Duration
	// ReadOnly opens the store for queries only: Open writes and deletes
	// nothing (no metadata for a new store, no leftovers removed, no
	// checkpoint at Close), and Add, Flush and Erase return an error
	// wrapping ErrReadOnly. Pair it with a Store that cannot write either,
	// such as store.Dir with DirOptions.ReadOnly. An empty store opens as
	// an empty engine in Zone.
	ReadOnly bool
	// Follow opens the engine as a follower of a store that one other
	// engine writes, for a host that only serves dashboards: another
	// process on the same directory (open it with store.DirOptions.Follow,
	// which takes no lock) or on the same PostgreSQL schema. It implies
	// ReadOnly, and keeps up with the writer by itself, every
	// RefreshInterval, or when Refresh is called (follow.go): new log
	// records as they appear, a new checkpoint by loading it. Its answers
	// lag the writer's by up to RefreshInterval plus the refresh's own
	// time; while the writer is down it answers with everything the
	// writer acknowledged before it stopped. Erasure and retention reach
	// it with the writer's checkpoint that commits them.
	Follow bool
	// RefreshInterval is how often a follower refreshes on a goroutine of
	// its own, until Close. Default 0: DefaultRefreshInterval (500 ms);
	// negative: never, the host calls Refresh. Ignored without Follow.
	RefreshInterval time.Duration
	// Replica opens the engine as one of several replicas that all write
	// the tenant, on a store that implements store.Replicas (pgstore):
	// each may Add, keeps up with the others' records as a follower does
	// (every RefreshInterval, or on Refresh), and writes checkpoints only
	// while it holds the store's lease (replica.go). Every engine that
	// writes the store must then be a replica (followers may read it too).
	// Not with Follow or ReadOnly.
	Replica bool
	// LeaseTTL is how long a replica's checkpoint lease lasts past its
	// last renewal: another replica takes it over that long after its
	// holder died or stalled. Default 0: DefaultLeaseTTL (10 s). Ignored
	// without Replica.
	LeaseTTL time.Duration
	// Risk tunes the risk detections of SPEC §9 (risk.go).
	Risk RiskOptions
}

// Engine indexes one tenant's events and answers queries. Create it with
// Open; it is safe for concurrent use (see the package doc).
type Engine struct {
	loc       *time.Location
	now       func() time.Time
	precision uint8
	store     store.Store
	loads     segmentLoads // segment reads, for tests

	checkpointBytes int
	retentionDays   int
	parallelism     int // goroutines per query
	maxDimValues    int
	memoryLimit     int64
	readOnly        bool
	follow          bool           // Options.Follow or Options.Replica (follow.go)
	replica         store.Replicas // the store, on a replica (replica.go); nil otherwise
	holder          string         // a replica's name for the lease
	leaseTTL        time.Duration
	stopPoll        chan struct{} // closed by Close to stop a follower's polling; nil if none
	pollDone        chan struct{} // closed when the polling has stopped
	zenc            encoders      // compress segments (logsegment.go); safe for concurrent use
	zdec            *zstd.Decoder // and decompresses them

	// Guarded by mu.
	mu     sync.RWMutex
	closed bool
	state                       // what the store holds and the log since: a follower swaps it whole (follow.go)
	absent map[int32]*absentDay // days that Adds between preload and apply did not find (memory.go)

	risk riskState // risk detections (riskstate.go); its feed has its own locks (riskfeed.go). A follower's swap resets it (follow.go)

	obs *observer // the logger and the counters of Stats; atomics, but capsLogged (observe.go)

	sealMu sync.Mutex // held by queries while they seal or load a day under the read lock

	// Guarded by walMu, held while a log group is written and applied, and
	// while a checkpoint freezes its days and while it commits, so the log's
	// order is the order of application.
	walMu      sync.Mutex
	walSeq     uint64        // sequence of the next log record
	walFrom    uint64        // first sequence the last checkpoint does not cover
	walBytes   int           // log written since the last checkpoint
	ckRunning  bool          // a background checkpoint is under way
	ckDone     chan struct{} // closed when it ends
	leaseRetry time.Time     // a replica starts no background checkpoint before, the lease being held by another
	eraseUpTo  uint64        // a replica checkpoints until walFrom reaches it: the sequence after the last erase record applied
	garbage    bool          // a replica's committed checkpoint left files it replaced: it checkpoints again to collect them
	unsettled  []byte        // a log record whose Put and read-back failed: it may be stored under walSeq (settle)
	recovery   Recovery

	// ckMu is held by a checkpoint from start to end, and by Flush, Close
	// and Erase around theirs: checkpoints never overlap. It is taken
	// before walMu, which is taken before mu.
	ckMu   sync.Mutex
	strays []string // files of failed checkpoints that a committed manifest may name, removed by the next commit

	// Guarded by cmu: the group commit queue.
	cmu     sync.Mutex
	pending *commitGroup
	writing bool
}

// state is an engine's tenant: users, dictionaries, days, sketches and
// the generation they come from. It is guarded by Engine.mu (the residents
// list by mu, or its read lock with sealMu). A follower builds a new one
// when the writer commits a checkpoint and swaps it in (follow.go).
type state struct {
	keys      map[string]uint32 // user key → user id
	undecoded *pendingUsers     // the catalog's user section, until decoded (userload.go); nil if none
	userKeys  []string          // user id → key; "" once erased
	dims      [numIndexed]*dict
	days      map[int32]*dayState
	first     []int32                        // user id → first activity day, metrics.NoDay if none
	firstOn   map[int32]*roaring.Bitmap      // day → the users whose first activity it is (first, inverted)
	last      []int32                        // user id → last activity day, metrics.NoDay if none
	joined    []int32                        // user id → first day with an activity or a successful creation
	deleted   []int32                        // user id → deletion day, metrics.NoDay if none
	deletedU  *roaring.Bitmap                // users with a deletion day
	regs      map[uint32]map[uint32]regState // user id → method code → registration state (registration.go)
	sketches  sketches
	horizon   int32     // retention dropped the days before it
	gen       uint64    // generation of the last checkpoint
	catalog   string    // key of the catalog of the last checkpoint
	residents residents // the sealed days in memory, evicted past the memory limit (memory.go)
}

// dayState holds one day's index: its sealed form (nil until loaded from
// segKey, or sealed), and while it changes, its builder.
type dayState struct {
	residence // its place among the days in memory (memory.go)
	sealed    *day
	open      *dayBuilder
	sealing   *sealJob // open, frozen while a checkpoint seals it (sealing.go)
	dirty     bool     // open has changes that sealed lacks
	version   uint64   // counts changes, so a checkpoint knows whether the day changed while it wrote
	saved     bool     // sealed is what segKey holds
	segKey    string   // store key of the day's segment, "" if never written
	// segFullIDs: segKey holds every request id of the day, as known from
	// writing or reading it (requestids.go)
	segFullIDs bool
	logOff     int // offset of the log section in segKey, when this engine wrote it
	// activeOnly, while sealed is nil, is the day's active set as read
	// alone from segKey (storedActive): set only while the day has no
	// change nor sealed index, and dropped when it loads (loadInto, ready)
	// or is evicted, so before segKey can change (a checkpoint writes only
	// days whose sealed index is in memory, unsaved: not evictable).
	activeOnly *roaring.Bitmap
	// wholeKey is segKey once a read found it of format v1 or v2: it is
	// read whole, not by ranges (segrange.go), whose first read would
	// find no section checksums again after every eviction.
	wholeKey string
}

// meta is what the store records about itself.
type meta struct {
	Version      int    `json:"version"`
	Zone         string `json:"zone"`
	HLLPrecision uint8  `json:"hllPrecision"`
}

const metaKey = "meta.json"

// Open returns an Engine on s, recovering what the store holds: the last
// checkpoint's catalog, its day segments (loaded lazily, when a query or a
// late event needs them), and the log written since, replayed in order;
// Recovery reports it. A new store records the zone and precision of opts;
// an existing one must be opened with the same (or zero) values. Options
// errors wrap ErrInvalidQuery; damaged files wrap ErrCorrupt and name the key.
// One store must have one Engine at a time.
func Open(ctx context.Context, s store.Store, opts *Options) (*Engine, error) {
	opened := time.Now()
	var o Options
	if opts != nil {
		o = *opts
	}
	if s == nil {
		return nil, fmt.Errorf("%w: Open: store is nil", ErrInvalidQuery)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	rs, ok := s.(store.Replicas)
	if o.Replica && !ok {
		return nil, fmt.Errorf("%w: Options.Replica: the store does not implement store.Replicas", ErrInvalidQuery)
	}
	o.ReadOnly = o.ReadOnly || o.Follow
	m, err := openMeta(ctx, s, o)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(m.Zone)
	if err != nil {
		return nil, fmt.Errorf("%w: Options: Zone %q: %v", ErrInvalidQuery, m.Zone, err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxDimensionValues == 0 {
		o.MaxDimensionValues = 100_000
	}
	if o.CheckpointBytes == 0 {
		o.CheckpointBytes = 64 << 20
	}
	if o.QueryParallelism == 0 {
		o.QueryParallelism = runtime.GOMAXPROCS(0)
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.SlowQuery == 0 {
		o.SlowQuery = DefaultSlowQuery
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	e := &Engine{
		loc: loc, now: o.Now, precision: m.HLLPrecision, store: s,
		checkpointBytes: o.CheckpointBytes, retentionDays: o.RetentionDays, parallelism: o.QueryParallelism,
		maxDimValues: o.MaxDimensionValues, memoryLimit: o.MemoryLimit, readOnly: o.ReadOnly, follow: o.Follow || o.Replica,
		leaseTTL: o.LeaseTTL, risk: newRiskState(o.Risk),
		obs: &observer{log: o.Logger, slowQuery: o.SlowQuery, opened: opened},
	}
	e.obs.lastCheckpoint.Store(-1)
	e.obs.refreshed.Store(-1)
	if o.Replica {
		if e.holder, err = newHolder(); err != nil {
			return nil, err
		}
		e.replica = rs
	}
	e.zenc, e.zdec = newCodec()
	e.state = e.newState()
	err = e.recover(ctx)
	for e.follow && errors.Is(err, errStale) && ctx.Err() == nil {
		e.state, e.walBytes = e.newState(), 0 // the writer committed a checkpoint meanwhile: start again from it
		err = e.recover(ctx)
	}
	if err != nil {
		return nil, err
	}
	e.logRecovery()
	if e.follow && o.RefreshInterval > 0 {
		e.stopPoll, e.pollDone = make(chan struct{}), make(chan struct{})
		go e.poll(o.RefreshInterval, e.stopPoll, e.pollDone)
	}
	return e, nil
}

// newState returns an empty tenant with the engine's settings.
func (e *Engine) newState() state {
	st := state{
		keys: map[string]uint32{}, days: map[int32]*dayState{}, firstOn: map[int32]*roaring.Bitmap{},
		deletedU: roaring.New(), sketches: newSketches(e.precision), horizon: math.MinInt32,
		residents: residents{limit: e.memoryLimit},
	}
	for i := range st.dims {
		st.dims[i] = newDict(e.maxDimValues, seedsOf(Dimension(i+1)))
	}
	return st
}

// validate reports every bad field of o at once.
func (o *Options) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxDimensionValues", o.MaxDimensionValues}, {"CheckpointBytes", o.CheckpointBytes}, {"RetentionDays", o.RetentionDays},
		{"QueryParallelism", o.QueryParallelism}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%w: Options: %s is %d, must be >= 0", ErrInvalidQuery, f.name, f.v))
		}
	}
	if o.MemoryLimit < 0 {
		errs = append(errs, fmt.Errorf("%w: Options: MemoryLimit is %d, must be >= 0", ErrInvalidQuery, o.MemoryLimit))
	}
	if o.Replica && (o.Follow || o.ReadOnly) {
		errs = append(errs, fmt.Errorf("%w: Options: Replica writes; it goes with neither Follow nor ReadOnly", ErrInvalidQuery))
	}
	if o.LeaseTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: Options: LeaseTTL is %v, must be >= 0", ErrInvalidQuery, o.LeaseTTL))
	}
	if o.SlowQuery < 0 {
		errs = append(errs, fmt.Errorf("%w: Options: SlowQuery is %v, must be >= 0", ErrInvalidQuery, o.SlowQuery))
	}
	errs = append(errs, o.Risk.validate()...)
	if o.HLLPrecision != 0 && (o.HLLPrecision < 4 || o.HLLPrecision > 18) {
		errs = append(errs, fmt.Errorf("%w: Options: HLLPrecision is %d, must be 4-18", ErrInvalidQuery, o.HLLPrecision))
	}
	return errors.Join(errs...)
}

// openMeta reads the store's metadata, or writes it for a new store. A
// store that holds keys but no metadata is ErrCorrupt: its zone is not
// known, and inventing one would move every day.
func openMeta(ctx context.Context, s store.Store, o Options) (meta, error) {
	want := meta{Version: 2, Zone: o.Zone, HLLPrecision: o.HLLPrecision}
	b, err := s.Get(ctx, metaKey)
	if errors.Is(err, store.ErrNotFound) && o.Replica {
		// Another replica may have created the store since the Get.
		if keys, lerr := s.List(ctx, ""); lerr == nil && len(keys) > 0 {
			b, err = s.Get(ctx, metaKey)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		keys, err := s.List(ctx, "")
		if err != nil {
			return meta{}, err
		}
		if len(keys) > 0 {
			return meta{}, fmt.Errorf("%w: %s: missing, but the store holds %s: it is not an insights store, "+
				"or its %s was lost and its zone cannot be known", ErrCorrupt, metaKey, someKeys(keys), metaKey)
		}
		if want.Zone == "" {
			want.Zone = "UTC"
		}
		if want.HLLPrecision == 0 {
			want.HLLPrecision = 14
		}
		if _, err := time.LoadLocation(want.Zone); err != nil {
			return meta{}, fmt.Errorf("%w: Options: Zone %q: %v", ErrInvalidQuery, want.Zone, err)
		}
		if o.ReadOnly {
			return want, nil
		}
		b, _ := json.Marshal(want)
		return want, s.Put(ctx, metaKey, b)
	case err != nil:
		return meta{}, err
	}
	var got meta
	if err := json.Unmarshal(b, &got); err != nil || got.Version != 2 || got.Zone == "" ||
		got.HLLPrecision < 4 || got.HLLPrecision > 18 {
		return meta{}, fmt.Errorf("%w: %s: unreadable or unknown version", ErrCorrupt, metaKey)
	}
	if _, err := time.LoadLocation(got.Zone); err != nil {
		return meta{}, fmt.Errorf("%w: %s: zone %q: %v", ErrCorrupt, metaKey, got.Zone, err)
	}
	if want.Zone != "" && want.Zone != got.Zone {
		return meta{}, fmt.Errorf("%w: Options.Zone: the store's zone is %q; opened with %q",
			ErrInvalidQuery, got.Zone, want.Zone)
	}
	if want.HLLPrecision != 0 && want.HLLPrecision != got.HLLPrecision {
		return meta{}, fmt.Errorf("%w: Options.HLLPrecision: the store's precision is %d; opened with %d",
			ErrInvalidQuery, got.HLLPrecision, want.HLLPrecision)
	}
	return got, nil
}

// Now returns the engine's clock reading (Options.Now): the present that
// validation and incomplete buckets use.
func (e *Engine) Now() time.Time { return e.now() }

// Zone returns the store's zone.
func (e *Engine) Zone() *time.Location { return e.loc }

// Close writes a checkpoint (but on a read-only engine; on a replica, if
// it can take the lease, which it then releases) and releases the
// engine's memory. Later calls return ErrClosed. The store stays open: its owner closes it.
func (e *Engine) Close() error {
	e.ckMu.Lock()
	defer e.ckMu.Unlock()
	if e.isClosed() {
		return ErrClosed
	}
	if e.stopPoll != nil {
		close(e.stopPoll)
		<-e.pollDone
		e.stopPoll = nil
	}
	var err error
	if !e.readOnly {
		err = e.writeCheckpoint(context.Background())
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			err = nil // another replica checkpoints: the log holds this one's records
		case err == nil && e.replica != nil:
			err = e.releaseLease(context.Background())
		}
	}
	e.stopRisk()
	e.walMu.Lock()
	defer e.walMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.days, e.keys, e.userKeys, e.first, e.last, e.joined, e.deleted = nil, nil, nil, nil, nil, nil, nil
	e.zdec.Close()
	return err
}

func (e *Engine) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// Add validates every event of the batch, then logs and applies them all:
// a bad event rejects the whole batch with an error wrapping
// ErrInvalidEvent that names its index and field, and nothing is applied.
// Add returns once the batch is durable in the store's log; concurrent
// Adds share one store write (group commit). Events whose RequestID was
// seen before on the same day are skipped: the first copy wins. Data is
// queryable as soon as Add returns. If Add returns a store error, the batch
// was not applied, unless the engine read its log record back from the
// store (a write that failed after writing, such as an fsync error after
// the rename): then it is applied, as a follower that read it and a
// reopen would apply it, and the error says so. If the read-back failed
// too, the next write reads it back again first and applies it if it is
// there. Either way it may reappear after a crash and reopen: retrying is
// safe with request ids.
// Cost: O(len(events)) map and bitmap updates plus one store write, and for
// an event on a day already sealed, a copy of that day's index (late
// events are best sent in batches).
func (e *Engine) Add(ctx context.Context, events ...Event) error {
	_, err := e.AddCount(ctx, events...)
	return err
}

// AddCount is Add, and returns how many of the events were new: the
// others were skipped as copies, by RequestID, of an event seen before on
// the same day (earlier in the batch, or in an earlier Add), so an
// importer can report what a batch stored and what was already present.
// On an error it returns 0; the doc of Add applies.
func (e *Engine) AddCount(ctx context.Context, events ...Event) (added int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v := validator{loc: e.loc, now: e.now()}
	norm := make([]normEvent, len(events))
	for i := range events {
		n, err := v.normalize(&events[i])
		if err != nil {
			return 0, fmt.Errorf("event %d: %w", i, err)
		}
		n.added = &added // counted by apply, under e.mu, before commit returns
		norm[i] = n
	}
	if len(norm) == 0 {
		return 0, nil
	}
	encodeRecords(norm, events)
	if e.readOnly {
		return 0, fmt.Errorf("%w: Add", ErrReadOnly)
	}
	if err := e.risk.feed.waitRoom(ctx); err != nil {
		return 0, err // the detector is riskQueueCap observations behind (riskstate.go)
	}
	if err := e.preload(ctx, norm); err != nil && (e.replica == nil || !errors.Is(err, errStale)) {
		return 0, err // a replica pins the days again, caught up, before it logs the batch (appendRecord)
	}
	if err := e.commit(norm); err != nil {
		return 0, err
	}
	return added, nil
}

// apply adds one validated event, and reports whether it was new (not a
// copy skipped by request id); bc holds what the batch's events before it
// looked up (applyAll). The write lock is held.
func (e *Engine) apply(n *normEvent, bc *batchCache) bool {
	e.unpin(n)
	ds := bc.ds
	if ds == nil || bc.day != n.day {
		ds = e.openDay(n.day)
		bc.ds, bc.day = ds, n.day
	}
	if !ds.firstCopy(n.requestID) {
		return false
	}
	if n.added != nil {
		*n.added++
	}
	c := bc.combo(&e.dims, &n.vals)
	uid, hasUser := uint32(0), n.key != ""
	if hasUser {
		uid = bc.user(e, n.key)
	}
	kind := n.vals[DimKind-1]
	switch {
	case hasUser && kind == KindUserDeleted.String() && n.vals[DimStatus-1] == StatusSuccess.String():
		if n.day < e.deleted[uid] {
			e.markStaleSketches(uid, n.day)
			e.deleted[uid] = n.day
		}
		e.deletedU.Add(uid)
	case hasUser && kind == KindUserCreated.String() && n.vals[DimStatus-1] == StatusSuccess.String():
		e.joined[uid] = min(e.joined[uid], n.day)
	case n.activity:
		e.joined[uid] = min(e.joined[uid], n.day)
		if n.day < e.first[uid] {
			e.moveFirst(uid, e.first[uid], n.day)
			e.first[uid] = n.day
		}
		if e.last[uid] == metrics.NoDay || n.day > e.last[uid] {
			e.last[uid] = n.day
		}
		if n.day <= e.deleted[uid] {
			e.sketches.add(n.day, e.userKeys[uid])
		}
	}
	if hasUser && kind == KindRegistration.String() && n.vals[DimStatus-1] == StatusSuccess.String() && n.vals[DimMethod-1] != "" {
		e.applyRegistration(uid, c[DimMethod-1], n.time, n.vals[DimAction-1])
	}
	seq := ds.add(c, uid, hasUser, n.activity, n.time, n.rec, n.requestID)
	e.observeRisk(n, &c, seq, uid)
	ds.dirty, ds.saved = true, false
	ds.version++
	return true
}

// openDay returns the state of day n with its builder open, making them
// if needed. The write lock is held.
func (e *Engine) openDay(n int32) *dayState {
	ds := e.days[n]
	if ds == nil {
		ds = &dayState{}
		e.days[n] = ds
		if a := e.absent[n]; a != nil { // pinned for the Adds to come whose preload did not find it
			a.ds = ds
			ds.pins += a.events
		}
	}
	switch {
	case ds.open != nil:
	case ds.sealed != nil: // preload loaded it if it was stored
		ds.open = ds.sealed.thaw()
	default:
		// The day before's room; not for a day ahead of the clock, where
		// one early event would hold a whole day's room (newDayBuilderLike).
		var room dayRoom
		if prev := e.days[n-1]; prev != nil && n <= dayOf(e.now(), e.loc) {
			room = prev.room()
		}
		ds.open = newDayBuilderLike(room)
	}
	return ds
}

// moveFirst moves uid's first activity day from old to day in firstOn
// (metrics.NoDay for none). The write lock is held.
func (e *Engine) moveFirst(uid uint32, old, day int32) {
	if s := e.firstOn[old]; s != nil {
		if s.Remove(uid); s.IsEmpty() {
			delete(e.firstOn, old)
		}
	}
	if day == metrics.NoDay {
		return
	}
	s := e.firstOn[day]
	if s == nil {
		s = roaring.New()
		e.firstOn[day] = s
	}
	s.Add(uid)
}

// userID returns the dense id of key, assigning the next one if new.
func (e *Engine) userID(key string) uint32 {
	if id, ok := e.keys[key]; ok {
		return id
	}
	id := uint32(len(e.userKeys))
	e.keys[key] = id
	e.userKeys = append(e.userKeys, key)
	e.first = append(e.first, metrics.NoDay)
	e.last = append(e.last, metrics.NoDay)
	e.joined = append(e.joined, metrics.NoDay)
	e.deleted = append(e.deleted, metrics.NoDay)
	return id
}

// sealedDay returns the sealed index of day n, nil if it has no data:
// sealed now if it changed since, loaded from the store if not in memory,
// with the sections of need decoded (daysections.go). The read lock is
// held; sealMu serializes concurrent queries.
func (e *Engine) sealedDay(ctx context.Context, n int32, need sectionSet) (*day, error) {
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	ds := e.days[n]
	if ds != nil {
		ds.unfreeze(true)
	}
	switch {
	case ds == nil:
		return nil, nil
	case ds.dirty:
		ds.sealed, ds.dirty = ds.open.seal(), false
	case ds.sealed == nil:
		if err := e.loadInto(ctx, n, ds, need); err != nil {
			return nil, err
		}
	}
	if err := e.need(ctx, ds.sealed, need); err != nil {
		return nil, err
	}
	if ds.open != nil && n < dayOf(e.now(), e.loc)-1 {
		e.closeDay(ds) // an old day is rarely written again: keep only its sealed form
	}
	d := ds.sealed
	e.hold(ds)
	return d, nil
}

// Query computes q. Invalid queries return an error wrapping
// ErrInvalidQuery; ctx cancels long work. Cost: sealing the days changed
// since the last query, then for each day the query touches one pass over
// that day's distinct dimension combinations per filter leaf, and unions
// of the matching user sets; as-of metrics (inactive, total, never-active)
// union every day from the first one for each bucket. Unfiltered event
// counts (one group column or none) read one cached array per day and
// series instead, and unfiltered active users grouped by one dimension,
// and filtered ungrouped user sets, over more than two days union cached
// blocks of days: built on first use, kept on the sealed days, counted in
// Options.MemoryLimit and evicted with them; with Top and without Other,
// only the groups whose blocks' sizes can still rank are unioned. Stats counts the
// call and its duration; past Options.SlowQuery it is logged.
func (e *Engine) Query(ctx context.Context, q Query) (*Result, error) {
	defer e.observeQuery(q, time.Now())
	for {
		if q.Metric == RiskDetections || q.Metric == RiskyUsers {
			if err := e.withRisk(ctx, func(*risk.Detector) error { return nil }); err != nil {
				return nil, err
			}
		}
		ev, err := e.evaluate(ctx, q)
		if errors.Is(err, errRiskStale) {
			continue // a late event made the detections stale meanwhile: rebuild them
		}
		if err != nil {
			return nil, err
		}
		return ev.result(), nil
	}
}
