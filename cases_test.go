package insights_test

// Hand-checked cases: every expected number below was worked out by hand
// from the definitions of SPEC §2-6 and §10, never copied from the engine.
// Dates are in 2025 unless said otherwise; 3 March 2025 is a Monday.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// clock is the default present of the cases: after every event they add,
// so that no bucket they query is incomplete unless a case says so.
var clock = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// date is insights.NewDate, short.
func date(y int, m time.Month, d int) insights.Date { return insights.NewDate(y, m, d) }

// utc is an instant of 2025 in UTC.
func utc(m time.Month, d, hh, mm int) time.Time { return time.Date(2025, m, d, hh, mm, 0, 0, time.UTC) }

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

// newEngine opens an engine on a fresh memory store; the clock defaults
// to clock. The engine is closed when the test ends.
func newEngine(t testing.TB, opts *insights.Options) *insights.Engine {
	t.Helper()
	var o insights.Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = fixed(clock)
	}
	e, err := insights.Open(context.Background(), store.NewMemory(), &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func add(t testing.TB, e *insights.Engine, evs ...insights.Event) {
	t.Helper()
	if err := e.Add(context.Background(), evs...); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

func query(t testing.TB, e *insights.Engine, q insights.Query) *insights.Result {
	t.Helper()
	res, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query %+v: %v", q, err)
	}
	return res
}

// Event builders. A sign-in without Status and with ErrorCode 0 is a
// success (SPEC §10); without SignInType it is an interactive user sign-in.
func signIn(user string, at time.Time) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: user}
}

func signInApp(user string, at time.Time, app, os string) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: user, AppID: app, OS: os}
}

func failedSignIn(user string, at time.Time, code int) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: user, ErrorCode: code}
}

func signUp(user string, at time.Time) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindSignUp, UserKey: user}
}

func userCreated(user string, at time.Time) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindUserCreated, UserKey: user}
}

func userDeleted(user string, at time.Time) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindUserDeleted, UserKey: user}
}

// rowKey names a row in the expectations: its bucket start, then its
// series, group values in brackets and retention offset when it has them:
// "2025-03-03", "2025-03-03 attempts", "2025-03-03 [A]", "2025-03-03 +1".
func rowKey(r insights.Row) string {
	k := r.Start.String()
	if r.Series != "" {
		k += " " + r.Series
	}
	if len(r.Groups) > 0 {
		k += " [" + strings.Join(r.Groups, "|") + "]"
	}
	if r.Offset != 0 {
		k += fmt.Sprintf(" +%d", r.Offset)
	}
	return k
}

// checkRows compares a result with expectations by row key. A row that is
// not expected must be 0 (absent and zero rows are the same answer); an
// expected non-zero row must be present; no key may appear twice.
func checkRows(t testing.TB, res *insights.Result, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	for _, r := range res.Rows {
		k := rowKey(r)
		if _, dup := got[k]; dup {
			t.Errorf("row %q appears twice", k)
		}
		got[k] = r.Value
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok && w != 0 {
			t.Errorf("row %q: missing, want %v", k, w)
			continue
		}
		if math.Abs(g-w) > 1e-9 {
			t.Errorf("row %q = %v, want %v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			t.Errorf("row %q = %v, not expected (want 0 or no row)", k, g)
		}
	}
	if t.Failed() {
		t.Logf("rows: %s", dumpRows(res))
	}
}

func dumpRows(res *insights.Result) string {
	var b strings.Builder
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "\n  %s..%s %q %v +%d = %v partial=%t incomplete=%t",
			r.Start, r.End, r.Series, r.Groups, r.Offset, r.Value, r.Partial, r.Incomplete)
	}
	return b.String()
}

// userLists returns the users of each row of q, by row key, sorted.
func userLists(t testing.TB, e *insights.Engine, q insights.Query) map[string][]string {
	t.Helper()
	c, err := e.Users(context.Background(), q)
	if err != nil {
		t.Fatalf("Users %+v: %v", q, err)
	}
	out := map[string][]string{}
	for c.Next() {
		u := c.User()
		k := rowKey(insights.Row{Start: u.Start, Series: u.Series, Groups: u.Groups, Offset: u.Offset})
		out[k] = append(out[k], u.UserKey)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Users cursor: %v", err)
	}
	for _, l := range out {
		sort.Strings(l)
	}
	return out
}

// workedExample is the worked example of SPEC §4 (UTC): u1 signs in
// successfully on Mon 3 and Tue 4 March; u2 signs up on Tue 4 and fails a
// sign-in on Wed 5; u3's only event is a failed sign-in on Mon 3.
func workedExample() []insights.Event {
	return []insights.Event{
		signIn("u1", utc(3, 3, 9, 0)),
		failedSignIn("u3", utc(3, 3, 10, 0), 50126),
		signIn("u1", utc(3, 4, 9, 0)),
		signUp("u2", utc(3, 4, 11, 0)),
		failedSignIn("u2", utc(3, 5, 8, 0), 50126),
	}
}

// filterDay: user X uses app A on Windows and app B on iOS the same day;
// user Y uses app A with no OS reported.
func filterDay() []insights.Event {
	return []insights.Event{
		signInApp("X", utc(3, 10, 9, 0), "A", "Windows"),
		signInApp("X", utc(3, 10, 10, 0), "B", "iOS"),
		signInApp("Y", utc(3, 10, 11, 0), "A", ""),
	}
}

// appDay, 10 March: app A is used by u1-u4, B by u1 u5 u6, E by u8 u9 u10,
// C by u1 u7, D by u7; one successful sign-in per (user, app). Distinct
// users: u1-u10.
func appDay() []insights.Event {
	uses := []struct {
		app   string
		users []string
	}{
		{"A", []string{"u1", "u2", "u3", "u4"}},
		{"B", []string{"u1", "u5", "u6"}},
		{"C", []string{"u1", "u7"}},
		{"D", []string{"u7"}},
		{"E", []string{"u8", "u9", "u10"}},
	}
	var evs []insights.Event
	for _, u := range uses {
		for _, user := range u.users {
			evs = append(evs, signInApp(user, utc(3, 10, 12, 0), u.app, ""))
		}
	}
	return evs
}

// mfaDay, 10 March:
//   - u1 signs in to portal on iOS with a password, then a text message
//     (a multi-factor step it performed): an SMS challenge, succeeded;
//   - u2 signs in to portal on iOS with MFA satisfied by an earlier claim:
//     multi-factor, but no challenge;
//   - u3 fails to sign in to portal on iOS with 500121: the app notification
//     step was declined, an MFA failure mfaDenied, a sign-in failure denied;
//   - u4 reports an MFA event by phone call, succeeded (no app, no OS);
//   - u5 signs in to mail on Windows with a password only.
func mfaDay() []insights.Event {
	at := utc(3, 10, 9, 0)
	pw := insights.AuthStep{Time: at, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}
	return []insights.Event{
		{Time: at, Kind: insights.KindSignIn, UserKey: "u1", AppID: "portal", OS: "iOS", AuthDetails: []insights.AuthStep{
			pw, {Time: at, Method: "Text message", Succeeded: true, Requirement: insights.RequirementMultiFactor}}},
		{Time: at, Kind: insights.KindSignIn, UserKey: "u2", AppID: "portal", OS: "iOS", AuthDetails: []insights.AuthStep{
			pw, {Time: at, Method: insights.MethodPreviouslySatisfied, Succeeded: true, Requirement: insights.RequirementMultiFactor}}},
		{Time: at, Kind: insights.KindSignIn, UserKey: "u3", AppID: "portal", OS: "iOS", ErrorCode: 500121,
			AuthDetails: []insights.AuthStep{pw, {Time: at, Method: "Mobile app notification", Succeeded: false,
				ResultDetail: "MFA denied; user declined the authentication", Requirement: insights.RequirementMultiFactor}}},
		{Time: at, Kind: insights.KindMFA, UserKey: "u4", MFAMethod: "Phone call"},
		{Time: at, Kind: insights.KindSignIn, UserKey: "u5", AppID: "mail", OS: "Windows",
			AuthDetails: []insights.AuthStep{pw}},
	}
}

// TestQueryCases runs table cases: events added in batches, one query,
// the expected rows by key.
func TestQueryCases(t *testing.T) {
	t.Parallel()
	ny := mustZone(t, "America/New_York")
	paris := mustZone(t, "Europe/Paris")
	havana := mustZone(t, "America/Havana")
	havanaMar9 := time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC) // first instant of 9 March in Havana (01:00 CDT)

	day := func(m time.Month, from, to int, metric insights.Metric) insights.Query {
		return insights.Query{Metric: metric, From: date(2025, m, from), To: date(2025, m, to)}
	}
	with := func(q insights.Query, f func(*insights.Query)) insights.Query { f(&q); return q }

	cases := []struct {
		name    string
		zone    string
		batches [][]insights.Event
		q       insights.Query
		want    map[string]float64
	}{
		// SPEC §4 worked example: every number it gives, and a few more.
		{
			name:    "worked example: DAU Mon 1, Tue 2, Wed 0",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-03": 1, "2025-03-04": 2, "2025-03-05": 0},
		},
		{
			name:    "worked example: WAU Mon 3-Sun 9 is 2",
			batches: [][]insights.Event{workedExample()},
			q:       with(day(3, 3, 10, insights.ActiveUsers), func(q *insights.Query) { q.Granularity = insights.Week }),
			want:    map[string]float64{"2025-03-03": 2},
		},
		{
			name:    "worked example: new users Mon 1 (u1), Tue 1 (u2), Wed 0",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.NewUsers),
			want:    map[string]float64{"2025-03-03": 1, "2025-03-04": 1, "2025-03-05": 0},
		},
		{
			name:    "worked example: returning users Tue 1 (u1)",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.ReturningUsers),
			want:    map[string]float64{"2025-03-03": 0, "2025-03-04": 1, "2025-03-05": 0},
		},
		{
			name:    "worked example: inactive 1 day as of Wed is 2",
			batches: [][]insights.Event{workedExample()},
			q:       with(day(3, 3, 6, insights.InactiveUsers), func(q *insights.Query) { q.Days = 1 }),
			want:    map[string]float64{"2025-03-03": 0, "2025-03-04": 0, "2025-03-05": 2},
		},
		{
			name:    "worked example: signing-in users Mon 2 (u1 u3), Tue 1 (u1), Wed 1 (u2)",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.SigningInUsers),
			want:    map[string]float64{"2025-03-03": 2, "2025-03-04": 1, "2025-03-05": 1},
		},
		{
			name:    "worked example: u3 is not a user: total users 1, 2, 2",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.TotalUsers),
			want:    map[string]float64{"2025-03-03": 1, "2025-03-04": 2, "2025-03-05": 2},
		},
		{
			name:    "worked example: u3 is not never-active (no user-created event)",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.NeverActiveUsers),
			want:    map[string]float64{"2025-03-03": 0, "2025-03-04": 0, "2025-03-05": 0},
		},
		{
			name:    "worked example: authentications",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.Authentications),
			want: map[string]float64{
				"2025-03-03 attempts": 2, "2025-03-03 successes": 1, "2025-03-03 failures": 1, "2025-03-03 interrupts": 0,
				"2025-03-04 attempts": 1, "2025-03-04 successes": 1, "2025-03-04 failures": 0, "2025-03-04 interrupts": 0,
				"2025-03-05 attempts": 1, "2025-03-05 successes": 0, "2025-03-05 failures": 1, "2025-03-05 interrupts": 0,
			},
		},
		{
			name:    "worked example: requests count every event",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.Requests),
			want:    map[string]float64{"2025-03-03": 2, "2025-03-04": 2, "2025-03-05": 1},
		},
		{
			name:    "worked example: sign-ups",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.SignUps),
			want:    map[string]float64{"2025-03-03": 0, "2025-03-04": 1, "2025-03-05": 0},
		},
		{
			name:    "worked example: 7-day active users as of each day",
			batches: [][]insights.Event{workedExample()},
			q:       with(day(3, 3, 6, insights.RollingActiveUsers), func(q *insights.Query) { q.Days = 7 }),
			want:    map[string]float64{"2025-03-03": 1, "2025-03-04": 2, "2025-03-05": 2},
		},
		{
			name:    "worked example: stickiness DAU / 7-day active",
			batches: [][]insights.Event{workedExample()},
			q:       with(day(3, 3, 6, insights.Stickiness), func(q *insights.Query) { q.Days = 7 }),
			want:    map[string]float64{"2025-03-03": 1, "2025-03-04": 1, "2025-03-05": 0},
		},
		{
			name:    "worked example: lifecycle per day",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 4, 6, insights.Lifecycle),
			want: map[string]float64{
				// Tue: u2 new; u1 active Mon and Tue returns.
				"2025-03-04 new": 1, "2025-03-04 returning": 1, "2025-03-04 resurrecting": 0, "2025-03-04 dormant": 0,
				// Wed: nobody active; u1 and u2 were active Tue.
				"2025-03-05 new": 0, "2025-03-05 returning": 0, "2025-03-05 resurrecting": 0, "2025-03-05 dormant": 2,
			},
		},
		{
			name:    "worked example: retention of daily cohorts",
			batches: [][]insights.Event{workedExample()},
			q:       day(3, 3, 6, insights.Retention),
			want: map[string]float64{
				"2025-03-03": 1, "2025-03-03 +1": 1, "2025-03-03 +2": 0, // cohort {u1}
				"2025-03-04": 1, "2025-03-04 +1": 0, // cohort {u2}
				"2025-03-05": 0, // empty cohort
			},
		},
		{
			name:    "worked example: a status filter gives 0 active users",
			batches: [][]insights.Event{workedExample()},
			q: with(day(3, 3, 6, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimStatus, "failure")
			}),
			want: map[string]float64{"2025-03-03": 0, "2025-03-04": 0, "2025-03-05": 0},
		},
		{
			name:    "worked example: signing-in users with status failure: Mon u3, Wed u2",
			batches: [][]insights.Event{workedExample()},
			q: with(day(3, 3, 6, insights.SigningInUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimStatus, "failure")
			}),
			want: map[string]float64{"2025-03-03": 1, "2025-03-04": 0, "2025-03-05": 1},
		},
		{
			name:    "week starting Sunday cuts the range into partial weeks",
			batches: [][]insights.Event{workedExample()},
			q: with(day(3, 3, 10, insights.ActiveUsers), func(q *insights.Query) {
				q.Granularity, q.WeekStart = insights.Week, 7
			}),
			// Weeks Sun 2-Sat 8 (u1 u2) and Sun 9-Sat 15 (nobody), both cut.
			want: map[string]float64{"2025-03-03": 2, "2025-03-09": 0},
		},

		// Counting.
		{
			name:    "two sign-ins the same day count once in DAU",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(3, 10, 17, 0))}},
			q:       day(3, 9, 12, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-09": 0, "2025-03-10": 1, "2025-03-11": 0},
		},
		{
			name:    "two sign-ins the same day count once in MAU",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(3, 10, 17, 0))}},
			q:       with(insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 4, 1)}, func(q *insights.Query) { q.Granularity = insights.Month }),
			want:    map[string]float64{"2025-03-01": 1},
		},
		{
			name:    "a sign-in the next day gives DAU 1 on each day",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(3, 11, 8, 0))}},
			q:       day(3, 10, 12, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-10": 1, "2025-03-11": 1},
		},
		{
			name:    "a sign-in the next day gives MAU 1",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(3, 11, 8, 0))}},
			q:       with(insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 4, 1)}, func(q *insights.Query) { q.Granularity = insights.Month }),
			want:    map[string]float64{"2025-03-01": 1},
		},
		{
			name: "a sign-in 32 days later falls into a new month",
			// 10 March + 32 days = 11 April.
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(3, 10, 8, 0).AddDate(0, 0, 32))}},
			q:       insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 5, 1), Granularity: insights.Month},
			want:    map[string]float64{"2025-03-01": 1, "2025-04-01": 1},
		},
		{
			name:    "a sign-in 32 days later: new in March, returning in April",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(4, 11, 8, 0))}},
			q:       insights.Query{Metric: insights.NewUsers, From: date(2025, 3, 1), To: date(2025, 5, 1), Granularity: insights.Month},
			want:    map[string]float64{"2025-03-01": 1, "2025-04-01": 0},
		},
		{
			name:    "a sign-in 32 days later: one user over the whole range",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u1", utc(4, 11, 8, 0))}},
			q:       insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 5, 1), Granularity: insights.Total},
			want:    map[string]float64{"2025-03-01": 1},
		},
		{
			name:    "calendar-month inactive: active in March, not in April",
			batches: [][]insights.Event{{signIn("u1", utc(3, 10, 8, 0)), signIn("u2", utc(3, 11, 8, 0)), signIn("u2", utc(4, 11, 8, 0))}},
			q:       insights.Query{Metric: insights.InactiveUsers, From: date(2025, 4, 1), To: date(2025, 5, 1), Granularity: insights.Month},
			want:    map[string]float64{"2025-04-01": 1},
		},

		// Days in zones.
		{
			name: "New York 23-hour day: 00:30 and 23:30 local land on 9 March",
			zone: "America/New_York",
			batches: [][]insights.Event{{
				signIn("early", time.Date(2025, 3, 9, 0, 30, 0, 0, ny)),
				signIn("late", time.Date(2025, 3, 9, 23, 30, 0, 0, ny)), // 03:30 UTC on 10 March
				signIn("before", time.Date(2025, 3, 8, 23, 30, 0, 0, ny)),
				signIn("after", time.Date(2025, 3, 10, 0, 30, 0, 0, ny)),
			}},
			q:    day(3, 8, 11, insights.ActiveUsers),
			want: map[string]float64{"2025-03-08": 1, "2025-03-09": 2, "2025-03-10": 1},
		},
		{
			name: "New York 25-hour day: 00:30 and 23:30 local land on 2 November",
			zone: "America/New_York",
			batches: [][]insights.Event{{
				signIn("early", time.Date(2025, 11, 2, 0, 30, 0, 0, ny)),
				signIn("late", time.Date(2025, 11, 2, 23, 30, 0, 0, ny)), // 04:30 UTC on 3 November
				// 01:30 happens twice; the second one (EST) is 06:30 UTC, still 2 November.
				signIn("repeat", time.Date(2025, 11, 2, 6, 30, 0, 0, time.UTC)),
				signIn("before", time.Date(2025, 11, 1, 23, 30, 0, 0, ny)),
				signIn("after", time.Date(2025, 11, 3, 0, 30, 0, 0, ny)),
			}},
			q:    day(11, 1, 4, insights.ActiveUsers),
			want: map[string]float64{"2025-11-01": 1, "2025-11-02": 3, "2025-11-03": 1},
		},
		{
			name: "Havana: the first instant of 9 March (01:00) and the instant before it",
			zone: "America/Havana",
			batches: [][]insights.Event{{
				signIn("first", havanaMar9),
				signIn("lastOfThe8th", havanaMar9.Add(-time.Nanosecond)),
				signIn("midday", time.Date(2025, 3, 9, 12, 0, 0, 0, havana)),
			}},
			q:    day(3, 8, 10, insights.ActiveUsers),
			want: map[string]float64{"2025-03-08": 1, "2025-03-09": 2},
		},
		{
			name: "an event 1 ns before local midnight counts in that day",
			zone: "Europe/Paris",
			batches: [][]insights.Event{{
				signIn("u1", time.Date(2025, 3, 10, 0, 0, 0, 0, paris).Add(-time.Nanosecond)),
				signIn("u2", time.Date(2025, 3, 10, 0, 0, 0, 0, paris)),
			}},
			q:    day(3, 9, 11, insights.ActiveUsers),
			want: map[string]float64{"2025-03-09": 1, "2025-03-10": 1},
		},
		{
			name: "an event 1 ns before UTC midnight counts in that day",
			batches: [][]insights.Event{{
				signIn("u1", time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)),
			}},
			q:    day(3, 9, 11, insights.ActiveUsers),
			want: map[string]float64{"2025-03-09": 1, "2025-03-10": 0},
		},

		// Month ends and 29 February.
		{
			name: "29 February 2024 is its own day",
			batches: [][]insights.Event{{
				signIn("u1", time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC)),
				signIn("u2", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)),
			}},
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2024, 2, 28), To: date(2024, 3, 2)},
			want: map[string]float64{"2024-02-28": 0, "2024-02-29": 1, "2024-03-01": 1},
		},
		{
			name: "month buckets across 31 January and 29 February 2024, range cut on both ends",
			batches: [][]insights.Event{{
				signIn("jan", time.Date(2024, 1, 31, 23, 59, 59, 0, time.UTC)),
				signIn("feb", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)),
				signIn("mar", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)),
				signIn("early", time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)), // before From
				signIn("late", time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)),  // at To: excluded
			}},
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2024, 1, 15), To: date(2024, 3, 10), Granularity: insights.Month},
			want: map[string]float64{"2024-01-15": 1, "2024-02-01": 1, "2024-03-01": 1},
		},

		// Event-level filters (SPEC §4).
		{
			name:    "app A on Windows and app B on iOS is not And(app A, iOS)",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.And(insights.Eq(insights.DimAppID, "A"), insights.Eq(insights.DimOS, "iOS"))
			}),
			want: map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "And(app A, Windows) is X",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.And(insights.Eq(insights.DimAppID, "A"), insights.Eq(insights.DimOS, "Windows"))
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "Or(app A, iOS) is X and Y",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Or(insights.Eq(insights.DimAppID, "A"), insights.Eq(insights.DimOS, "iOS"))
			}),
			want: map[string]float64{"2025-03-10": 2},
		},
		{
			name:    "Or(And(app A, iOS), And(app B, iOS)) is X through app B",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Or(
					insights.And(insights.Eq(insights.DimAppID, "A"), insights.Eq(insights.DimOS, "iOS")),
					insights.And(insights.Eq(insights.DimAppID, "B"), insights.Eq(insights.DimOS, "iOS")))
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "In(os, iOS, Android) is X",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.In(insights.DimOS, "iOS", "Android")
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "In(os) with no values matches nothing",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.In(insights.DimOS)
			}),
			want: map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "Not(os = iOS) matches X's Windows event and Y's event with no OS",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Not(insights.Eq(insights.DimOS, "iOS"))
			}),
			want: map[string]float64{"2025-03-10": 2},
		},
		{
			name:    "And(app A, Not(os = Windows)) is Y",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.And(insights.Eq(insights.DimAppID, "A"), insights.Not(insights.Eq(insights.DimOS, "Windows")))
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "Not(In(app, A, B)) matches nobody",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Not(insights.In(insights.DimAppID, "A", "B"))
			}),
			want: map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "a missing OS is the empty string, an ordinary value",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimOS, "")
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "matching is case-sensitive",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimOS, "ios")
			}),
			want: map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "prefix on a text dimension",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Prefix(insights.DimOS, "Win")
			}),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name: "OS family is derived at ingest: Windows10, Windows 10 and Windows",
			batches: [][]insights.Event{{
				signInApp("a", utc(3, 10, 9, 0), "A", "Windows10"),
				signInApp("b", utc(3, 10, 9, 0), "A", "Windows 10"),
				signInApp("c", utc(3, 10, 9, 0), "A", "Windows"),
				signInApp("d", utc(3, 10, 9, 0), "A", "Mac OS X"),
			}},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimOSFamily, "Windows")
			}),
			want: map[string]float64{"2025-03-10": 3},
		},
		{
			name: "countries are upper-cased at ingest",
			batches: [][]insights.Event{{
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "a", Country: "fr"},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "b", Country: "FR"},
			}},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.Eq(insights.DimCountry, "FR")
			}),
			want: map[string]float64{"2025-03-10": 2},
		},
		{
			name:    "the zero filter and And() match every event",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.Filter = insights.And()
			}),
			want: map[string]float64{"2025-03-10": 2},
		},
		{
			name:    "Or() matches nothing",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.Requests), func(q *insights.Query) {
				q.Filter = insights.Or()
			}),
			want: map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "event metrics filter event by event: requests of And(app A, Not(os = Windows))",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.Requests), func(q *insights.Query) {
				q.Filter = insights.And(insights.Eq(insights.DimAppID, "A"), insights.Not(insights.Eq(insights.DimOS, "Windows")))
			}),
			want: map[string]float64{"2025-03-10": 1},
		},

		// Activity.
		{
			name:    "a failed sign-in alone does not make a user active",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50126)}},
			q:       day(3, 10, 11, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "a failed sign-in alone counts in signing-in users",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50126)}},
			q:       day(3, 10, 11, insights.SigningInUsers),
			want:    map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "a failed sign-in alone counts in authentications failures",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50126)}},
			q:       day(3, 10, 11, insights.Authentications),
			want: map[string]float64{"2025-03-10 attempts": 1, "2025-03-10 successes": 0,
				"2025-03-10 failures": 1, "2025-03-10 interrupts": 0},
		},
		{
			name:    "a failed sign-in alone makes no new or total user",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50126)}},
			q:       day(3, 10, 11, insights.TotalUsers),
			want:    map[string]float64{"2025-03-10": 0},
		},
		{
			name: "an interrupted sign-in followed by a success is two attempts and one active user",
			batches: [][]insights.Event{{
				failedSignIn("u1", utc(3, 10, 9, 0), 50074),
				signIn("u1", utc(3, 10, 9, 1)),
			}},
			q: day(3, 10, 11, insights.Authentications),
			want: map[string]float64{"2025-03-10 attempts": 2, "2025-03-10 successes": 1,
				"2025-03-10 failures": 0, "2025-03-10 interrupts": 1},
		},
		{
			name: "non-interactive user sign-ins are activity, service principals never users",
			batches: [][]insights.Event{{
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", SignInType: insights.SignInNonInteractiveUser},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, PrincipalID: "sp1", SignInType: insights.SignInServicePrincipal},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, PrincipalID: "mi1", SignInType: insights.SignInManagedIdentity},
			}},
			q:    day(3, 10, 11, insights.ActiveUsers),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name: "authentications count sign-ins of every type",
			batches: [][]insights.Event{{
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", SignInType: insights.SignInNonInteractiveUser},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, PrincipalID: "sp1", SignInType: insights.SignInServicePrincipal},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, PrincipalID: "mi1", SignInType: insights.SignInManagedIdentity},
				signUp("u2", utc(3, 10, 9, 0)), // not a sign-in
			}},
			q: day(3, 10, 11, insights.Authentications),
			want: map[string]float64{"2025-03-10 attempts": 3, "2025-03-10 successes": 3,
				"2025-03-10 failures": 0, "2025-03-10 interrupts": 0},
		},
		{
			name: "a created user with no activity is never-active and a total user",
			batches: [][]insights.Event{{
				userCreated("c1", utc(3, 10, 9, 0)),
				userCreated("c2", utc(3, 10, 9, 0)),
				signIn("c2", utc(3, 11, 9, 0)),
			}},
			q:    day(3, 10, 12, insights.NeverActiveUsers),
			want: map[string]float64{"2025-03-10": 2, "2025-03-11": 1},
		},
		{
			name: "total users count created users and active users",
			batches: [][]insights.Event{{
				userCreated("c1", utc(3, 10, 9, 0)),
				userCreated("c2", utc(3, 10, 9, 0)),
				signIn("c2", utc(3, 11, 9, 0)),
				signIn("s3", utc(3, 11, 9, 0)),
			}},
			q:    day(3, 9, 12, insights.TotalUsers),
			want: map[string]float64{"2025-03-09": 0, "2025-03-10": 2, "2025-03-11": 3},
		},

		// Duplicates.
		{
			name: "request-id duplicates count once, events without request id always count",
			batches: [][]insights.Event{
				{
					{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", RequestID: "r1"},
					{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", RequestID: "r1"},
					{Time: utc(3, 10, 9, 5), Kind: insights.KindSignIn, UserKey: "u2"},
					{Time: utc(3, 10, 9, 5), Kind: insights.KindSignIn, UserKey: "u2"},
					{Time: utc(3, 10, 9, 7), Kind: insights.KindSignIn, UserKey: "u3", RequestID: "r2"},
				},
				{
					// A later copy of r1 and a copy of r2 reporting a failure: the first copy wins.
					{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", RequestID: "r1"},
					{Time: utc(3, 10, 9, 7), Kind: insights.KindSignIn, UserKey: "u3", RequestID: "r2", ErrorCode: 50126},
				},
			},
			q: day(3, 10, 11, insights.Authentications),
			want: map[string]float64{"2025-03-10 attempts": 4, "2025-03-10 successes": 4,
				"2025-03-10 failures": 0, "2025-03-10 interrupts": 0},
		},
		{
			name: "request-id duplicates: requests count once",
			batches: [][]insights.Event{
				{
					{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", RequestID: "r1"},
					{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u1", RequestID: "r1"},
					{Time: utc(3, 10, 9, 5), Kind: insights.KindSignIn, UserKey: "u2"},
					{Time: utc(3, 10, 9, 5), Kind: insights.KindSignIn, UserKey: "u2"},
				},
			},
			q:    day(3, 10, 11, insights.Requests),
			want: map[string]float64{"2025-03-10": 3},
		},

		// Group-by and Top N.
		{
			name:    "group-by app: groups overlap (13 memberships, 10 users)",
			batches: [][]insights.Event{appDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.GroupBy = []insights.Dimension{insights.DimAppID}
			}),
			want: map[string]float64{"2025-03-10 [A]": 4, "2025-03-10 [B]": 3, "2025-03-10 [C]": 2,
				"2025-03-10 [D]": 1, "2025-03-10 [E]": 3},
		},
		{
			name:    "group-by app: ungrouped the same day is 10 distinct users",
			batches: [][]insights.Event{appDay()},
			q:       day(3, 10, 11, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-10": 10},
		},
		{
			name:    "group-by app and OS family under a filter",
			batches: [][]insights.Event{filterDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.GroupBy = []insights.Dimension{insights.DimAppID, insights.DimOSFamily}
				q.Filter = insights.Not(insights.Eq(insights.DimOSFamily, "Windows"))
			}),
			want: map[string]float64{"2025-03-10 [B|iOS]": 1, "2025-03-10 [A|]": 1},
		},
		{
			name:    "top 2 with other: (other) is the distinct union of C, D and E",
			batches: [][]insights.Event{appDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.GroupBy, q.Top, q.Other = []insights.Dimension{insights.DimAppID}, 2, true
			}),
			// B and E tie at 3: ties go by group value, B first.
			// (other) = C ∪ D ∪ E = {u1, u7, u8, u9, u10}.
			want: map[string]float64{"2025-03-10 [A]": 4, "2025-03-10 [B]": 3, "2025-03-10 [(other)]": 5},
		},
		{
			name:    "top 2 without other keeps two groups",
			batches: [][]insights.Event{appDay()},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) {
				q.GroupBy, q.Top = []insights.Dimension{insights.DimAppID}, 2
			}),
			want: map[string]float64{"2025-03-10 [A]": 4, "2025-03-10 [B]": 3},
		},
		{
			name:    "top 2 with other on an event metric: (other) is the sum",
			batches: [][]insights.Event{appDay()},
			q: with(day(3, 10, 11, insights.Requests), func(q *insights.Query) {
				q.GroupBy, q.Top, q.Other = []insights.Dimension{insights.DimAppID}, 2, true
			}),
			// Events: A 4, B 3, E 3, C 2, D 1; (other) = 3 + 2 + 1.
			want: map[string]float64{"2025-03-10 [A]": 4, "2025-03-10 [B]": 3, "2025-03-10 [(other)]": 6},
		},

		// New + returning = active under a filter.
		{
			name: "new users under app = A: new of the product who used A",
			batches: [][]insights.Event{{
				signInApp("u1", utc(3, 10, 9, 0), "B", ""), signInApp("u1", utc(3, 11, 9, 0), "A", ""),
				signInApp("u2", utc(3, 11, 9, 0), "A", ""),
				signInApp("u3", utc(3, 10, 9, 0), "A", ""), signInApp("u3", utc(3, 11, 9, 0), "A", ""),
			}},
			q:    with(day(3, 10, 12, insights.NewUsers), func(q *insights.Query) { q.Filter = insights.Eq(insights.DimAppID, "A") }),
			want: map[string]float64{"2025-03-10": 1, "2025-03-11": 1},
		},
		{
			name: "returning users under app = A",
			batches: [][]insights.Event{{
				signInApp("u1", utc(3, 10, 9, 0), "B", ""), signInApp("u1", utc(3, 11, 9, 0), "A", ""),
				signInApp("u2", utc(3, 11, 9, 0), "A", ""),
				signInApp("u3", utc(3, 10, 9, 0), "A", ""), signInApp("u3", utc(3, 11, 9, 0), "A", ""),
			}},
			q:    with(day(3, 10, 12, insights.ReturningUsers), func(q *insights.Query) { q.Filter = insights.Eq(insights.DimAppID, "A") }),
			want: map[string]float64{"2025-03-10": 0, "2025-03-11": 2},
		},
		{
			name: "active users under app = A (new + returning)",
			batches: [][]insights.Event{{
				signInApp("u1", utc(3, 10, 9, 0), "B", ""), signInApp("u1", utc(3, 11, 9, 0), "A", ""),
				signInApp("u2", utc(3, 11, 9, 0), "A", ""),
				signInApp("u3", utc(3, 10, 9, 0), "A", ""), signInApp("u3", utc(3, 11, 9, 0), "A", ""),
			}},
			q:    with(day(3, 10, 12, insights.ActiveUsers), func(q *insights.Query) { q.Filter = insights.Eq(insights.DimAppID, "A") }),
			want: map[string]float64{"2025-03-10": 1, "2025-03-11": 3},
		},

		// Looking back before From (SPEC §3).
		{
			name:    "7-day active users look back before From: 4 March is in the window of 10 March, 3 March is not",
			batches: [][]insights.Event{{signIn("in", utc(3, 4, 9, 0)), signIn("out", utc(3, 3, 23, 0))}},
			q:       with(day(3, 10, 11, insights.RollingActiveUsers), func(q *insights.Query) { q.Days = 7 }),
			want:    map[string]float64{"2025-03-10": 1},
		},
		{
			name: "inactive 30 days as of 10 March: active in January, not since 9 February",
			batches: [][]insights.Event{{
				signIn("gone", time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)),
				signIn("edge", utc(2, 8, 9, 0)),  // 30 days ending 10 March start 9 February
				signIn("stays", utc(2, 9, 9, 0)), // inside the window
				signIn("new", utc(3, 10, 9, 0)),
			}},
			q:    with(day(3, 10, 11, insights.InactiveUsers), func(q *insights.Query) { q.Days = 30 }),
			want: map[string]float64{"2025-03-10": 2},
		},
		{
			name:    "stickiness is 0 when nobody was active in the window",
			batches: [][]insights.Event{workedExample()},
			q:       with(day(3, 20, 21, insights.Stickiness), func(q *insights.Query) { q.Days = 7 }),
			want:    map[string]float64{"2025-03-20": 0},
		},
		{
			name: "stickiness: 1 of 4 users of the last 7 days active today",
			batches: [][]insights.Event{{
				signIn("a", utc(3, 4, 9, 0)), signIn("b", utc(3, 6, 9, 0)), signIn("c", utc(3, 8, 9, 0)),
				signIn("d", utc(3, 10, 9, 0)), signIn("a", utc(3, 10, 10, 0)), signIn("old", utc(3, 3, 9, 0)),
			}},
			q:    with(day(3, 10, 11, insights.Stickiness), func(q *insights.Query) { q.Days = 7 }),
			want: map[string]float64{"2025-03-10": 0.5}, // today a, d; 7 days a, b, c, d
		},

		// Event kinds and event metrics (SPEC §2, §5).
		{
			name: "requests count events of every kind",
			batches: [][]insights.Event{{
				signIn("u1", utc(3, 10, 9, 0)),
				signUp("u2", utc(3, 10, 9, 0)),
				userCreated("u3", utc(3, 10, 9, 0)),
				userDeleted("u4", utc(3, 10, 9, 0)),
				{Time: utc(3, 10, 9, 0), Kind: insights.KindMFA, UserKey: "u1", MFAMethod: "Text message"},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindRegistration, UserKey: "u1", Method: "FIDO2", Action: insights.ActionRegistered},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindReset, UserKey: "u1", Method: "Email", Action: insights.ActionPasswordReset},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, PrincipalID: "sp", SignInType: insights.SignInServicePrincipal},
			}},
			q:    day(3, 10, 11, insights.Requests),
			want: map[string]float64{"2025-03-10": 8},
		},
		{
			name: "requests by kind",
			batches: [][]insights.Event{{
				signIn("u1", utc(3, 10, 9, 0)), failedSignIn("u1", utc(3, 10, 9, 0), 50126),
				signUp("u2", utc(3, 10, 9, 0)),
				userCreated("u3", utc(3, 10, 9, 0)),
				{Time: utc(3, 10, 9, 0), Kind: insights.KindMFA, UserKey: "u1", MFAMethod: "Text message"},
			}},
			q: with(day(3, 10, 11, insights.Requests), func(q *insights.Query) { q.GroupBy = []insights.Dimension{insights.DimKind} }),
			want: map[string]float64{"2025-03-10 [signIn]": 2, "2025-03-10 [signUp]": 1,
				"2025-03-10 [userCreated]": 1, "2025-03-10 [mfa]": 1},
		},
		{
			name: "sign-ups count successful sign-ups only",
			batches: [][]insights.Event{{
				signUp("u1", utc(3, 10, 9, 0)),
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignUp, UserKey: "u2", ErrorCode: 12345},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignUp, UserKey: "u3", Status: insights.StatusFailure, Reason: insights.ReasonIncomplete},
			}},
			q:    day(3, 10, 11, insights.SignUps),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name: "a failed sign-up does not make a user active",
			batches: [][]insights.Event{{
				signUp("u1", utc(3, 10, 9, 0)),
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignUp, UserKey: "u2", ErrorCode: 12345},
			}},
			q:    day(3, 10, 11, insights.ActiveUsers),
			want: map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "an interrupted sign-in alone: a signing-in user, not an active one",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50074)}},
			q:       day(3, 10, 11, insights.SigningInUsers),
			want:    map[string]float64{"2025-03-10": 1},
		},
		{
			name:    "an interrupted sign-in alone is not activity",
			batches: [][]insights.Event{{failedSignIn("u1", utc(3, 10, 9, 0), 50074)}},
			q:       day(3, 10, 11, insights.ActiveUsers),
			want:    map[string]float64{"2025-03-10": 0},
		},
		{
			name:    "MFA challenges: performed steps and MFA events, not claim-satisfied ones",
			batches: [][]insights.Event{mfaDay()},
			q:       day(3, 10, 11, insights.MFAChallenges),
			want:    map[string]float64{"2025-03-10 attempts": 3, "2025-03-10 successes": 2, "2025-03-10 failures": 1, "2025-03-10 successRate": 2.0 / 3},
		},
		{
			name:    "MFA challenges by method of the last MFA step",
			batches: [][]insights.Event{mfaDay()},
			q: with(day(3, 10, 11, insights.MFAChallenges), func(q *insights.Query) {
				q.GroupBy = []insights.Dimension{insights.DimMFAMethod}
			}),
			want: map[string]float64{
				"2025-03-10 attempts [Text message]": 1, "2025-03-10 successes [Text message]": 1,
				"2025-03-10 attempts [Mobile app notification]": 1, "2025-03-10 failures [Mobile app notification]": 1,
				"2025-03-10 attempts [Phone call]": 1, "2025-03-10 successes [Phone call]": 1,
				"2025-03-10 successRate [Text message]": 1, "2025-03-10 successRate [Phone call]": 1,
			},
		},
		{
			name:    "MFA challenges by result: a declined 500121 step is mfaDenied",
			batches: [][]insights.Event{mfaDay()},
			q: with(day(3, 10, 11, insights.MFAChallenges), func(q *insights.Query) {
				q.GroupBy = []insights.Dimension{insights.DimMFAResult}
			}),
			want: map[string]float64{
				"2025-03-10 attempts [success]": 2, "2025-03-10 successes [success]": 2,
				"2025-03-10 attempts [mfaDenied]": 1, "2025-03-10 failures [mfaDenied]": 1,
				"2025-03-10 successRate [success]": 1,
			},
		},
		{
			name:    "MFA-protected sign-ins: successes by requirement, claim-satisfied included",
			batches: [][]insights.Event{mfaDay()},
			q: with(day(3, 10, 11, insights.Authentications), func(q *insights.Query) {
				q.GroupBy = []insights.Dimension{insights.DimAuthRequirement}
			}),
			want: map[string]float64{
				"2025-03-10 attempts [multiFactorAuthentication]": 3, "2025-03-10 successes [multiFactorAuthentication]": 2,
				"2025-03-10 failures [multiFactorAuthentication]":  1,
				"2025-03-10 attempts [singleFactorAuthentication]": 1, "2025-03-10 successes [singleFactorAuthentication]": 1,
			},
		},
		{
			name:    "summary rows per app and OS",
			batches: [][]insights.Event{mfaDay()},
			q:       day(3, 10, 11, insights.Summary),
			want: map[string]float64{
				"2025-03-10 activeUsers [portal|iOS]": 2, "2025-03-10 authenticationRequests [portal|iOS]": 3,
				"2025-03-10 authenticationCompletions [portal|iOS]": 2,
				"2025-03-10 smsMfaRequests [portal|iOS]":            1, "2025-03-10 smsMfaCompletions [portal|iOS]": 1,
				"2025-03-10 activeUsers [mail|Windows]": 1, "2025-03-10 authenticationRequests [mail|Windows]": 1,
				"2025-03-10 authenticationCompletions [mail|Windows]": 1,
				"2025-03-10 voiceMfaRequests [|]":                     1, "2025-03-10 voiceMfaCompletions [|]": 1,
			},
		},
		{
			name: "OS families derived at ingest",
			batches: [][]insights.Event{{
				signInApp("a", utc(3, 10, 9, 0), "", "Windows10"),
				signInApp("b", utc(3, 10, 9, 0), "", "Windows 10"),
				signInApp("c", utc(3, 10, 9, 0), "", "Windows"),
				signInApp("d", utc(3, 10, 9, 0), "", "MacOs"),
				signInApp("e", utc(3, 10, 9, 0), "", "Mac OS X"),
				signInApp("f", utc(3, 10, 9, 0), "", "iOS"),
				signInApp("g", utc(3, 10, 9, 0), "", "Android"),
				signInApp("h", utc(3, 10, 9, 0), "", "Linux"),
				signInApp("i", utc(3, 10, 9, 0), "", "ChromeOS"),
				signInApp("j", utc(3, 10, 9, 0), "", "Solaris"),
				signInApp("k", utc(3, 10, 9, 0), "", ""),
			}},
			q: with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) { q.GroupBy = []insights.Dimension{insights.DimOSFamily} }),
			want: map[string]float64{"2025-03-10 [Windows]": 3, "2025-03-10 [macOS]": 2, "2025-03-10 [iOS]": 1,
				"2025-03-10 [Android]": 1, "2025-03-10 [Linux]": 1, "2025-03-10 [ChromeOS]": 1, "2025-03-10 [other]": 1,
				"2025-03-10 []": 1},
		},
		{
			name: "the raw OS stays its own dimension",
			batches: [][]insights.Event{{
				signInApp("a", utc(3, 10, 9, 0), "", "Windows10"),
				signInApp("b", utc(3, 10, 9, 0), "", "Windows 10"),
			}},
			q:    with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) { q.GroupBy = []insights.Dimension{insights.DimOS} }),
			want: map[string]float64{"2025-03-10 [Windows10]": 1, "2025-03-10 [Windows 10]": 1},
		},
		{
			name: "browser families derived at ingest",
			batches: [][]insights.Event{{
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "a", Browser: "Chrome 120.0"},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "b", Browser: "Edge 119"},
				{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "c", Browser: "Chrome 121.0"},
			}},
			q:    with(day(3, 10, 11, insights.ActiveUsers), func(q *insights.Query) { q.GroupBy = []insights.Dimension{insights.DimBrowserFamily} }),
			want: map[string]float64{"2025-03-10 [Chrome]": 2, "2025-03-10 [Edge]": 1},
		},
		{
			name: "top 1 is chosen per bucket",
			batches: [][]insights.Event{{
				signInApp("u1", utc(3, 10, 9, 0), "A", ""), signInApp("u2", utc(3, 10, 9, 0), "A", ""),
				signInApp("u3", utc(3, 10, 9, 0), "B", ""),
				signInApp("u1", utc(3, 11, 9, 0), "A", ""),
				signInApp("u2", utc(3, 11, 9, 0), "B", ""), signInApp("u3", utc(3, 11, 9, 0), "B", ""),
			}},
			q: with(day(3, 10, 12, insights.ActiveUsers), func(q *insights.Query) {
				q.GroupBy, q.Top, q.Other = []insights.Dimension{insights.DimAppID}, 1, true
			}),
			want: map[string]float64{"2025-03-10 [A]": 2, "2025-03-10 [(other)]": 1,
				"2025-03-11 [B]": 2, "2025-03-11 [(other)]": 1},
		},

		// Lifecycle: u1 on 9, 10 and 12 March; u2 on 10 and 11; u3 on 11 and 12; u4 on 12.
		{
			name: "lifecycle: new + returning + resurrecting = active, dormant apart",
			batches: [][]insights.Event{{
				signIn("u1", utc(3, 9, 9, 0)), signIn("u1", utc(3, 10, 9, 0)), signIn("u1", utc(3, 12, 9, 0)),
				signIn("u2", utc(3, 10, 9, 0)), signIn("u2", utc(3, 11, 9, 0)),
				signIn("u3", utc(3, 11, 9, 0)), signIn("u3", utc(3, 12, 9, 0)),
				signIn("u4", utc(3, 12, 9, 0)),
			}},
			q: day(3, 10, 13, insights.Lifecycle),
			want: map[string]float64{
				"2025-03-10 new": 1, "2025-03-10 returning": 1, "2025-03-10 resurrecting": 0, "2025-03-10 dormant": 0,
				"2025-03-11 new": 1, "2025-03-11 returning": 1, "2025-03-11 resurrecting": 0, "2025-03-11 dormant": 1,
				"2025-03-12 new": 1, "2025-03-12 returning": 1, "2025-03-12 resurrecting": 1, "2025-03-12 dormant": 1,
			},
		},
		{
			name: "lifecycle: the active users it splits",
			batches: [][]insights.Event{{
				signIn("u1", utc(3, 9, 9, 0)), signIn("u1", utc(3, 10, 9, 0)), signIn("u1", utc(3, 12, 9, 0)),
				signIn("u2", utc(3, 10, 9, 0)), signIn("u2", utc(3, 11, 9, 0)),
				signIn("u3", utc(3, 11, 9, 0)), signIn("u3", utc(3, 12, 9, 0)),
				signIn("u4", utc(3, 12, 9, 0)),
			}},
			q:    day(3, 10, 13, insights.ActiveUsers),
			want: map[string]float64{"2025-03-10": 2, "2025-03-11": 2, "2025-03-12": 3},
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, &insights.Options{Zone: c.zone})
			for _, b := range c.batches {
				add(t, e, b...)
			}
			res := query(t, e, c.q)
			checkRows(t, res, c.want)
			for _, r := range res.Rows {
				if r.Incomplete {
					t.Errorf("row %s is incomplete, but the clock %v is after the range", rowKey(r), clock)
				}
			}
		})
	}
}

// TestWorkedExampleUsers lists the users behind the worked example's
// numbers: u3 is in none of them.
func TestWorkedExampleUsers(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, workedExample()...)
	q := func(m insights.Metric, g insights.Granularity, days int) insights.Query {
		return insights.Query{Metric: m, From: date(2025, 3, 3), To: date(2025, 3, 6), Granularity: g, Days: days}
	}
	cases := []struct {
		name string
		q    insights.Query
		want map[string][]string
	}{
		{"active users per day", q(insights.ActiveUsers, insights.Day, 0),
			map[string][]string{"2025-03-03": {"u1"}, "2025-03-04": {"u1", "u2"}}},
		{"active users over the range", q(insights.ActiveUsers, insights.Total, 0),
			map[string][]string{"2025-03-03": {"u1", "u2"}}},
		{"new users per day", q(insights.NewUsers, insights.Day, 0),
			map[string][]string{"2025-03-03": {"u1"}, "2025-03-04": {"u2"}}},
		{"returning users per day", q(insights.ReturningUsers, insights.Day, 0),
			map[string][]string{"2025-03-04": {"u1"}}},
		{"inactive 1 day", q(insights.InactiveUsers, insights.Day, 1),
			map[string][]string{"2025-03-05": {"u1", "u2"}}},
		{"total users", q(insights.TotalUsers, insights.Total, 0),
			map[string][]string{"2025-03-03": {"u1", "u2"}}},
		{"never-active users", q(insights.NeverActiveUsers, insights.Total, 0),
			map[string][]string{}},
		{"signing-in users per day", q(insights.SigningInUsers, insights.Day, 0),
			map[string][]string{"2025-03-03": {"u1", "u3"}, "2025-03-04": {"u1"}, "2025-03-05": {"u2"}}},
		{"lifecycle", q(insights.Lifecycle, insights.Day, 0),
			map[string][]string{"2025-03-03 new": {"u1"}, "2025-03-04 new": {"u2"}, "2025-03-04 returning": {"u1"},
				"2025-03-05 dormant": {"u1", "u2"}}},
		{"retention", q(insights.Retention, insights.Day, 0),
			map[string][]string{"2025-03-03": {"u1"}, "2025-03-03 +1": {"u1"}, "2025-03-04": {"u2"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := userLists(t, e, c.q)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("users = %v, want %v", got, c.want)
			}
		})
	}
}

// TestUsersTopOther lists the users of a Top "(other)" row.
func TestUsersTopOther(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, appDay()...)
	got := userLists(t, e, insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11),
		GroupBy: []insights.Dimension{insights.DimAppID}, Top: 2, Other: true})
	want := map[string][]string{
		"2025-03-10 [A]":       {"u1", "u2", "u3", "u4"},
		"2025-03-10 [B]":       {"u1", "u5", "u6"},
		"2025-03-10 [(other)]": {"u1", "u10", "u7", "u8", "u9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("users = %v, want %v", got, want)
	}
}

// TestDayLengths checks Date.Start against Go's tz data: DST days of 23
// and 25 hours, and days that start at 01:00 where clocks jump at midnight.
func TestDayLengths(t *testing.T) {
	cases := []struct {
		name      string
		zone      string
		d         insights.Date
		wantStart time.Time // in UTC
		wantLen   time.Duration
	}{
		{"UTC day is 24 hours", "UTC", date(2025, 3, 9), time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"New York spring-forward day is 23 hours", "America/New_York", date(2025, 3, 9),
			time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC), 23 * time.Hour}, // 00:00 EST
		{"New York day after spring-forward starts at 00:00 EDT", "America/New_York", date(2025, 3, 10),
			time.Date(2025, 3, 10, 4, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"New York fall-back day is 25 hours", "America/New_York", date(2025, 11, 2),
			time.Date(2025, 11, 2, 4, 0, 0, 0, time.UTC), 25 * time.Hour}, // 00:00 EDT
		{"Havana day before the midnight jump is 24 hours", "America/Havana", date(2025, 3, 8),
			time.Date(2025, 3, 8, 5, 0, 0, 0, time.UTC), 24 * time.Hour}, // 00:00 CST to 24:00 CST
		{"Havana 9 March 2025 starts at 01:00 CDT and is 23 hours", "America/Havana", date(2025, 3, 9),
			time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC), 23 * time.Hour}, // to 00:00 CDT on 10 March
		{"Santiago 7 September 2025 starts at 01:00 and is 23 hours", "America/Santiago", date(2025, 9, 7),
			time.Date(2025, 9, 7, 4, 0, 0, 0, time.UTC), 23 * time.Hour},
		{"Santiago 5 April 2025 is 25 hours", "America/Santiago", date(2025, 4, 5),
			time.Date(2025, 4, 5, 3, 0, 0, 0, time.UTC), 25 * time.Hour}, // 00:00 -03
	}

	// The midnight jumps, as Go's tz data has them: the instant before the
	// jump is 23:59:59 of the previous date, the jump lands on 01:00.
	for _, j := range []struct {
		zone string
		at   time.Time // UTC instant of the jump
	}{
		{"America/Havana", time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC)},
		{"America/Santiago", time.Date(2025, 9, 7, 4, 0, 0, 0, time.UTC)},
	} {
		loc := mustZone(t, j.zone)
		before, after := j.at.Add(-time.Second).In(loc), j.at.In(loc)
		if before.Format("2006-01-02 15:04:05") != j.at.AddDate(0, 0, -1).Format("2006-01-02")+" 23:59:59" ||
			after.Format("2006-01-02 15:04:05") != j.at.Format("2006-01-02")+" 01:00:00" {
			t.Skipf("tz data of %s has no midnight jump at %v (got %v then %v)", j.zone, j.at, before, after)
		}
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := mustZone(t, c.zone)
			start := c.d.Start(loc)
			if !start.Equal(c.wantStart) {
				t.Errorf("Start(%s) = %v, want %v", c.d, start, c.wantStart.In(loc))
			}
			if got := insights.DateOf(start, loc); got != c.d {
				t.Errorf("DateOf(Start) = %s, want %s", got, c.d)
			}
			if got := insights.DateOf(start.Add(-time.Nanosecond), loc); got != c.d.AddDays(-1) {
				t.Errorf("DateOf(Start - 1ns) = %s, want %s", got, c.d.AddDays(-1))
			}
			if l := c.d.AddDays(1).Start(loc).Sub(start); l != c.wantLen {
				t.Errorf("day %s is %v long, want %v", c.d, l, c.wantLen)
			}
		})
	}
}

// TestDates checks the calendar arithmetic the cases rely on.
func TestDates(t *testing.T) {
	cases := []struct {
		name string
		got  insights.Date
		want string
	}{
		{"March 0 2024 is 29 February", date(2024, 3, 0), "2024-02-29"},
		{"March 0 2025 is 28 February", date(2025, 3, 0), "2025-02-28"},
		{"29 February 2024 plus one day", date(2024, 2, 29).AddDays(1), "2024-03-01"},
		{"1 March 2024 minus one day", date(2024, 3, 1).AddDays(-1), "2024-02-29"},
		{"31 January plus 29 days in 2024", date(2024, 1, 31).AddDays(29), "2024-02-29"},
		{"31 December plus one day", date(2025, 12, 31).AddDays(1), "2026-01-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.String() != c.want {
				t.Errorf("got %s, want %s", c.got, c.want)
			}
		})
	}
	if wd := date(2025, 3, 3).Weekday(); wd != time.Monday {
		t.Errorf("3 March 2025 is a %v, want Monday", wd)
	}
	if wd := date(2024, 2, 29).Weekday(); wd != time.Thursday {
		t.Errorf("29 February 2024 is a %v, want Thursday", wd)
	}
}

// TestPartialAndIncomplete checks the bucket flags of SPEC §3.
func TestPartialAndIncomplete(t *testing.T) {
	type flags struct {
		start, end          string
		partial, incomplete bool
	}
	cases := []struct {
		name  string
		zone  string
		now   time.Time
		q     insights.Query
		wantF []flags
	}{
		{
			name: "month buckets of a range that cuts January and March 2024",
			now:  clock,
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2024, 1, 15), To: date(2024, 3, 10), Granularity: insights.Month},
			wantF: []flags{
				{"2024-01-15", "2024-02-01", true, false},
				{"2024-02-01", "2024-03-01", false, false},
				{"2024-03-01", "2024-03-10", true, false},
			},
		},
		{
			name: "whole months are not partial",
			now:  clock,
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2024, 2, 1), To: date(2024, 4, 1), Granularity: insights.Month},
			wantF: []flags{
				{"2024-02-01", "2024-03-01", false, false},
				{"2024-03-01", "2024-04-01", false, false},
			},
		},
		{
			name: "weeks starting Sunday: a Monday-to-Monday range cuts both weeks",
			now:  clock,
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 3), To: date(2025, 3, 10), Granularity: insights.Week, WeekStart: 7},
			wantF: []flags{
				{"2025-03-03", "2025-03-09", true, false},
				{"2025-03-09", "2025-03-10", true, false},
			},
		},
		{
			name: "ISO weeks from a Wednesday: first week partial, then whole weeks",
			now:  clock,
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 5), To: date(2025, 3, 17), Granularity: insights.Week},
			wantF: []flags{
				{"2025-03-05", "2025-03-10", true, false},
				{"2025-03-10", "2025-03-17", false, false},
			},
		},
		{
			name: "days are never partial",
			now:  clock,
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2024, 2, 28), To: date(2024, 3, 1)},
			wantF: []flags{
				{"2024-02-28", "2024-02-29", false, false},
				{"2024-02-29", "2024-03-01", false, false},
			},
		},
		{
			name: "the day containing the clock is incomplete, later days are not",
			now:  time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC),
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 14)},
			wantF: []flags{
				{"2025-03-10", "2025-03-11", false, false},
				{"2025-03-11", "2025-03-12", false, false},
				{"2025-03-12", "2025-03-13", false, true},
				{"2025-03-13", "2025-03-14", false, false},
			},
		},
		{
			name: "the week containing the clock is incomplete",
			now:  time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC),
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 3), To: date(2025, 3, 17), Granularity: insights.Week},
			wantF: []flags{
				{"2025-03-03", "2025-03-10", false, false},
				{"2025-03-10", "2025-03-17", false, true},
			},
		},
		{
			name: "a partial month containing the clock is partial and incomplete",
			now:  time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC),
			q:    insights.Query{Metric: insights.Requests, From: date(2025, 2, 1), To: date(2025, 3, 13), Granularity: insights.Month},
			wantF: []flags{
				{"2025-02-01", "2025-03-01", false, false},
				{"2025-03-01", "2025-03-13", true, true},
			},
		},
		{
			name: "the clock's day is a date of the store's zone (20:00 UTC is the next day in Tokyo)",
			zone: "Asia/Tokyo",
			now:  time.Date(2025, 3, 12, 20, 0, 0, 0, time.UTC),
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 12), To: date(2025, 3, 14)},
			wantF: []flags{
				{"2025-03-12", "2025-03-13", false, false},
				{"2025-03-13", "2025-03-14", false, true},
			},
		},
		{
			name: "the total bucket containing the clock is incomplete",
			now:  time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC),
			q:    insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 4, 1), Granularity: insights.Total},
			wantF: []flags{
				{"2025-03-01", "2025-04-01", false, true},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, &insights.Options{Zone: c.zone, Now: fixed(c.now)})
			add(t, e, signIn("u1", c.now.Add(-time.Hour)))
			res := query(t, e, c.q)
			var got []flags
			for _, r := range res.Rows {
				got = append(got, flags{r.Start.String(), r.End.String(), r.Partial, r.Incomplete})
			}
			if !reflect.DeepEqual(got, c.wantF) {
				t.Errorf("rows (start, end, partial, incomplete) = %v, want %v", got, c.wantF)
			}
		})
	}
}

// TestLateEvent: a late event lands in its own day after a query sealed
// that day; the earlier Result does not change.
func TestLateEvent(t *testing.T) {
	e := newEngine(t, &insights.Options{Now: fixed(time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC))})
	add(t, e, signIn("u1", utc(3, 10, 9, 0)))
	q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 9), To: date(2025, 3, 12)}
	first := query(t, e, q)
	checkRows(t, first, map[string]float64{"2025-03-09": 0, "2025-03-10": 1, "2025-03-11": 0})
	kept, _ := json.Marshal(first)

	add(t, e, signIn("u2", utc(3, 10, 22, 0)), signIn("u3", utc(3, 11, 1, 0)))
	checkRows(t, query(t, e, q), map[string]float64{"2025-03-09": 0, "2025-03-10": 2, "2025-03-11": 1})

	// u1 turns out to have been active on 9 March: no longer new on 10 March.
	add(t, e, signIn("u1", utc(3, 9, 23, 59)))
	checkRows(t, query(t, e, q), map[string]float64{"2025-03-09": 1, "2025-03-10": 2, "2025-03-11": 1})
	nq := q
	nq.Metric = insights.NewUsers
	checkRows(t, query(t, e, nq), map[string]float64{"2025-03-09": 1, "2025-03-10": 1, "2025-03-11": 1})

	if now, _ := json.Marshal(first); string(now) != string(kept) {
		t.Errorf("the first Result changed:\nwas %s\nnow %s", kept, now)
	}
	checkRows(t, first, map[string]float64{"2025-03-09": 0, "2025-03-10": 1, "2025-03-11": 0})
}

// TestDeletion: a deleted user stops counting the day after the deletion
// (that day itself counts) and stays in past days; event metrics keep
// counting the user's events.
func TestDeletion(t *testing.T) {
	e := newEngine(t, &insights.Options{Now: fixed(time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC))})
	add(t, e,
		signIn("u1", utc(3, 10, 9, 0)), signIn("u1", utc(3, 11, 9, 0)),
		signIn("u1", utc(3, 12, 15, 0)), signIn("u1", utc(3, 13, 9, 0)),
		signIn("u2", utc(3, 13, 9, 0)),
	)
	dau := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 15)}
	checkRows(t, query(t, e, dau), map[string]float64{
		"2025-03-10": 1, "2025-03-11": 1, "2025-03-12": 1, "2025-03-13": 2, "2025-03-14": 0})

	// The deletion arrives after the activities it voids.
	add(t, e, userDeleted("u1", utc(3, 12, 10, 0)))

	cases := []struct {
		name string
		q    insights.Query
		want map[string]float64
	}{
		{"DAU: the deletion day counts, the day after does not", dau, map[string]float64{
			"2025-03-10": 1, "2025-03-11": 1, "2025-03-12": 1, "2025-03-13": 1, "2025-03-14": 0}},
		{"MAU: the user stays in March, active before the deletion",
			insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 4, 1), Granularity: insights.Month},
			map[string]float64{"2025-03-01": 2}},
		{"signing-in users after the deletion day ignore the user",
			insights.Query{Metric: insights.SigningInUsers, From: date(2025, 3, 12), To: date(2025, 3, 14)},
			map[string]float64{"2025-03-12": 1, "2025-03-13": 1}},
		{"total users: deleted on or before the day leaves the total",
			insights.Query{Metric: insights.TotalUsers, From: date(2025, 3, 11), To: date(2025, 3, 14)},
			map[string]float64{"2025-03-11": 1, "2025-03-12": 0, "2025-03-13": 1}},
		{"inactive users exclude the deleted user",
			insights.Query{Metric: insights.InactiveUsers, From: date(2025, 3, 14), To: date(2025, 3, 15), Days: 1},
			map[string]float64{"2025-03-14": 1}}, // u2 only
		{"requests still count every event",
			insights.Query{Metric: insights.Requests, From: date(2025, 3, 12), To: date(2025, 3, 14)},
			map[string]float64{"2025-03-12": 2, "2025-03-13": 2}},
		{"authentications still count the sign-in after the deletion",
			insights.Query{Metric: insights.Authentications, From: date(2025, 3, 13), To: date(2025, 3, 14)},
			map[string]float64{"2025-03-13 attempts": 2, "2025-03-13 successes": 2, "2025-03-13 failures": 0, "2025-03-13 interrupts": 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkRows(t, query(t, e, c.q), c.want) })
	}
	got := userLists(t, e, dau)
	want := map[string][]string{"2025-03-10": {"u1"}, "2025-03-11": {"u1"}, "2025-03-12": {"u1"}, "2025-03-13": {"u2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DAU users = %v, want %v", got, want)
	}
}

// TestValidation: a batch with one bad event is rejected whole, with an
// error that wraps ErrInvalidEvent and names the index and the field.
func TestValidation(t *testing.T) {
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	ok := utc(3, 10, 9, 0)
	cases := []struct {
		name  string
		bad   insights.Event
		field string
	}{
		{"no time", insights.Event{Kind: insights.KindSignIn, UserKey: "x"}, "Time"},
		{"no user key on a sign-in", insights.Event{Time: ok, Kind: insights.KindSignIn}, "UserKey"},
		{"no user key on a sign-up", insights.Event{Time: ok, Kind: insights.KindSignUp}, "UserKey"},
		{"no user key on a user deletion", insights.Event{Time: ok, Kind: insights.KindUserDeleted}, "UserKey"},
		{"service-principal sign-in without principal id",
			insights.Event{Time: ok, Kind: insights.KindSignIn, SignInType: insights.SignInServicePrincipal}, "PrincipalID"},
		{"managed-identity sign-in without principal id",
			insights.Event{Time: ok, Kind: insights.KindSignIn, SignInType: insights.SignInManagedIdentity}, "PrincipalID"},
		{"kind zero", insights.Event{Time: ok, UserKey: "x"}, "Kind"},
		{"kind out of set", insights.Event{Time: ok, Kind: insights.KindRiskDecision + 1, UserKey: "x"}, "Kind"},
		{"risk decision without a decided state", insights.Event{Time: ok, Kind: insights.KindRiskDecision, UserKey: "x", RiskState: "atRisk"}, "RiskState"},
		{"status out of set", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", Status: insights.StatusInterrupted + 1}, "Status"},
		{"sign-in type out of set", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", SignInType: insights.SignInManagedIdentity + 1}, "SignInType"},
		{"time before 2000", insights.Event{Time: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), Kind: insights.KindSignIn, UserKey: "x"}, "Time"},
		{"time more than a day after the clock", insights.Event{Time: now.Add(24*time.Hour + time.Second), Kind: insights.KindSignIn, UserKey: "x"}, "Time"},
		{"user key over 1024 bytes", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: strings.Repeat("k", insights.MaxKeyLength+1)}, "UserKey"},
		{"app id over 256 bytes", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", AppID: strings.Repeat("a", insights.MaxValueLength+1)}, "AppID"},
		{"request id over 256 bytes", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", RequestID: strings.Repeat("r", insights.MaxValueLength+1)}, "RequestID"},
		{"more than 64 authentication steps", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x",
			AuthDetails: make([]insights.AuthStep, insights.MaxAuthSteps+1)}, "AuthDetails"},
		{"display name over 4096 bytes", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", UserDisplayName: strings.Repeat("n", insights.MaxLogFieldLength+1)}, "UserDisplayName"},
		{"user agent over 4096 bytes", insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: "x", UserAgent: strings.Repeat("u", insights.MaxLogFieldLength+1)}, "UserAgent"},
	}
	good := []insights.Event{
		{Time: utc(3, 10, 8, 0), Kind: insights.KindSignIn, UserKey: "g1", RequestID: "req-1"},
		{Time: utc(3, 10, 8, 30), Kind: insights.KindSignUp, UserKey: "g2"},
	}
	day := insights.Query{Metric: insights.Requests, From: date(2025, 3, 10), To: date(2025, 3, 11)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, &insights.Options{Now: fixed(now)})
			batch := append(append([]insights.Event(nil), good...), c.bad)
			err := e.Add(context.Background(), batch...)
			if !errors.Is(err, insights.ErrInvalidEvent) {
				t.Fatalf("Add = %v, want an error wrapping ErrInvalidEvent", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "event 2") || !strings.Contains(msg, c.field) {
				t.Errorf("error %q should name \"event 2\" and the field %s", msg, c.field)
			}
			// Nothing of the batch was applied.
			checkRows(t, query(t, e, day), map[string]float64{"2025-03-10": 0})
			au := day
			au.Metric = insights.ActiveUsers
			checkRows(t, query(t, e, au), map[string]float64{"2025-03-10": 0})
			if got := userLists(t, e, au); len(got) != 0 {
				t.Errorf("users after a rejected batch: %v", got)
			}
			// Not even the request id of a good event: it counts when sent again.
			add(t, e, good...)
			checkRows(t, query(t, e, day), map[string]float64{"2025-03-10": 2})
		})
	}

	t.Run("limits are inclusive", func(t *testing.T) {
		e := newEngine(t, &insights.Options{Now: fixed(now)})
		add(t, e,
			insights.Event{Time: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: "y2k"},
			insights.Event{Time: now.Add(24 * time.Hour), Kind: insights.KindSignIn, UserKey: "tomorrow"},
			insights.Event{Time: ok, Kind: insights.KindSignIn, UserKey: strings.Repeat("k", insights.MaxKeyLength),
				AppID: strings.Repeat("a", insights.MaxValueLength)},
			insights.Event{Time: ok, Kind: insights.KindSignIn, PrincipalID: "sp", SignInType: insights.SignInServicePrincipal},
		)
		checkRows(t, query(t, e, insights.Query{Metric: insights.ActiveUsers, From: date(2000, 1, 1), To: date(2000, 1, 2)}),
			map[string]float64{"2000-01-01": 1})
		checkRows(t, query(t, e, insights.Query{Metric: insights.Requests, From: date(2025, 3, 10), To: date(2025, 3, 11)}),
			map[string]float64{"2025-03-10": 2})
	})
}

// TestInvalidQueries: every malformed query wraps ErrInvalidQuery.
func TestInvalidQueries(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, workedExample()...)
	base := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 3), To: date(2025, 3, 6)}
	mod := func(f func(*insights.Query)) insights.Query { q := base; f(&q); return q }
	cases := []struct {
		name string
		q    insights.Query
	}{
		{"no metric", mod(func(q *insights.Query) { q.Metric = 0 })},
		{"metric out of set", mod(func(q *insights.Query) { q.Metric = insights.Metric(200) })},
		{"no from", mod(func(q *insights.Query) { q.From = insights.Date{} })},
		{"no to", mod(func(q *insights.Query) { q.To = insights.Date{} })},
		{"from equals to", mod(func(q *insights.Query) { q.To = q.From })},
		{"from after to", mod(func(q *insights.Query) { q.From, q.To = q.To, q.From })},
		{"30 February is not a date", mod(func(q *insights.Query) { q.To = insights.Date{Year: 2025, Month: 2, Day: 30} })},
		{"month 13 is not a date", mod(func(q *insights.Query) { q.From = insights.Date{Year: 2025, Month: 13, Day: 1} })},
		{"granularity out of set", mod(func(q *insights.Query) { q.Granularity = insights.Total + 1 })},
		{"week start 8", mod(func(q *insights.Query) { q.WeekStart = 8 })},
		{"week start -1", mod(func(q *insights.Query) { q.WeekStart = -1 })},
		{"negative top", mod(func(q *insights.Query) { q.Top = -1 })},
		{"other without top", mod(func(q *insights.Query) { q.Other = true })},
		{"negative days", mod(func(q *insights.Query) { q.Days = -1 })},
		{"rolling active users without days", mod(func(q *insights.Query) { q.Metric = insights.RollingActiveUsers })},
		{"stickiness without days", mod(func(q *insights.Query) { q.Metric = insights.Stickiness })},
		{"group by the same dimension twice", mod(func(q *insights.Query) {
			q.GroupBy = []insights.Dimension{insights.DimAppID, insights.DimAppID}
		})},
		{"group by five dimensions", mod(func(q *insights.Query) {
			q.GroupBy = []insights.Dimension{insights.DimAppID, insights.DimOS, insights.DimCountry, insights.DimBrowser, insights.DimStatus}
		})},
		{"group by a dimension out of set", mod(func(q *insights.Query) { q.GroupBy = []insights.Dimension{0} })},
		{"group by the IP log field", mod(func(q *insights.Query) { q.GroupBy = []insights.Dimension{insights.DimIP} })},
		{"filter on a dimension out of set", mod(func(q *insights.Query) { q.Filter = insights.Eq(insights.Dimension(200), "x") })},
		{"string prefix on IP addresses", mod(func(q *insights.Query) { q.Filter = insights.Prefix(insights.DimIP, "198.51.") })},
		{"malformed CIDR", mod(func(q *insights.Query) { q.Filter = insights.CIDR("198.51.100.0/33") })},
		{"nested bad filter", mod(func(q *insights.Query) {
			q.Filter = insights.And(insights.Eq(insights.DimAppID, "A"), insights.Not(insights.Eq(0, "x")))
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.Query(context.Background(), c.q)
			if !errors.Is(err, insights.ErrInvalidQuery) {
				t.Errorf("Query = %v, %v; want an error wrapping ErrInvalidQuery", res, err)
			}
		})
	}
	t.Run("user list of stickiness", func(t *testing.T) {
		_, err := e.Users(context.Background(), mod(func(q *insights.Query) { q.Metric, q.Days = insights.Stickiness, 7 }))
		if !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Users = %v; want an error wrapping ErrInvalidQuery", err)
		}
	})
	t.Run("user list of an event metric", func(t *testing.T) {
		_, err := e.Users(context.Background(), mod(func(q *insights.Query) { q.Metric = insights.Requests }))
		if !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Users = %v; want an error wrapping ErrInvalidQuery", err)
		}
	})
	t.Run("filter JSON without op", func(t *testing.T) {
		var f insights.Filter
		err := json.Unmarshal([]byte(`{"dim":"appId","value":"A"}`), &f)
		if !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Unmarshal = %v; want an error wrapping ErrInvalidQuery", err)
		}
	})
	for _, doc := range []string{
		`{"op":"eq","dim":"appId"}`,
		`{"op":"eq","value":"A"}`,
		`{"op":"eq","dim":"noSuchDimension","value":"A"}`,
		`{"op":"not"}`,
		`{"op":"cidr","dim":"city","value":"198.51.100.0/24"}`,
		`{"op":"prefix","dim":"ip","value":"198.51."}`,
		`{"op":"cidr","dim":"ip","value":"not a prefix"}`,
		`{"op":"and","args":[{"op":"eq","dim":"os"}]}`,
		`[]`,
		`"and"`,
	} {
		t.Run("filter JSON "+doc, func(t *testing.T) {
			var f insights.Filter
			if err := json.Unmarshal([]byte(doc), &f); !errors.Is(err, insights.ErrInvalidQuery) {
				t.Errorf("Unmarshal = %v; want an error wrapping ErrInvalidQuery", err)
			}
		})
	}
	t.Run("a filter nested 100 deep", func(t *testing.T) {
		f := insights.Eq(insights.DimAppID, "A")
		for i := 0; i < 100; i++ {
			f = insights.Not(f)
		}
		q := base
		q.Filter = f
		if _, err := e.Query(context.Background(), q); !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Query = %v; want an error wrapping ErrInvalidQuery", err)
		}
	})
	t.Run("filter JSON with an unknown op", func(t *testing.T) {
		var f insights.Filter
		err := json.Unmarshal([]byte(`{"op":"like","dim":"appId","value":"A"}`), &f)
		if !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Unmarshal = %v; want an error wrapping ErrInvalidQuery", err)
		}
	})
}

// TestErrorCodes: a sign-in reported with only an error code takes its
// status and failure reason from SPEC §10; unknown codes are "other".
func TestErrorCodes(t *testing.T) {
	cases := []struct {
		code   int
		status insights.Status // as reported; unset derives it
		want   string          // status
		reason string          // empty unless failed
	}{
		{0, 0, "success", ""},
		{50074, 0, "interrupted", ""},
		{50076, 0, "interrupted", ""},
		{50072, 0, "interrupted", ""},
		{50079, 0, "interrupted", ""},
		{50158, 0, "interrupted", ""},
		{50140, 0, "interrupted", ""},
		{50125, 0, "interrupted", ""},
		{50078, 0, "failure", "incomplete"},
		{500121, 0, "failure", "denied"},
		{50126, 0, "failure", "denied"},
		{50053, 0, "failure", "denied"},
		{50055, 0, "failure", "userError"},
		{50144, 0, "failure", "userError"},
		{50057, 0, "failure", "userError"},
		{50097, 0, "failure", "configError"},
		{50155, 0, "failure", "configError"},
		{53003, 0, "failure", "denied"},
		{530035, 0, "failure", "denied"},
		{53004, 0, "failure", "denied"},
		{50086, 0, "failure", "systemFailure"},
		{50087, 0, "failure", "systemFailure"},
		{50088, 0, "failure", "systemFailure"},
		{12345, 0, "failure", "other"},
		// MFA-required codes reported as failures are incomplete.
		{50074, insights.StatusFailure, "failure", "incomplete"},
		{50076, insights.StatusFailure, "failure", "incomplete"},
		{50072, insights.StatusFailure, "failure", "incomplete"},
		{50079, insights.StatusFailure, "failure", "incomplete"},
		{50158, insights.StatusFailure, "failure", "incomplete"},
	}
	from, to := date(2025, 3, 10), date(2025, 3, 11)
	for _, c := range cases {
		name := fmt.Sprintf("code %d gives %s %s", c.code, c.want, c.reason)
		if c.status != 0 {
			name = fmt.Sprintf("code %d reported as %s gives reason %s", c.code, c.status, c.reason)
		}
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, nil)
			add(t, e, insights.Event{Time: utc(3, 10, 9, 0), Kind: insights.KindSignIn, UserKey: "u", ErrorCode: c.code, Status: c.status})
			res := query(t, e, insights.Query{Metric: insights.Authentications, From: from, To: to,
				GroupBy: []insights.Dimension{insights.DimErrorCode, insights.DimStatus, insights.DimReason}})
			g := fmt.Sprintf("[%d|%s|%s]", c.code, c.want, c.reason)
			want := map[string]float64{"2025-03-10 attempts " + g: 1}
			switch c.want {
			case "success":
				want["2025-03-10 successes "+g] = 1
			case "failure":
				want["2025-03-10 failures "+g] = 1
			case "interrupted":
				want["2025-03-10 interrupts "+g] = 1
			}
			checkRows(t, res, want)
			active := 0.0
			if c.want == "success" {
				active = 1
			}
			checkRows(t, query(t, e, insights.Query{Metric: insights.ActiveUsers, From: from, To: to}),
				map[string]float64{"2025-03-10": active})
		})
	}

	t.Run("by reason and by status, one day of mixed codes", func(t *testing.T) {
		e := newEngine(t, nil)
		add(t, e,
			failedSignIn("u1", utc(3, 10, 9, 0), 50126),
			failedSignIn("u2", utc(3, 10, 9, 0), 50074),
			failedSignIn("u3", utc(3, 10, 9, 0), 12345),
			failedSignIn("u4", utc(3, 10, 9, 0), 0),
			failedSignIn("u5", utc(3, 10, 9, 0), 53003),
		)
		byReason := query(t, e, insights.Query{Metric: insights.Authentications, From: from, To: to,
			GroupBy: []insights.Dimension{insights.DimReason}})
		checkRows(t, byReason, map[string]float64{
			"2025-03-10 attempts []": 2, "2025-03-10 successes []": 1, "2025-03-10 interrupts []": 1,
			"2025-03-10 attempts [denied]": 2, "2025-03-10 failures [denied]": 2,
			"2025-03-10 attempts [other]": 1, "2025-03-10 failures [other]": 1,
		})
		byStatus := query(t, e, insights.Query{Metric: insights.SigningInUsers, From: from, To: to,
			GroupBy: []insights.Dimension{insights.DimStatus}})
		checkRows(t, byStatus, map[string]float64{
			"2025-03-10 [failure]": 3, "2025-03-10 [interrupted]": 1, "2025-03-10 [success]": 1,
		})
	})
}

// TestDictionaryCap: past Options.MaxDimensionValues new values count as
// "(other)" and results warn.
func TestDictionaryCap(t *testing.T) {
	e := newEngine(t, &insights.Options{MaxDimensionValues: 3})
	for i := 1; i <= 5; i++ {
		add(t, e, signInApp(fmt.Sprintf("u%d", i), utc(3, 10, 9, i), fmt.Sprintf("A%d", i), ""))
	}
	q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11),
		GroupBy: []insights.Dimension{insights.DimAppID}}
	res := query(t, e, q)
	checkRows(t, res, map[string]float64{
		"2025-03-10 [A1]": 1, "2025-03-10 [A2]": 1, "2025-03-10 [A3]": 1, "2025-03-10 [(other)]": 2,
	})
	if len(res.Warnings) == 0 {
		t.Errorf("no warning after the app id dictionary passed its cap")
	}
	total := query(t, e, insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11)})
	checkRows(t, total, map[string]float64{"2025-03-10": 5})
}

// TestOpenZone: a store's zone is fixed when it is created.
func TestOpenZone(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	e, err := insights.Open(ctx, s, &insights.Options{Zone: "Europe/Paris", Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Close()
	if _, err := insights.Open(ctx, s, &insights.Options{Zone: "UTC"}); err == nil {
		t.Errorf("Open with zone UTC on a Europe/Paris store succeeded")
	} else if !errors.Is(err, insights.ErrInvalidQuery) ||
		!strings.Contains(err.Error(), `Options.Zone: the store's zone is "Europe/Paris"; opened with "UTC"`) {
		t.Errorf("Open with another zone: %v, want an error wrapping ErrInvalidQuery (an Options error) naming both zones", err)
	}
	if _, err := insights.Open(ctx, s, &insights.Options{Zone: "America/New_York"}); err == nil {
		t.Errorf("Open with zone America/New_York on a Europe/Paris store succeeded")
	}
	for _, o := range []*insights.Options{nil, {}, {Zone: "Europe/Paris"}} {
		e, err := insights.Open(ctx, s, o)
		if err != nil {
			t.Errorf("Open(%+v) on a Europe/Paris store: %v", o, err)
			continue
		}
		res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 1), To: date(2025, 3, 2)})
		if err != nil || res.Zone != "Europe/Paris" {
			t.Errorf("reopened store: zone %v, %v; want Europe/Paris", res, err)
		}
		_ = e.Close()
	}
	if _, err := insights.Open(ctx, s, &insights.Options{Zone: "Europe/Paris", HLLPrecision: 12}); err == nil ||
		!strings.Contains(err.Error(), "Options.HLLPrecision: the store's precision is 14; opened with 12") {
		t.Errorf("Open with precision 12 on a store created with precision 14: %v, want an error naming both", err)
	}
	if _, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Not/AZone"}); !errors.Is(err, insights.ErrInvalidQuery) {
		t.Errorf("Open with an unknown zone: %v, want ErrInvalidQuery", err)
	}
}

// TestClosed: after Close, Add, Query and Users return ErrClosed.
func TestClosed(t *testing.T) {
	ctx := context.Background()
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	add(t, e, signIn("u1", utc(3, 10, 9, 0)))
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Add(ctx, signIn("u2", utc(3, 10, 9, 0))); !errors.Is(err, insights.ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
	q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11)}
	if _, err := e.Query(ctx, q); !errors.Is(err, insights.ErrClosed) {
		t.Errorf("Query after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Users(ctx, q); !errors.Is(err, insights.ErrClosed) {
		t.Errorf("Users after Close = %v, want ErrClosed", err)
	}
	if err := e.Close(); !errors.Is(err, insights.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestUsersExact: Engine.Users lists exactly the expected keys.
func TestUsersExact(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e,
		signIn("alice", utc(3, 10, 9, 0)),
		signIn("bob", utc(3, 10, 9, 0)),
		signIn("bob", utc(3, 11, 9, 0)),
		failedSignIn("mallory", utc(3, 11, 9, 0), 50126),
		signUp("carol", utc(3, 11, 10, 0)),
		userCreated("dave", utc(3, 9, 10, 0)),
		insights.Event{Time: utc(3, 11, 9, 0), Kind: insights.KindSignIn, PrincipalID: "svc", SignInType: insights.SignInServicePrincipal},
	)
	cases := []struct {
		name string
		q    insights.Query
		want map[string][]string
	}{
		{"active users per day",
			insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 12)},
			map[string][]string{"2025-03-10": {"alice", "bob"}, "2025-03-11": {"bob", "carol"}}},
		{"new users per day",
			insights.Query{Metric: insights.NewUsers, From: date(2025, 3, 10), To: date(2025, 3, 12)},
			map[string][]string{"2025-03-10": {"alice", "bob"}, "2025-03-11": {"carol"}}},
		{"total users as of 11 March",
			insights.Query{Metric: insights.TotalUsers, From: date(2025, 3, 11), To: date(2025, 3, 12)},
			map[string][]string{"2025-03-11": {"alice", "bob", "carol", "dave"}}},
		{"never-active users as of 11 March",
			insights.Query{Metric: insights.NeverActiveUsers, From: date(2025, 3, 11), To: date(2025, 3, 12)},
			map[string][]string{"2025-03-11": {"dave"}}},
		{"inactive 1 day as of 11 March",
			insights.Query{Metric: insights.InactiveUsers, From: date(2025, 3, 11), To: date(2025, 3, 12), Days: 1},
			map[string][]string{"2025-03-11": {"alice"}}},
		{"signing-in users on 11 March",
			insights.Query{Metric: insights.SigningInUsers, From: date(2025, 3, 11), To: date(2025, 3, 12)},
			map[string][]string{"2025-03-11": {"bob", "mallory"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := userLists(t, e, c.q); !reflect.DeepEqual(got, c.want) {
				t.Errorf("users = %v, want %v", got, c.want)
			}
		})
	}
}

// nestedFilter exercises every operator and nesting.
func nestedFilter() insights.Filter {
	return insights.And(
		insights.Eq(insights.DimAppID, "A"),
		insights.Not(insights.In(insights.DimOS, "iOS", "Android")),
		insights.Or(
			insights.Prefix(insights.DimCountry, "U"),
			insights.And(insights.Eq(insights.DimStatus, "failure"), insights.Not(insights.Eq(insights.DimReason, ""))),
			insights.In(insights.DimBrowserFamily),
		),
		insights.CIDR("198.51.100.0/24"),
		insights.Or(),
		insights.And(),
	)
}

// checkOps reports every JSON object of a filter without an "op".
func checkOps(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["op"]; !ok {
			t.Errorf("filter JSON object at %s has no \"op\": %v", path, x)
		}
		for k, c := range x {
			checkOps(t, c, path+"."+k)
		}
	case []any:
		for i, c := range x {
			if _, ok := c.(map[string]any); ok {
				checkOps(t, c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

// TestFilterJSON: filters marshal and unmarshal to the same filter, with
// an explicit "op" on every node.
func TestFilterJSON(t *testing.T) {
	cases := []struct {
		name string
		f    insights.Filter
	}{
		{"zero filter", insights.Filter{}},
		{"eq", insights.Eq(insights.DimAppID, "A")},
		{"in with no values", insights.In(insights.DimOS)},
		{"not of in", insights.Not(insights.In(insights.DimOS, "iOS", "Android"))},
		{"or of ands", insights.Or(
			insights.And(insights.Eq(insights.DimAppID, "A"), insights.Eq(insights.DimOS, "iOS")),
			insights.And(insights.Eq(insights.DimAppID, "B"), insights.Eq(insights.DimOS, "")))},
		{"nested, every operator", nestedFilter()},
		{"double negation", insights.Not(insights.Not(insights.Prefix(insights.DimBrowser, "Chrome \"1")))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.f)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var generic any
			if err := json.Unmarshal(b, &generic); err != nil {
				t.Fatalf("not JSON: %s", b)
			}
			checkOps(t, generic, "$")
			var back insights.Filter
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal %s: %v", b, err)
			}
			if back.String() != c.f.String() {
				t.Errorf("String after round trip = %s, want %s", back.String(), c.f.String())
			}
			if back.Op() != c.f.Op() || back.IsAll() != c.f.IsAll() {
				t.Errorf("op %v (all %t) after round trip, want %v (all %t)", back.Op(), back.IsAll(), c.f.Op(), c.f.IsAll())
			}
			b2, err := json.Marshal(back)
			if err != nil || string(b2) != string(b) {
				t.Errorf("re-marshalled = %s, %v; want %s", b2, err, b)
			}
		})
	}

	t.Run("the documented example", func(t *testing.T) {
		doc := `{"op":"and","args":[{"op":"eq","dim":"appId","value":"A"},
		        {"op":"not","arg":{"op":"in","dim":"os","values":["iOS","Android"]}}]}`
		var f insights.Filter
		if err := json.Unmarshal([]byte(doc), &f); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		want := insights.And(insights.Eq(insights.DimAppID, "A"), insights.Not(insights.In(insights.DimOS, "iOS", "Android")))
		if f.String() != want.String() {
			t.Errorf("got %s, want %s", f, want)
		}
	})

	t.Run("a round-tripped filter gives the same answer", func(t *testing.T) {
		e := newEngine(t, nil)
		add(t, e, filterDay()...)
		f := insights.And(insights.Eq(insights.DimAppID, "A"), insights.Not(insights.Eq(insights.DimOS, "Windows")))
		b, _ := json.Marshal(f)
		var back insights.Filter
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11), Filter: back}
		checkRows(t, query(t, e, q), map[string]float64{"2025-03-10": 1})
	})
}

// TestQueryJSON: queries and results marshal to JSON and back.
func TestQueryJSON(t *testing.T) {
	q := insights.Query{
		Metric: insights.InactiveUsers, From: date(2024, 2, 29), To: date(2024, 4, 1),
		Granularity: insights.Week, WeekStart: 7,
		Filter:  nestedFilter(),
		GroupBy: []insights.Dimension{insights.DimAppID, insights.DimOSFamily},
		Top:     3, Other: true, Approximate: true, Days: 30,
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var back insights.Query
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal %s: %v", b, err)
	}
	if back.Filter.String() != q.Filter.String() {
		t.Errorf("filter after round trip = %s, want %s", back.Filter, q.Filter)
	}
	bf, qf := back, q
	bf.Filter, qf.Filter = insights.Filter{}, insights.Filter{}
	if !reflect.DeepEqual(bf, qf) {
		t.Errorf("query after round trip = %+v, want %+v", bf, qf)
	}
	if b2, _ := json.Marshal(back); string(b2) != string(b) {
		t.Errorf("re-marshalled = %s, want %s", b2, b)
	}
	var generic map[string]any
	_ = json.Unmarshal(b, &generic)
	for k, want := range map[string]any{"metric": "inactiveUsers", "from": "2024-02-29", "to": "2024-04-01", "granularity": "week"} {
		if generic[k] != want {
			t.Errorf("JSON %q = %v, want %v", k, generic[k], want)
		}
	}
	checkOps(t, generic["filter"], "$.filter")

	t.Run("result", func(t *testing.T) {
		e := newEngine(t, nil)
		add(t, e, appDay()...)
		res := query(t, e, insights.Query{Metric: insights.Authentications, From: date(2025, 3, 9), To: date(2025, 3, 12),
			Filter: insights.Not(insights.Eq(insights.DimAppID, "D")), GroupBy: []insights.Dimension{insights.DimAppID}, Top: 2, Other: true})
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back insights.Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal %s: %v", b, err)
		}
		if !reflect.DeepEqual(back.Rows, res.Rows) || back.Zone != res.Zone || back.Window != res.Window ||
			!slices.Equal(back.Warnings, res.Warnings) || back.Query.Filter.String() != res.Query.Filter.String() {
			t.Errorf("result after round trip = %+v, want %+v", back, res)
		}
		if b2, _ := json.Marshal(back); string(b2) != string(b) {
			t.Errorf("re-marshalled = %s, want %s", b2, b)
		}
	})
}

// TestContext: a cancelled context stops Add, Query and a Users stream.
func TestContext(t *testing.T) {
	e := newEngine(t, nil)
	var evs []insights.Event
	for i := 0; i < 5000; i++ {
		evs = append(evs, signIn(fmt.Sprintf("u%04d", i), utc(3, 10, 9, 0)))
	}
	add(t, e, evs...)
	q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 10), To: date(2025, 3, 11)}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Add(cancelled, signIn("late", utc(3, 10, 9, 0))); !errors.Is(err, context.Canceled) {
		t.Errorf("Add with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := e.Query(cancelled, q); !errors.Is(err, context.Canceled) {
		t.Errorf("Query with a cancelled context = %v, want context.Canceled", err)
	}
	checkRows(t, query(t, e, q), map[string]float64{"2025-03-10": 5000})

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c, err := e.Users(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for c.Next() {
		if n++; n == 1 {
			stop()
		}
	}
	if !errors.Is(c.Err(), context.Canceled) || n >= 5000 {
		t.Errorf("after cancelling, the stream gave %d of 5000 users and Err %v; want it stopped with context.Canceled", n, c.Err())
	}
}
