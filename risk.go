package insights

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Risk detections (SPEC §9): explainable rules over the event log. Every
// detection names its rule, its thresholds and the log entries that fired
// it; replaying the same events gives the same detections.
//
// CONTRACT STUB (session 5): the exported names below are the API the
// command, the HTTP handler, the dashboard and the exports build on. The
// engine side fills in the bodies; it may add fields and methods but keeps
// these names and signatures.

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
}

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

var errRiskNotBuilt = fmt.Errorf("%w: risk detections are not built yet", ErrInvalidQuery)

// Detections returns one page of detections matching q.
func (e *Engine) Detections(ctx context.Context, q DetectionQuery) (*DetectionPage, error) {
	return nil, errRiskNotBuilt
}

// RiskyUsers returns one page of risky users matching q.
func (e *Engine) RiskyUsers(ctx context.Context, q RiskyUserQuery) (*RiskyUserPage, error) {
	return nil, errRiskNotBuilt
}

// SetUserRiskState records an administrator's decision on a user's risk:
// RiskStateDismissed or RiskStateConfirmedCompromised, at the engine's
// clock. It is an event, so it survives replay.
func (e *Engine) SetUserRiskState(ctx context.Context, userKey, state string) error {
	return errRiskNotBuilt
}

// SetRiskLists replaces the anonymized and malicious address lists.
func (e *Engine) SetRiskLists(anonymized, malicious []netip.Prefix) {}

// RescanRisk rebuilds the detections whose windows fall in [from, to)
// from the event log, replacing what ingest computed there.
func (e *Engine) RescanRisk(ctx context.Context, from, to Date) error {
	return errRiskNotBuilt
}

// EntriesByID returns the log entries with the given LogEntry IDs (a
// detection's Evidence), in the order given; IDs of erased or retired
// entries are left out. A malformed ID is an error wrapping ErrInvalidQuery.
func (e *Engine) EntriesByID(ctx context.Context, ids []string) ([]LogEntry, error) {
	return nil, errRiskNotBuilt
}
