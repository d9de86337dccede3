package insights

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/insightslab/insights/internal/risk"
)

// Risk detections (SPEC §9): explainable rules over the event log. Every
// detection names its rule, its thresholds and the log entries that fired
// it; replaying the same events gives the same detections.
//
// The rules, their canonical definitions (episodes, ids, windows) and the
// risky-user states are those of package internal/risk, whose doc lists
// them; riskstate.go says how the engine feeds it and why detections are
// rebuilt from the event log rather than stored.

// DetectionType names a detection rule of SPEC §9.
type DetectionType string

// The rules of SPEC §9.
const (
	DetectPasswordSpray  DetectionType = "passwordSpray"
	DetectBruteForce     DetectionType = "bruteForce"
	DetectMFAFatigue     DetectionType = "mfaFatigue"
	DetectUnfamiliar     DetectionType = "unfamiliarSignInProperties"
	DetectAtypicalTravel DetectionType = "atypicalTravel"
	DetectAnonymizedIP   DetectionType = "anonymizedIP"
	DetectMaliciousIP    DetectionType = "maliciousIP"
	DetectSignUpFlood    DetectionType = "signUpFlood"
	DetectFailureSpike   DetectionType = "failureSpike"
)

// DetectionTypes returns every rule, in SPEC §9's order.
func DetectionTypes() []DetectionType {
	return []DetectionType{DetectPasswordSpray, DetectBruteForce, DetectMFAFatigue, DetectUnfamiliar,
		DetectAtypicalTravel, DetectAnonymizedIP, DetectMaliciousIP, DetectSignUpFlood, DetectFailureSpike}
}

// Risk levels of detections, risky users and a sign-in's computed risk.
const (
	RiskNone   = "none"
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Risky-user states.
const (
	RiskStateAtRisk               = "atRisk"
	RiskStateRemediated           = "remediated"
	RiskStateDismissed            = "dismissed"
	RiskStateConfirmedCompromised = "confirmedCompromised"
)

// Detection is one firing of a rule.
type Detection struct {
	// ID identifies the detection for good; it is derived from its
	// content, so a rescan gives the same id.
	ID    string        `json:"id"`
	Type  DetectionType `json:"type"`
	Level string        `json:"level"` // RiskLow, RiskMedium or RiskHigh
	// Time is the detection time: the time of the event that made the rule fire.
	Time time.Time `json:"time"`
	// WindowStart and WindowEnd bound the evidence's times, inclusive.
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	// UserKey is the user the detection is about; "" for detections of no
	// one user (failureSpike, signUpFlood, and passwordSpray's tenant-level
	// record).
	UserKey string `json:"userKey,omitempty"`
	// Source is what the rule keyed on besides the user: an IP prefix
	// ("203.0.113.0/24"), an address, or an app id for failureSpike.
	Source string `json:"source,omitempty"`
	// Rule explains the rule with its thresholds, in words.
	Rule string `json:"rule"`
	// Evidence lists the LogEntry IDs of the events that fired it, oldest first.
	Evidence []string `json:"evidence"`
}

// RiskyUser is one user's risk, as of the query's end.
type RiskyUser struct {
	UserKey     string    `json:"userKey"`
	DisplayName string    `json:"displayName,omitempty"`
	Level       string    `json:"level"` // highest level of the user's unremediated detections of the last 30 days
	State       string    `json:"state"` // RiskStateAtRisk, ...
	Updated     time.Time `json:"updated"`
	Detections  int       `json:"detections"` // detections of the last 30 days
}

// RiskOptions tunes the rules of SPEC §9. Zero fields take SPEC's defaults.
type RiskOptions struct {
	// Disabled turns detection off: Add does no risk work, and the risk
	// queries answer empty.
	Disabled bool
	// Anonymized and Malicious are the host's address lists at Open
	// (anonymizedIP, maliciousIP); SetRiskLists replaces them later.
	Anonymized, Malicious []netip.Prefix

	SprayUsers        int           // passwordSpray: distinct users failed from one source; default 20
	SprayWindow       time.Duration // default 1 h
	SprayFailureShare float64       // share of the source's user sign-ins that failed; default 0.8
	SprayFollowUp     time.Duration // a targeted user's success from the source within it is high; default 24 h
	BruteFailures     int           // bruteForce: failed first-factor sign-ins of one user; default 10
	BruteWindow       time.Duration // default 10 min
	BruteFollowUp     time.Duration // a success within it is high; default 1 h
	FatigueDenials    int           // mfaFatigue: MFA challenges denied or not completed; default 5
	FatigueWindow     time.Duration // default 1 h
	FatigueFollowUp   time.Duration // an approval within it is high; default 1 h
	UnfamiliarHistory time.Duration // unfamiliarSignInProperties: history; default 30 days
	UnfamiliarMinimum int           // successful sign-ins the history needs; default 5
	TravelKm          float64       // atypicalTravel: distance; default 500
	TravelKmh         float64       // and speed; default 900
	SignUpFlood       int           // signUpFlood: sign-ups from one source; default 50
	SignUpWindow      time.Duration // default 1 h
	SpikeMinimum      int           // failureSpike: floor of the hourly threshold; default 20
	SpikeFactor       float64       // times the median of the same hour of the week; default 3
	SpikeWeeks        int           // weeks of history for the median; default 4
	RiskyUserWindow   time.Duration // detections that make a user risky; default 30 days
	// LateHorizon is how far behind the latest event an event may arrive
	// and still be folded into the detections at once; an older one makes
	// the detector rebuild them from the event log, which the risk reads
	// wait for. Default 2 h.
	LateHorizon time.Duration
}

// validate reports every bad field of o: negative thresholds, a share
// outside [0, 1].
func (o *RiskOptions) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{"SprayUsers", float64(o.SprayUsers)}, {"SprayWindow", float64(o.SprayWindow)}, {"SprayFailureShare", o.SprayFailureShare},
		{"SprayFollowUp", float64(o.SprayFollowUp)}, {"BruteFailures", float64(o.BruteFailures)}, {"BruteWindow", float64(o.BruteWindow)},
		{"BruteFollowUp", float64(o.BruteFollowUp)}, {"FatigueDenials", float64(o.FatigueDenials)}, {"FatigueWindow", float64(o.FatigueWindow)},
		{"FatigueFollowUp", float64(o.FatigueFollowUp)}, {"UnfamiliarHistory", float64(o.UnfamiliarHistory)},
		{"UnfamiliarMinimum", float64(o.UnfamiliarMinimum)}, {"TravelKm", o.TravelKm}, {"TravelKmh", o.TravelKmh},
		{"SignUpFlood", float64(o.SignUpFlood)}, {"SignUpWindow", float64(o.SignUpWindow)}, {"SpikeMinimum", float64(o.SpikeMinimum)},
		{"SpikeFactor", o.SpikeFactor}, {"SpikeWeeks", float64(o.SpikeWeeks)}, {"RiskyUserWindow", float64(o.RiskyUserWindow)},
		{"LateHorizon", float64(o.LateHorizon)}} {
		if !(f.v >= 0) {
			errs = append(errs, fmt.Errorf("%w: Options: Risk.%s is %v, must be >= 0", ErrInvalidQuery, f.name, f.v))
		}
	}
	if o.SprayFailureShare > 1 {
		errs = append(errs, fmt.Errorf("%w: Options: Risk.SprayFailureShare is %v, must be at most 1", ErrInvalidQuery, o.SprayFailureShare))
	}
	return errs
}

// riskDecisions are the states SetUserRiskState records.
var riskDecisions = []string{RiskStateDismissed, RiskStateConfirmedCompromised}

// DetectionQuery selects detections, newest first (by time, then id).
type DetectionQuery struct {
	From, To Date            // days of the detection time, half-open; zero: unbounded
	Types    []DetectionType // any of them; nil: all
	Levels   []string        // any of them; nil: all
	UserKey  string          // exact; "" any
	Limit    int             // 1 to MaxPageSize; 0 means 100
	Cursor   string          // DetectionPage.Next of an earlier page; "" starts at the newest
}

// DetectionPage is one page of detections.
type DetectionPage struct {
	Detections []Detection `json:"detections"`
	Next       string      `json:"next,omitempty"`
}

// RiskyUserQuery selects risky users, highest level first, then most
// recently updated, then by key.
type RiskyUserQuery struct {
	Levels     []string // any of them; nil: all
	States     []string // any of them; nil: all but RiskNone
	UserSearch string   // case-insensitive prefix of key or display name, as LogQuery's
	Limit      int
	Cursor     string
}

// RiskyUserPage is one page of risky users.
type RiskyUserPage struct {
	Users []RiskyUser `json:"users"`
	Next  string      `json:"next,omitempty"`
}

// Detections returns one page of detections matching q, newest first (by
// time, then id, both descending). It first waits until the detector has
// folded every event applied before the call, and for a rebuild from the
// event log under way (after Open, an erasure, a late event past
// RiskOptions.LateHorizon: riskstate.go). Cost: then a pass over every
// detection and a sort, holding the detector's lock, not the engine's.
func (e *Engine) Detections(ctx context.Context, q DetectionQuery) (*DetectionPage, error) {
	cur, err := q.validate()
	if err != nil {
		return nil, err
	}
	page := &DetectionPage{Detections: []Detection{}}
	err = e.withRisk(ctx, func(det *risk.Detector) error {
		from, to := int64(math.MinInt64), int64(math.MaxInt64)
		if !q.From.IsZero() {
			from = q.From.Start(e.loc).UnixNano()
		}
		if !q.To.IsZero() {
			to = q.To.Start(e.loc).UnixNano()
		}
		all := det.Detections()
		for i := len(all) - 1; i >= 0; i-- { // newest first
			d := &all[i]
			if d.Time < from || d.Time >= to || cur != nil && !cur.after(d.Time, d.ID) ||
				q.Types != nil && !slices.Contains(q.Types, DetectionType(d.Type)) ||
				q.Levels != nil && !slices.Contains(q.Levels, d.Level.String()) || q.UserKey != "" && d.User != q.UserKey {
				continue
			}
			if len(page.Detections) == q.Limit {
				l := page.Detections[q.Limit-1]
				page.Next = riskCursor{t: l.Time.UnixNano(), id: l.ID}.String()
				break
			}
			page.Detections = append(page.Detections, e.detection(d))
		}
		return nil
	})
	return page, err
}

// detection converts a detection of package risk.
func (e *Engine) detection(d *risk.Detection) Detection {
	out := Detection{ID: d.ID, Type: DetectionType(d.Type), Level: d.Level.String(), Time: time.Unix(0, d.Time).In(e.loc),
		WindowStart: time.Unix(0, d.Start).In(e.loc), WindowEnd: time.Unix(0, d.End).In(e.loc), UserKey: d.User,
		Source: d.Source, Rule: d.Rule, Evidence: make([]string, len(d.Evidence))}
	for i, r := range d.Evidence {
		out.Evidence[i] = refID(r)
	}
	return out
}

// withRisk calls f with the detector once it has folded every event
// applied before the call, waiting for a rebuild under way (riskstate.go).
// f runs under the feed's detector lock, not the engine's: it must not
// take the engine's locks. With detection disabled it calls nothing.
func (e *Engine) withRisk(ctx context.Context, f func(*risk.Detector) error) error {
	_, err := fresh(ctx, e, func() (struct{}, error) { // on a follower, again after a refresh if the rebuild met a file its writer deleted
		if e.isClosed() {
			return struct{}{}, ErrClosed
		}
		if e.risk.disabled {
			return struct{}{}, nil
		}
		e.startRisk() // the first read after Open starts the detector (riskstate.go)
		fd := &e.risk.feed
		det, err := fd.await(ctx, fd.queued(), false)
		if err != nil {
			return struct{}{}, err
		}
		defer fd.dmu.Unlock()
		return struct{}{}, f(det)
	})
	return err
}

// RiskyUsers returns one page of risky users matching q, as of the
// engine's clock. Cost: that of Detections, plus the display names of the
// users listed (DisplayNames), and of every risky user with UserSearch.
func (e *Engine) RiskyUsers(ctx context.Context, q RiskyUserQuery) (*RiskyUserPage, error) {
	cur, err := q.validate()
	if err != nil {
		return nil, err
	}
	var users []RiskyUser
	err = e.withRisk(ctx, func(det *risk.Detector) error {
		for _, u := range det.RiskyUsers(e.now().UnixNano(), e.risk.window, nil) {
			users = append(users, RiskyUser{UserKey: u.User, Level: u.Level.String(), State: u.State.String(),
				Updated: time.Unix(0, u.Updated).In(e.loc), Detections: u.Detections})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, b RiskyUser) int {
		return cmp.Or(-cmp.Compare(riskLevelRank(a.Level), riskLevelRank(b.Level)), b.Updated.Compare(a.Updated), cmp.Compare(a.UserKey, b.UserKey))
	})
	keys := make([]string, 0, len(users))
	for _, u := range users {
		keys = append(keys, u.UserKey)
	}
	var names map[string]string
	if q.UserSearch != "" {
		if names, err = e.DisplayNames(ctx, keys); err != nil {
			return nil, err
		}
	}
	page := &RiskyUserPage{Users: []RiskyUser{}}
	for _, u := range users {
		if q.Levels != nil && !slices.Contains(q.Levels, u.Level) || q.States != nil && !slices.Contains(q.States, u.State) ||
			q.UserSearch != "" && !hasPrefixFold(u.UserKey, q.UserSearch) && !hasPrefixFold(names[u.UserKey], q.UserSearch) ||
			cur != nil && !cur.userAfter(u) {
			continue
		}
		if len(page.Users) == q.Limit {
			l := page.Users[q.Limit-1]
			page.Next = riskCursor{level: riskLevelRank(l.Level), t: l.Updated.UnixNano(), id: l.UserKey}.String()
			break
		}
		page.Users = append(page.Users, u)
	}
	if names == nil {
		keys = keys[:0]
		for _, u := range page.Users {
			keys = append(keys, u.UserKey)
		}
		if names, err = e.DisplayNames(ctx, keys); err != nil {
			return nil, err
		}
	}
	for i := range page.Users {
		page.Users[i].DisplayName = names[page.Users[i].UserKey]
	}
	return page, nil
}

// SetUserRiskState records an administrator's decision on a user's risk:
// RiskStateDismissed or RiskStateConfirmedCompromised, at the engine's
// clock. It is an event of kind KindRiskDecision with the state in
// RiskState: logged, replayed after a crash, listed in the event log,
// erased with the user. An unknown user or another state is an error
// wrapping ErrInvalidQuery; Add's errors otherwise.
func (e *Engine) SetUserRiskState(ctx context.Context, userKey, state string) error {
	if !slices.Contains(riskDecisions, state) {
		return fmt.Errorf("%w: risk state %q: not one of %v", ErrInvalidQuery, state, riskDecisions)
	}
	e.mu.RLock()
	err := e.loadUsers(ctx)
	_, known := e.keys[userKey]
	e.mu.RUnlock()
	if err != nil {
		return err
	}
	if !known || userKey == "" {
		return fmt.Errorf("%w: risk state of %q: unknown user", ErrInvalidQuery, userKey)
	}
	return e.Add(ctx, Event{Time: e.now(), Kind: KindRiskDecision, UserKey: userKey, RiskState: state})
}

// SetRiskLists replaces the anonymized and malicious address lists:
// events applied from then on are checked against them. Detections made
// before stay, but a rebuild from the log (see Detections) checks every
// event against the lists in force when it starts. The lists are not
// stored: pass them in Options.Risk at every Open.
func (e *Engine) SetRiskLists(anonymized, malicious []netip.Prefix) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.risk.disabled {
		e.risk.feed.setLists(slices.Clone(anonymized), slices.Clone(malicious))
	}
}

// RescanRisk rebuilds the detections from the event log. The detections
// being a function of the logged events, the rebuild gives what ingest
// computed; it reads every stored day, whatever [from, to) (which must be
// a valid range, as LogQuery's: zero dates are unbounded), since windows
// and histories reach across days. Cost: a read of every day's log, on the
// detector's goroutine, which RescanRisk waits for; Add and queries go on
// meanwhile (risk reads wait too).
func (e *Engine) RescanRisk(ctx context.Context, from, to Date) error {
	if _, err := (&LogQuery{From: from, To: to}).validate(); err != nil {
		return err
	}
	e.risk.feed.reset() // when started; else withRisk starts it
	return e.withRisk(ctx, func(*risk.Detector) error { return nil })
}

// EntriesByID returns the log entries with the given LogEntry IDs (a
// detection's Evidence), in the order given; IDs of erased or retired
// entries are left out. A malformed ID is an error wrapping ErrInvalidQuery.
// Cost: per ID, the read of its day's log (once per day) and of its record.
func (e *Engine) EntriesByID(ctx context.Context, ids []string) ([]LogEntry, error) {
	return fresh(ctx, e, func() ([]LogEntry, error) { return e.entriesByID(ctx, ids) })
}

// entriesByID is EntriesByID once.
func (e *Engine) entriesByID(ctx context.Context, ids []string) ([]LogEntry, error) {
	type pos struct {
		n   int32
		seq uint32
	}
	ps := make([]pos, len(ids))
	for i, id := range ids {
		n, seq, ok := parseEntryID(id)
		if !ok {
			return nil, fmt.Errorf("%w: entry id %q: not \"<date>/<sequence>\"", ErrInvalidQuery, id)
		}
		ps[i] = pos{n, seq}
	}
	levels, err := e.riskLevels(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := e.loadUsers(ctx); err != nil {
		return nil, err
	}
	out := []LogEntry{}
	for _, p := range ps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if e.days[p.n] == nil {
			continue
		}
		d, err := e.sealedDay(ctx, p.n, lazySections)
		if err != nil {
			return nil, err
		}
		l, err := d.events()
		if err != nil {
			return nil, err
		}
		if int(p.seq) >= l.len() || l.users[p.seq] == erasedUser {
			continue
		}
		le, err := e.entry(d, l, l.cursor(), p.n, p.seq)
		if err != nil {
			return nil, err
		}
		if level := levels[riskRef(p.n, p.seq)]; level > risk.LevelNone {
			le.ComputedRisk = level.String()
		}
		out = append(out, le)
	}
	return out, nil
}
