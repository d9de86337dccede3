package insights

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Metric names what a Query computes. User metrics count distinct users
// (SPEC §4); event metrics count events (SPEC §5).
type Metric uint8

// The metrics. "as of" metrics are evaluated on the last day of each bucket
// (clipped to the range) and look back before From as far as they need.
const (
	// ActiveUsers: users with an activity matching the filter in the bucket.
	ActiveUsers Metric = iota + 1
	// SigningInUsers: users with any user sign-in (any status) matching the filter.
	SigningInUsers
	// NewUsers: active users whose first activity ever (unfiltered) is in the bucket.
	NewUsers
	// ReturningUsers: active users who are not new.
	ReturningUsers
	// RollingActiveUsers: users active in the Days days ending on the bucket's last day (as of).
	RollingActiveUsers
	// InactiveUsers: with Days > 0, users active on or before the bucket's last
	// day but not in the Days days ending on it, not deleted by then (as of).
	// With Days == 0, calendar-bucket inactivity: users active before the
	// bucket, not in it, not deleted by its last day (SPEC's calendar-month
	// inactive with Granularity Month).
	InactiveUsers
	// NeverActiveUsers: users created (matching the filter) on or before the
	// bucket's last day with no activity at all up to it, not deleted (as of).
	NeverActiveUsers
	// TotalUsers: users with a matching activity or user-created event on or
	// before the bucket's last day, less deleted users (as of).
	TotalUsers
	// Stickiness: active users on the bucket's last day divided by the
	// Days-day active users as of it (Days 7 or 30 usually; 0 when empty).
	Stickiness
	// Lifecycle: series new, returning, resurrecting, dormant against the previous bucket.
	Lifecycle
	// Retention: for each bucket's cohort of new users, one row per later
	// bucket k = 0, 1, ... within the range (Row.Offset = k): cohort users active then.
	Retention
	// Authentications: sign-ins of every type; series attempts, successes,
	// failures, interrupts. Group by DimReason or DimErrorCode for failures.
	Authentications
	// Requests: events of every kind.
	Requests
	// SignUps: successful sign-up events.
	SignUps
	// MFAChallenges: MFA events plus sign-ins that performed an MFA step;
	// series attempts, successes, failures, and successRate (successes /
	// attempts, 0 without attempts). Group by DimMFAMethod for per-method
	// usage, or DimMFAResult for failure reasons.
	MFAChallenges
	// Summary: Entra's summary rows; grouped by app id and OS unless GroupBy
	// says otherwise; series activeUsers, authenticationRequests,
	// authenticationCompletions, smsMfaRequests, smsMfaCompletions,
	// voiceMfaRequests, voiceMfaCompletions. SMS challenges are those whose
	// MFA method is "Text message", "sms" or "SMS"; voice ones have a method
	// starting with "Phone call", "voice" or "Voice" ("Phone call approval
	// (Authentication phone)", "voiceMobile", "Voice call").
	Summary
	// MFAProtectedSignIns: successful sign-ins by authentication requirement;
	// series multiFactor (claim-satisfied MFA included) and singleFactor.
	MFAProtectedSignIns
	// PasswordlessSignIns: successful sign-ins by primary method; series
	// passwordless (PasswordlessMethods) and other.
	PasswordlessSignIns
	// MFAPolicyPrompts: MFA challenges (as MFAChallenges counts them) per
	// policy that required MFA, from the event log; series attempts,
	// successes, failures. Row.Groups starts with the policy name ("" for
	// challenges no policy was recorded for), then the GroupBy values; a
	// challenge required by two policies counts under both.
	MFAPolicyPrompts
	// ConditionalAccessPolicies: sign-ins per applied conditional-access
	// policy and its result, from the event log. Row.Groups starts with the
	// policy name and the result, then the GroupBy values. Sign-ins by
	// overall CA status are Authentications grouped by DimConditionalAccess;
	// by risk, grouped by DimRiskLevel or DimRiskState.
	ConditionalAccessPolicies
	// Registrations: authentication-method registration events (registered
	// and removed; imported snapshots excluded); series attempts,
	// successes, failures. Group by DimMethod, DimAction or DimReason.
	Registrations
	// Resets: self-service password resets and account unlocks; series
	// attempts, successes, failures. Group by DimAction (password resets
	// against account unlocks), DimMethod or DimReason.
	Resets
	// RiskDetections: risk detections (SPEC §9, Engine.Detections) by the
	// day of their detection time. Row.Groups starts with the detection
	// type and level, then the GroupBy values. The filter and GroupBy
	// apply to the event that made the rule fire (the one at the
	// detection time).
	RiskDetections
	// RiskyUsers: users by risk level and state as of each bucket's end
	// (the clock's present for the current bucket), as Engine.RiskyUsers
	// lists them. Row.Groups starts with the level and the state, then the
	// GroupBy values. With a filter or GroupBy, a user counts in a group
	// by the detections whose firing event matches the filter and has the
	// group's values, and only if they have one in the window; decisions
	// and remedies apply whatever the filter.
	RiskyUsers
)

// lastMetric is the last Metric.
const lastMetric = RiskyUsers

var metricNames = []string{"", "activeUsers", "signingInUsers", "newUsers", "returningUsers",
	"rollingActiveUsers", "inactiveUsers", "neverActiveUsers", "totalUsers", "stickiness",
	"lifecycle", "retention", "authentications", "requests", "signUps", "mfaChallenges", "summary",
	"mfaProtectedSignIns", "passwordlessSignIns", "mfaPolicyPrompts", "conditionalAccessPolicies",
	"registrations", "resets", "riskDetections", "riskyUsers"}

func (m Metric) String() string { return enumName(metricNames, int(m)) }

// ParseMetric returns the Metric whose String is s.
func ParseMetric(s string) (Metric, error) {
	for i, n := range metricNames {
		if i > 0 && n == s {
			return Metric(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown metric %q", ErrInvalidQuery, s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Metric) MarshalText() ([]byte, error) {
	if m < ActiveUsers || m > lastMetric {
		return nil, fmt.Errorf("%w: metric %d is outside its set", ErrInvalidQuery, m)
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Metric) UnmarshalText(b []byte) error {
	v, err := ParseMetric(string(b))
	*m = v
	return err
}

// Metrics returns every metric, in order.
func Metrics() []Metric {
	ms := make([]Metric, 0, int(lastMetric))
	for m := ActiveUsers; m <= lastMetric; m++ {
		ms = append(ms, m)
	}
	return ms
}

// perUser reports whether m reads the per-user days (first activity,
// joined, deletion) of every user, not only the deleted users' (loadUsers).
func (m Metric) perUser() bool {
	switch m {
	case NewUsers, ReturningUsers, NeverActiveUsers, TotalUsers, Lifecycle, Retention:
		return true
	}
	return false
}

// userSetMetric reports whether m's rows are user sets (listable by Users).
func (m Metric) userSetMetric() bool { return m >= ActiveUsers && m <= Retention && m != Stickiness }

// Query asks for one metric over a range of dates. It is a plain value:
// build it as a literal, marshal it to JSON and back.
type Query struct {
	Metric      Metric      `json:"metric"`
	From        Date        `json:"from"`                  // first date, inclusive
	To          Date        `json:"to"`                    // last date, exclusive
	Granularity Granularity `json:"granularity"`           // zero value: Day
	WeekStart   int         `json:"weekStart,omitempty"`   // ISO weekday weeks start on: 1 Monday (also 0) to 7 Sunday
	Filter      Filter      `json:"filter"`                // zero value: every event
	GroupBy     []Dimension `json:"groupBy,omitempty"`     // indexed dimensions; a user counts in every group they are active in
	Top         int         `json:"top,omitempty"`         // keep the Top largest groups per bucket; 0 keeps all
	Other       bool        `json:"other,omitempty"`       // with Top, add an "(other)" row for the rest
	Approximate bool        `json:"approximate,omitempty"` // answer user metrics from HyperLogLog sketches
	Days        int         `json:"days,omitempty"`        // N of N-day metrics (rolling, inactive, stickiness)
}

// Limits on a Query.
const (
	MaxRangeDays = 100 * 366 // longest range
	MaxGroupBy   = 4         // most group-by dimensions
	MaxDays      = 100 * 366 // largest Days
)

// OtherGroup is the group value of the Top "(other)" row, and of dimension
// values past a dictionary's cap.
const OtherGroup = "(other)"

// Result is a query's answer. The caller owns it.
type Result struct {
	Query         Query    `json:"query"`
	Zone          string   `json:"zone"`                    // IANA zone of the store's dates
	Approximate   bool     `json:"approximate"`             // answered from sketches
	RelativeError float64  `json:"relativeError,omitempty"` // relative standard error when approximate
	Window        string   `json:"window"`                  // what each row's value covers, in words
	Warnings      []string `json:"warnings,omitempty"`
	Rows          []Row    `json:"rows"`
}

// MarshalJSON writes r with the json tags of Result and Row, except that
// Retention rows keep an offset of 0 (the cohort's own bucket, a real
// value), which other metrics, having no offset, leave out.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	if r.Query.Metric != Retention {
		return marshalJSON(plain(r))
	}
	type retentionRow struct {
		Start      Date     `json:"start"`
		End        Date     `json:"end"`
		Series     string   `json:"series,omitempty"`
		Offset     int      `json:"offset"`
		Groups     []string `json:"groups,omitempty"`
		Value      float64  `json:"value"`
		Partial    bool     `json:"partial,omitempty"`
		Incomplete bool     `json:"incomplete,omitempty"`
	}
	rows := make([]retentionRow, len(r.Rows))
	for i, row := range r.Rows {
		rows[i] = retentionRow(row)
	}
	return marshalJSON(struct {
		plain
		Rows []retentionRow `json:"rows"`
	}{plain(r), rows})
}

// marshalJSON is json.Marshal without escaping <, > and &: the encoder
// that called MarshalJSON escapes them if it was asked to.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Row is one value of a Result: a bucket, a series, a group.
type Row struct {
	Start      Date     `json:"start"`            // first date of the bucket (clipped to the range)
	End        Date     `json:"end"`              // first date after the bucket (clipped)
	Series     string   `json:"series,omitempty"` // for metrics with several series (lifecycle, authentications, ...)
	Offset     int      `json:"offset,omitempty"` // Retention: buckets after the cohort's
	Groups     []string `json:"groups,omitempty"` // group values, in GroupBy order
	Value      float64  `json:"value"`
	Partial    bool     `json:"partial,omitempty"`    // the bucket is cut by the range
	Incomplete bool     `json:"incomplete,omitempty"` // the bucket contains the clock's present (Retention: the bucket Offset after the cohort's)
}

// GroupNames names the values of q's rows' Groups, in order: the policy
// (and result) of MFAPolicyPrompts and ConditionalAccessPolicies, the type
// and level of RiskDetections, the level and state of RiskyUsers, then the
// GroupBy dimensions. For a Result, use its Query, whose GroupBy the engine
// filled (Summary's default).
func (q Query) GroupNames() []string {
	var names []string
	switch q.Metric {
	case MFAPolicyPrompts:
		names = []string{"policy"}
	case ConditionalAccessPolicies:
		names = []string{"policy", "result"}
	case RiskDetections:
		names = []string{"detectionType", "detectionLevel"}
	case RiskyUsers:
		names = []string{"riskLevel", "riskState"}
	}
	for _, d := range q.GroupBy {
		names = append(names, d.String())
	}
	return names
}

// validate checks q and fills its defaults.
func (q *Query) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidQuery, fmt.Sprintf(format, args...))
	}
	switch {
	case q.Metric < ActiveUsers || q.Metric > lastMetric:
		return bad("metric %d is outside its set", q.Metric)
	case q.From.IsZero() || q.To.IsZero():
		return bad("from and to are required")
	case q.From != NewDate(q.From.Year, q.From.Month, q.From.Day) || q.To != NewDate(q.To.Year, q.To.Month, q.To.Day):
		return bad("from %v or to %v is not a calendar date", q.From, q.To)
	case !q.From.Before(q.To):
		return bad("from %s is not before to %s", q.From, q.To)
	case q.From.Year < 1900 || q.To.Year > 9999 || q.To.num()-q.From.num() > MaxRangeDays:
		return bad("range %s to %s is longer than %d days or out of years 1900-9999", q.From, q.To, MaxRangeDays)
	case q.Granularity > Total:
		return bad("granularity %d is outside its set", q.Granularity)
	case q.WeekStart < 0 || q.WeekStart > 7:
		return bad("weekStart %d is not an ISO weekday 1-7", q.WeekStart)
	case len(q.GroupBy) > MaxGroupBy:
		return bad("groupBy has %d dimensions, at most %d", len(q.GroupBy), MaxGroupBy)
	case q.Top < 0:
		return bad("top %d is negative", q.Top)
	case q.Other && q.Top == 0:
		return bad("other needs top")
	case q.Other && q.Metric == Stickiness:
		return bad("stickiness has no (other) row: a ratio of unions is not a sum of ratios")
	case q.Days < 0 || q.Days > MaxDays:
		return bad("days %d is outside 0-%d", q.Days, MaxDays)
	}
	switch q.Metric {
	case RollingActiveUsers, Stickiness:
		if q.Days == 0 {
			return bad("%s needs days > 0", q.Metric)
		}
	}
	for i, d := range q.GroupBy {
		if !d.Indexed() {
			return bad("groupBy[%d]: %s is not an indexed dimension", i, d)
		}
		for _, e := range q.GroupBy[:i] {
			if e == d {
				return bad("groupBy[%d]: %s given twice", i, d)
			}
		}
	}
	if err := q.Filter.validate(); err != nil {
		return err
	}
	if q.WeekStart == 0 {
		q.WeekStart = 1
	}
	return nil
}
