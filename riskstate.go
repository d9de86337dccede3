package insights

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/insightslab/insights/internal/logrecord"
	"github.com/insightslab/insights/internal/risk"
)

// Risk detections (SPEC §9) are a function of the event log: internal/risk
// defines the rules and computes them. The engine runs its detector on a
// goroutine of its own (riskfeed.go), started by the first risk read
// after Open: from then on apply only gathers each applied event's
// observation, built from the values the index keeps, queued once per
// batch (riskFeed.flush), and the goroutine folds the queue in order.
// A risk read (Detections, RiskyUsers, the risk metrics, the computed risk
// of log entries, RescanRisk) first waits until the detector has folded
// every event applied before the read began, so its answer is what it
// would be had the detector run inside Add: reads see their writes.
//
// The goroutine builds the detector from the event log when it cannot do
// otherwise: when started, after an event older than
// RiskOptions.LateHorizon behind the latest, after Erase, after retention
// dropped days, after a follower's swap, and on RescanRisk; the reads
// wait for it. A rebuild reads the stored days in order, taking the
// engine's read lock only to find (or load) each day's sealed index, as a
// query does, never the write lock, so Add and queries go on meanwhile;
// the events applied during it queue, and those its read of their day did
// not see are folded after it. After an event older than LateHorizon the
// detector is dropped and nothing is queued until the next risk read
// starts the rebuild: a backfill of old events costs one rebuild, not one
// per event (TestRiskBackfillRebuildsOnce).
//
// Why at the first risk read rather than at Open: a rebuild loads every
// stored day's segment and event log. At Open it would undo Open's lazy
// loading (a one-day query after Open loads one segment: TestReopenReadsLittle),
// read the whole store on every Open of a host that never reads risk,
// push out of Options.MemoryLimit the days the host's queries use, and,
// on a follower, whose every swap resets the detector, read the whole
// store again after each of the writer's checkpoints. A host that wants
// its first read answered at once starts detection itself, in the
// background, right after Open: go e.RescanRisk(ctx, Date{}, Date{}).
//
// Back-pressure: Add waits, before logging a batch and holding no lock,
// while riskQueueCap observations or more are queued, so ingest faster
// than detection goes at the detector's pace (and, during a rebuild, runs
// until the queue is full), and the queue's memory is bounded (about
// 10 MB, plus the batches applied while one waits). A follower's replay
// of the writer's log does not wait: its queue is bounded by the log
// written between two checkpoints.
//
// Why a rebuild rather than detections in the checkpoint: the log is
// already durable (write-ahead log, then segments), and the detections are
// a deterministic function of its events, so recomputing them gives, after
// a crash, an Open or an erasure, exactly what ingest computed, with no
// second copy whose agreement with the log must be proven on every crash
// path, and no file format to add. The price: one read of the event log
// of every stored day after Open (and after the other events above), on
// the detector's goroutine.
type riskState struct {
	disabled bool
	window   int64 // RiskOptions.RiskyUserWindow, ns
	feed     riskFeed
}

// newRiskState returns the risk state of o; startRisk starts its detector.
func newRiskState(o RiskOptions) riskState {
	ro := risk.Options{SprayUsers: o.SprayUsers, SprayWindow: o.SprayWindow, SprayFailureShare: o.SprayFailureShare,
		SprayFollowUp: o.SprayFollowUp, BruteFailures: o.BruteFailures, BruteWindow: o.BruteWindow, BruteFollowUp: o.BruteFollowUp,
		FatigueDenials: o.FatigueDenials, FatigueWindow: o.FatigueWindow, FatigueFollowUp: o.FatigueFollowUp,
		UnfamiliarHistory: o.UnfamiliarHistory, UnfamiliarMinimum: o.UnfamiliarMinimum, TravelKm: o.TravelKm, TravelKmh: o.TravelKmh,
		SignUpFlood: o.SignUpFlood, SignUpWindow: o.SignUpWindow, SpikeMinimum: o.SpikeMinimum, SpikeFactor: o.SpikeFactor,
		SpikeWeeks: o.SpikeWeeks, LateHorizon: o.LateHorizon,
		Anonymized: slices.Clone(o.Anonymized), Malicious: slices.Clone(o.Malicious)}
	w := o.RiskyUserWindow
	if w <= 0 {
		w = 30 * 24 * time.Hour
	}
	return riskState{disabled: o.Disabled, window: int64(w), feed: riskFeed{head: 1, opt: ro.WithDefaults()}}
}

// riskRef is the reference of entry seq of day n: ordered as the log is.
func riskRef(n int32, seq uint32) risk.Ref { return risk.Ref(uint64(uint32(n))<<32 | uint64(seq)) }

// refEntry returns the day and sequence of a reference.
func refEntry(r risk.Ref) (int32, uint32) { return int32(uint32(r >> 32)), uint32(r) }

// refID returns the LogEntry ID of a reference.
func refID(r risk.Ref) string { return entryID(refEntry(r)) }

// observeRisk gathers an applied event's observation for the detector
// (riskFeed.flush queues the batch's): entry seq of day n, of dimension
// codes c, of user uid (when n has a key). The rules read the values the
// index keeps, "(other)" past a dictionary's cap, as a rebuild from the
// log does, numbered by their codes (riskCodes). The write lock is held.
func (e *Engine) observeRisk(n *normEvent, c *combo, seq, uid uint32) {
	rs := &e.risk
	if rs.disabled || !rs.feed.live.Load() {
		return
	}
	val := func(d Dimension) string { return e.dims[d-1].values[c[d-1]] }
	p := n.place
	if !p.known {
		p.ip, p.lat, p.lon = recordPlace([]byte(n.rec))
	}
	o := observation(val, n.key, n.time, p, riskRef(n.day, seq))
	if n.key != "" {
		o.UserNumber = uid + 1
	}
	o.ValueCodes = riskCodes(func(d Dimension) uint32 { return c[d-1] })
	if o.Kind != risk.KindOther {
		rs.feed.pending = append(rs.feed.pending, riskItem{obs: o})
	}
}

// riskCodes returns an observation's ValueCodes from the dictionary codes
// of its country, OS family and browser family (code): the detector then
// numbers them by an index rather than by hashing the strings.
func riskCodes(code func(Dimension) uint32) [3]uint32 {
	return [3]uint32{code(DimCountry) + 1, code(DimOSFamily) + 1, code(DimBrowserFamily) + 1}
}

// firstFactorCodes are the error codes of a failed first factor: a wrong
// password, an unknown user.
var firstFactorCodes = []string{"50126", "50034"}

// place is where an event came from: its address and coordinates.
type place struct {
	ip       netip.Addr
	lat, lon float64
	known    bool // read at validation; else to read from the log record
}

// observation reduces an event to what the rules read: its indexed
// values (val), user key, time and place.
func observation(val func(Dimension) string, key string, t int64, p place, ref risk.Ref) risk.Observation {
	o := risk.Observation{Time: t, Ref: ref, User: key, App: val(DimAppID), Country: val(DimCountry),
		OSFamily: val(DimOSFamily), BrowserFamily: val(DimBrowserFamily)}
	switch val(DimStatus) {
	case "success":
		o.Status = risk.StatusSuccess
	case "failure":
		o.Status = risk.StatusFailure
	}
	switch val(DimMFAResult) {
	case "":
	case MFASuccess:
		o.MFA = risk.MFAApproved
	case MFADenied, MFAIncomplete:
		o.MFA = risk.MFADenied
	}
	switch val(DimKind) {
	case "signIn":
		o.Kind = risk.KindSignIn
		sit := val(DimSignInType)
		o.Principal = sit == SignInServicePrincipal.String() || sit == SignInManagedIdentity.String()
		o.FirstFactorFailure = o.Status == risk.StatusFailure && !o.Principal &&
			(key == "" || slices.Contains(firstFactorCodes, val(DimErrorCode)))
		o.Remedy = o.Status == risk.StatusSuccess && o.MFA == risk.MFAApproved
	case "signUp":
		o.Kind = risk.KindSignUp
	case "mfa":
		o.Kind = risk.KindMFA
	case "reset":
		if val(DimAction) == ActionPasswordReset && o.Status == risk.StatusSuccess {
			o.Kind, o.Remedy = risk.KindRemedy, true
		}
	case "riskDecision":
		o.Kind = risk.KindDecision
		switch val(DimRiskState) {
		case RiskStateDismissed:
			o.Decision = risk.Dismissed
		case RiskStateConfirmedCompromised:
			o.Decision = risk.ConfirmedCompromised
		}
	}
	o.IP, o.Lat, o.Lon = p.ip, p.lat, p.lon
	return o
}

// recordPlace reads the IP address and coordinates of a log record,
// skipping the rest; damage before a value leaves it unknown.
func recordPlace(rec []byte) (ip netip.Addr, lat, lon float64) {
	text, lat, lon := logrecord.Place(rec, recordLimits)
	if len(text) > 0 {
		ip, _ = netip.ParseAddr(string(text))
	}
	return ip, lat, lon
}

// dayObservations appends to obs the observations of day n's log in
// canonical order (time, then reference), erased entries left out, and
// records in read how many entries the day held. It holds the read lock
// only while it finds the day's sealed index, which is immutable.
func (e *Engine) dayObservations(ctx context.Context, n int32, obs []risk.Observation, read map[int32]uint32) ([]risk.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		e.mu.RUnlock()
		return obs, err
	}
	d, err := e.sealedDay(ctx, n, lazySections)
	keys := e.userKeys // a key is never changed in place (Erase replaces the slice)
	var values [numIndexed][]string
	for i := range values {
		values[i] = e.dims[i].values // codes of d are below its length; later values are appended past it
	}
	e.mu.RUnlock()
	if err != nil || d == nil {
		return obs, err
	}
	l, err := d.events()
	if err != nil {
		return nil, err
	}
	c := l.cursor()
	for i := range l.len() {
		u := l.users[i]
		if u == erasedUser {
			continue // erased: as if it never happened
		}
		key := ""
		if u < erasedUser {
			key = keys[u]
		}
		rec, err := c.record(i)
		if err != nil {
			return nil, err
		}
		k := l.combos[i]
		val := func(dim Dimension) string { return values[dim-1][d.ix.Cols[dim-1].At(k)] }
		var p place
		p.ip, p.lat, p.lon = recordPlace(rec)
		if o := observation(val, key, l.times[i], p, riskRef(n, uint32(i))); o.Kind != risk.KindOther {
			if key != "" {
				o.UserNumber = u + 1
			}
			o.ValueCodes = riskCodes(func(dim Dimension) uint32 { return d.ix.Cols[dim-1].At(k) })
			obs = append(obs, o)
		}
	}
	read[n] = uint32(l.len())
	slices.SortFunc(obs, func(a, b risk.Observation) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Ref, b.Ref)) })
	return obs, nil
}

// riskLevels returns each event's computed risk (evidenceLevels), the
// detections rebuilt first if they must be; nil with detection disabled.
// The map is not changed afterwards: a read-only snapshot.
func (e *Engine) riskLevels(ctx context.Context) (map[risk.Ref]risk.Level, error) {
	var m map[risk.Ref]risk.Level
	err := e.withRisk(ctx, func(det *risk.Detector) error { m = e.evidenceLevels(det); return nil })
	return m, err
}

// evidenceLevels returns each event's computed risk: the highest level of
// the detections it is evidence of. The feed's dmu is held; the map is
// shared until the detections change.
func (e *Engine) evidenceLevels(det *risk.Detector) map[risk.Ref]risk.Level {
	f := &e.risk.feed
	if f.levelsOf != det || f.levelsAt != det.Version() {
		f.levels, f.levelsOf, f.levelsAt = risk.EvidenceLevels(det.Detections()), det, det.Version()
	}
	return f.levels
}
