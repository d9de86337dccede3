// Package risk computes the risk detections of SPEC §9 from compact
// observations of events. It knows nothing of the engine: an Observation
// carries a time (Unix ns), a Ref naming the event (the engine's log
// entry), and the few fields the rules read.
//
// # Definitions
//
// Detections are a function of the set of observations, never of their
// arrival order. Every rule reads its key's events in canonical order —
// by time, then by Ref — and "before" below means earlier in that order.
//
// Window rules (passwordSpray, bruteForce, mfaFatigue, signUpFlood) count
// qualifying events in the sliding window (t-W, t] ending at each
// qualifying event e (e and the key's events before it). e fires when the
// count meets the threshold. Episodes are aligned on the window: time is
// cut into buckets [kW, (k+1)W) of Unix time, and a key has at most one
// detection per bucket. Its first firing event opens it (the detection
// time); its evidence is the window's qualifying events at that moment,
// then every later firing event of the bucket. The id hashes type, key and
// the opening event (not the first evidence: the windows of two buckets'
// openers may start at the same event). Aligned buckets keep the definition local (an episode
// depends on events within 2W of it, never on a chain of earlier ones), at
// the price of an attack across a bucket boundary making two detections.
//
//   - bruteForce: key the user; qualifying, the user's failed first-factor
//     sign-ins (bad password or unknown user; the engine marks error codes
//     50126 and 50034, and failures that name no user); any source. Follow-up: the first successful sign-in of the
//     user after the opening whose distance to the latest evidence before
//     it is within BruteFollowUp raises the detection to high and is
//     appended to its evidence.
//   - mfaFatigue: key the user; qualifying, MFA challenges denied or not
//     completed (MFA events and sign-ins alike); follow-up an approval,
//     as above.
//   - passwordSpray: key the source (IPv4 /24, IPv6 /64); window events
//     are the source's user sign-ins of any status; qualifying, its
//     first-factor failures. e fires when the window's first-factor
//     failures name ≥ SprayUsers distinct users — a failure without a user
//     key counts as one user of its own (an unknown account) — and
//     failures of any reason are ≥ SprayFailureShare of the window's user
//     sign-ins. The detection is tenant-level (no user), medium. Each
//     targeted user (a user key among its evidence) whose first successful
//     sign-in from the source after the opening comes within SprayFollowUp
//     of the user's latest evidence before it gets a high detection of
//     their own: time the success, evidence the user's failures in the
//     episode before it and the success, id from type, source, user and the
//     episode's opening event.
//   - signUpFlood: key the source; qualifying, sign-ups of any status.
//
// The others:
//
//   - unfamiliarSignInProperties: a user's successful sign-in s fires when
//     the user's successful sign-ins before s with a time ≥ s-30 days
//     number ≥ UnfamiliarMinimum, s has a country that none of them has,
//     and s has an OS family, a browser family or an IPv4 /16 (IPv6 /48)
//     that none of them has. Empty values are never new. Evidence: s.
//   - atypicalTravel: two consecutive located (latitude or longitude not
//     0) successful sign-ins of a user, p then s, more than TravelKm apart
//     (haversine, radius 6371 km) at more than TravelKmh (equal times being
//     infinitely fast). Evidence: p and s; the id hashes p.
//   - anonymizedIP (medium) and maliciousIP (high): each sign-in, of any
//     status and kind of identity, from an address in the list in force
//     when it is added. Evidence: the sign-in.
//   - failureSpike: key the app id; hours are Unix hours (UTC, so the same
//     hour of the week is 168 hours earlier). Hour h fires when its failed
//     sign-ins (users and principals) exceed max(SpikeMinimum, SpikeFactor
//     × the median of hours h-168k, k = 1..SpikeWeeks), a missing hour
//     counting 0; the median of an even count is the mean of the middle
//     two. The detection time is the failure that exceeds it; the evidence,
//     the hour's failures up to it.
//
// Levels are those of SPEC §9 (low, medium, high as above).
//
// Risky users (RiskyUsers) follow from the detections and two more kinds
// of observation: remedies (a successful sign-in with an approved MFA
// challenge, a successful password reset), each of which remediates the
// user's detections whose every evidence is earlier in time (a remedy at
// the time of the last evidence does not: here "earlier" compares times
// alone, not the canonical order) (Detection.Remediated is the first).
// SPEC §9 says "a later successful
// sign-in": later than the detection's last evidence, we chose, so that
// the approval ending an MFA-fatigue burst, or the success after a brute
// force, which are the attacker's and raise the detection to high, do not
// also remediate it; and a detection whose episode goes on after a remedy
// is no longer remediated by it. Of administrators' decisions
// (dismissed, confirmedCompromised), the latest in canonical order
// decides; a dismissal covers the detections with a time at or before
// its own. Both kinds are
// order-independent: a remedy arriving
// late updates the detections before it, and a detection made late takes
// the remedies after it, kept for the late horizon.
//
// # State
//
// A Detector keeps per rule and key only what the windows need: the
// window's events, the episodes a follow-up may still raise, a user's
// property values with their latest time over the history and the times of
// their latest UnfamiliarMinimum successful sign-ins, a user's latest
// located sign-in, an app's hourly failure counts over SpikeWeeks weeks and
// the current hour. The four user-keyed rules (bruteForce, mfaFatigue,
// unfamiliarSignInProperties, atypicalTravel) keep one state per user,
// each part folding only its rule's events. Besides, every key keeps its events of the last
// LateHorizon (default 2 h) in time order, and the state before them. An
// event older than LateHorizon behind the latest one seen is refused with
// ErrTooLate: the caller rebuilds from the whole set (the engine rescans
// its event log). Compact forgets the states that no later event can
// affect, and so does Add once per day of event time (the sweep), which
// empties too the parts of a user's state that are idle. A state found
// not idle records the cut from which it can be (idleFrom: the latest
// event of a window plus the window, say, or for unfamiliarSignInProperties
// the latest sign-in plus the history, never for a user kept for
// atypicalTravel), and the sweeps pass over it with no read of it until
// the cut reaches that or the key receives an event: most users are never
// idle (travel keeps their latest sign-in), and reading each one's state
// every day cost a cache miss per user (the sweep was 4.6% of the
// detector's CPU in a profile of BenchmarkDetectorTraffic/users=100000,
// 15% in one of the bench's risk phase at 1M events; #18, session 12).
//
// When detections are made: Add only keeps a key's event; the events of
// a key fold into its state, in place, when they pass the late horizon
// (they are final then), and a read (Detections, RiskyUsers, Version,
// Len) first folds the kept events of every key that received some since
// the read before on a copy of its state (settle), as if each had been
// folded at its arrival. A key so settled folds its later events at once,
// until an event older than its latest comes: that one undoes what the
// copy's folds had emitted and leaves the key to the next read or to the
// horizon, so the result is always that of the canonical order. Reads see
// every event added; the detections do not depend on when reads come
// (TestReadsAmidLateEventsEqualRescan). Why: with one copy of the state
// and one fold per event, most events (a user signing in once a day)
// paid a copy at arrival and a source's events were folded twice; the
// engine reads detections far less often than it adds events (#18,
// session 9).
//
// Which keys fold when: Add keeps a queue of the keys that received an
// event into an empty buffer, each with that event's time, and once per
// late horizon of event time folds the events before the cut of the
// queued keys whose time is before the cut; it passes over the others
// without reading their state, where it read every queued key's state and
// buffer, and half of them for nothing (#18, session 11). A late event
// before a key's queued time only makes its fold wait for the next pass or
// the sweep. The events before the cut are found by a scan of the buffer
// from its start: they are folded next, and a binary search's probes into
// a hot key's large buffer missed the cache.
// The reads' list of keys to settle is dropped at each such fold: the
// first read after it walks the queue instead, as the fold did, so
// without reads Add keeps no list, where dropping from it the keys left
// with nothing to settle read every listed key's state again at each
// horizon (3.5% of the detector's CPU in a profile of
// BenchmarkDetectorTraffic/users=100000; #18, session 12).
//
// The layout, for ingest cost (SPEC §13) and memory:
//
//   - Kept events are records of 64 bytes with no pointer (rec): the
//     fields the rules read, user keys and country, OS and browser values
//     numbered densely by the detector (numbers are never reused: they
//     grow with the distinct users and values, which the engine bounds),
//     networks packed in a number. Buffers and windows hold them by value.
//   - Each rule's key states are a slice indexed by a dense key number:
//     for the user-keyed rules the user's number, found by an index when
//     the caller numbers its users (Observation.UserNumber, which the
//     engine fills from its user id), else by a map of keys; for sources
//     and apps a map of two-word ids gives the number (keyID: a source's
//     prefix packed, an app's number among the app keys, numbered as
//     users are), with no pointer to hash, where a key of a string and a
//     netip.Prefix was hashed and compared as a 48-byte struct at every
//     event (5% of the detector's CPU in a profile of
//     BenchmarkDetectorTraffic/users=100000; #18, session 12). A key
//     state records its buffer's last time and reference, so an event in
//     order and an advance past the whole buffer read nothing of the
//     buffer.
//   - A user's state is one object: its unfamiliar-properties history is
//     one array (the recent times, then value and time pairs), inline in
//     the state while it fits 16 words (the defaults' 5 times and 4
//     values); bruteForce and mfaFatigue parts exist only while they hold
//     something. The parts nothing uses any more (idle at the daily
//     sweep, of a state reset for a new user, or dropped from a read's
//     copy) are kept emptied, with their arrays unless large, for the
//     next users' failures and copies (userRules.parts, trimmed by the
//     sweep as the other pools).
//   - States dropped when a key advances past its buffer or replays, the
//     states of keys the sweep forgets (reset for a new key: sources are
//     forgotten each night and made anew each morning), and buffer
//     arrays emptied or outgrown, kept by room up to keptBuffer events
//     (bufPools), are reused for the next copies, keys and buffers (a
//     buffer made anew has room for newBuffer events; one that outgrows
//     its array swaps it for one of the next room when the pool has one,
//     else leaves it to the collector, so that the pools gain arrays only
//     from emptied buffers: a source whose buffer grows each day reuses
//     the arrays of the days before, where append made them anew, 63 MB
//     a million events in BenchmarkDetectorTraffic/users=100000, and
//     BenchmarkDetectorAdd's state is no larger; #18, session 12):
//     Add allocates nothing in the steady state but the detections it
//     makes. Add's daily sweep releases those its pools did not hand out
//     since the sweep before (a day's turnover stays: where users sign in
//     now and then, each event takes a buffer and gives it back a horizon
//     later, and releasing all each day made the next day allocate them
//     anew); Compact releases them all. A source's state spells its
//     prefix only in the detections it makes.
//   - Remedies of the late horizon are kept by user number, in a map of
//     values (remedyTimes), not in a per-user object made for each. Add
//     only appends a remedy to a list (fresh), entered in the map when a
//     detection is stored (put) or at the sweep, which drops those before
//     the cut first: most remedies never enter it, where entering each
//     missed the cache (8% of the detector's CPU in a profile of
//     BenchmarkDetectorTraffic/users=100000; #18, session 12).
//   - Country, OS and browser values are numbered by the caller's codes
//     when it gives them (Observation.ValueCodes: the engine's dictionary
//     codes), by an index, as users by Observation.UserNumber.
//   - An app's failure counts by hour are a ring of SpikeWeeks×168+1
//     counters, made at its first failure: a copy is one memmove and a
//     new hour clears the hours skipped, not a walk of every hour kept.
//
// # Concurrency
//
// A Detector is not safe for concurrent use; the engine adds to it on a
// goroutine of its own and reads it under a lock that goroutine holds
// while it adds.
package risk
