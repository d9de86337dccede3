package insights

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/insightslab/insights/internal/risk"
)

// Risk detections (SPEC §9) are a function of the event log: internal/risk
// defines the rules and computes them. The engine feeds it every applied
// event at ingest (apply), so detections are real-time, and rebuilds it
// from the log when it cannot: at the first risk read after Open, after an
// event older than RiskOptions.LateHorizon behind the latest, after Erase,
// after retention dropped days, and on RescanRisk.
//
// Why a rebuild rather than detections in the checkpoint: the log is
// already durable (write-ahead log, then segments), and the detections are
// a deterministic function of its events, so recomputing them gives, after
// a crash, an Open or an erasure, exactly what ingest computed, with no
// second copy whose agreement with the log must be proven on every crash
// path, and no file format to add. The price: the first risk read after
// Open (and after the other events above) reads the event log of every
// stored day once, under the write lock. Until then Add does no risk work.
type riskState struct {
	opt      risk.Options
	disabled bool
	window   int64          // RiskOptions.RiskyUserWindow, ns
	det      *risk.Detector // nil: to rebuild from the log before the next read
	levels   map[risk.Ref]risk.Level
	levelsOf *risk.Detector // the detector levels were computed from
	levelsAt uint64         // and its version then
}

// newRiskState returns the risk state of o, to build on first read.
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
	return riskState{opt: ro.WithDefaults(), disabled: o.Disabled, window: int64(w)}
}

// riskRef is the reference of entry seq of day n: ordered as the log is.
func riskRef(n int32, seq uint32) risk.Ref { return risk.Ref(uint64(uint32(n))<<32 | uint64(seq)) }

// refEntry returns the day and sequence of a reference.
func refEntry(r risk.Ref) (int32, uint32) { return int32(uint32(r >> 32)), uint32(r) }

// refID returns the LogEntry ID of a reference.
func refID(r risk.Ref) string { return entryID(refEntry(r)) }

// observeRisk feeds an applied event to the detector: entry seq of day
// n, of dimension codes c, of user uid (when n has a key). The rules read
// the values the index keeps, "(other)" past a dictionary's cap, as a
// rebuild from the log does. The write lock is held.
func (e *Engine) observeRisk(n *normEvent, c *combo, seq, uid uint32) {
	rs := &e.risk
	if rs.disabled || rs.det == nil {
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
	if o.Kind == risk.KindOther {
		return
	}
	if err := rs.det.Add(&o); errors.Is(err, risk.ErrTooLate) {
		rs.det = nil // rebuilt from the log, this event included, on the next read
	}
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
// skipping the rest; a damaged record gives nothing.
func recordPlace(rec []byte) (ip netip.Addr, lat, lon float64) {
	r := reader{b: rec}
	for i := range numRecText {
		b := r.bytes(r.count(MaxLogFieldLength, 1))
		if i == recIP && len(b) > 0 {
			ip, _ = netip.ParseAddr(string(b))
		}
	}
	for range r.count(MaxAuthSteps, 5) {
		r.varint()
		r.bytes(r.count(MaxValueLength, 1))
		r.flag()
		r.bytes(r.count(MaxLogFieldLength, 1))
		r.bytes(r.count(MaxValueLength, 1))
	}
	for range r.count(MaxPolicies, 1) {
		r.bytes(r.count(MaxLogFieldLength, 1))
	}
	for range r.count(MaxPolicies, 2) {
		r.bytes(r.count(MaxLogFieldLength, 1))
		r.bytes(r.count(MaxValueLength, 1))
	}
	if r.err != nil || len(r.b)-r.off != 16 {
		return ip, 0, 0
	}
	lat = math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	lon = math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off+8:]))
	return ip, lat, lon
}

// riskDetector returns the detector, rebuilt from the event log first if
// it must be. The write lock is held.
func (e *Engine) riskDetector(ctx context.Context) (*risk.Detector, error) {
	rs := &e.risk
	if rs.det != nil {
		return rs.det, nil
	}
	det := risk.New(rs.opt)
	days := make([]int32, 0, len(e.days))
	for n := range e.days {
		days = append(days, n)
	}
	slices.Sort(days)
	var obs []risk.Observation
	for _, n := range days {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := e.sealedDay(ctx, n)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		l, err := d.events()
		if err != nil {
			return nil, err
		}
		c := l.cursor()
		obs = obs[:0]
		for i := range l.len() {
			u := l.users[i]
			if u == erasedUser {
				continue // erased: as if it never happened
			}
			key := ""
			if u < erasedUser {
				key = e.userKeys[u]
			}
			rec, err := c.record(i)
			if err != nil {
				return nil, err
			}
			k := l.combos[i]
			val := func(dim Dimension) string { return e.dims[dim-1].values[d.cols[dim-1].at(k)] }
			var p place
			p.ip, p.lat, p.lon = recordPlace(rec)
			if o := observation(val, key, l.times[i], p, riskRef(n, uint32(i))); o.Kind != risk.KindOther {
				if key != "" {
					o.UserNumber = u + 1
				}
				obs = append(obs, o)
			}
		}
		slices.SortFunc(obs, func(a, b risk.Observation) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Ref, b.Ref)) })
		for i := range obs {
			if err := det.Add(&obs[i]); err != nil {
				return nil, err // in order: never too late
			}
		}
	}
	rs.det = det
	return det, nil
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
// the detections it is evidence of. The write lock is held; the map is
// shared until the detections change.
func (e *Engine) evidenceLevels(det *risk.Detector) map[risk.Ref]risk.Level {
	rs := &e.risk
	if rs.levelsOf != det || rs.levelsAt != det.Version() {
		rs.levels, rs.levelsOf, rs.levelsAt = risk.EvidenceLevels(det.Detections()), det, det.Version()
	}
	return rs.levels
}
