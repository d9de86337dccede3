package main

// The queries every system answers, and how their answers are compared.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// window is a half-open range of day indices [from, to).
type window struct{ from, to int }

func (w window) days() int { return w.to - w.from }

// date returns the calendar date of day index d.
func date(d int) insights.Date {
	return insights.DateOf(dataStart.AddDate(0, 0, d), dataStart.Location())
}

func dayKey(d int) string { return date(d).String() }

func sqlDate(d int) string { return "DATE '" + date(d).String() + "'" }

// answer is a query's result in canonical form: "key parts joined by |" →
// value, without zero values (systems differ in whether they emit zeros).
type answer map[string]int64

func (a answer) add(k string, v int64) {
	if v != 0 {
		a[k] += v
	}
}

// diff describes how b differs from a, at most max keys.
func diff(a, b answer, max int) string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if va != vb || oka != okb {
			out = append(out, fmt.Sprintf("%q: %d vs %d", k, va, vb))
			if len(out) == max {
				out = append(out, "…")
				break
			}
		}
	}
	return strings.Join(out, "; ")
}

func equal(a, b answer) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// activitySQL is SPEC §4's activity as a predicate on one row.
const activitySQL = `status = 'success' AND (kind = 'signUp' OR (kind = 'signIn' AND sign_in_type IN ('interactiveUser', 'nonInteractiveUser')))`

var authSeries = []string{"attempts", "successes", "failures", "interrupts"}

// The three apps of the filtered query: a popular one, a mid-ranked one
// and a niche one (by the generator's Zipf ranks).
var filterApps = []uint8{2, 7, 15}

const filterCountry, filterOS = 1, 4 // US, iOS

// spec is one benchmark query as each system asks it.
type spec struct {
	name   string
	query  insights.Query // the engine's query; From and To are set from the window
	series string         // keep only the engine rows of this series ("" keeps all)
	multi  []string       // series the SQL returns as value columns, in order; they end the keys
	dated  bool           // the bucket's date is the first key part
	sql    string         // {T} table, {FROM} {TO} dates (To exclusive), {ACT} activity, {APPS}, {W} days
	scan   func(*scanDB, window) answer
}

func filteredPred(r *rec) bool {
	return r.country == filterCountry && r.os == filterOS &&
		(r.app == filterApps[0] || r.app == filterApps[1] || r.app == filterApps[2])
}

// specs returns the benchmark queries, the generator's app ids filled in.
func specs(g *generator) []spec {
	apps := make([]string, len(filterApps))
	for i, a := range filterApps {
		apps[i] = g.appIDs[a]
	}
	return []spec{
		{
			name:  "dau_30d",
			query: insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Day},
			dated: true,
			sql:   `SELECT day, count(DISTINCT user_id) FROM {T} WHERE day >= {FROM} AND day < {TO} AND {ACT} GROUP BY day`,
			scan:  (*scanDB).activeByDay,
		},
		{
			name:  "mau_30d",
			query: insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total},
			sql:   `SELECT count(DISTINCT user_id) FROM {T} WHERE day >= {FROM} AND day < {TO} AND {ACT}`,
			scan:  func(s *scanDB, w window) answer { return s.activeTotal(w, nil) },
		},
		{
			name: "mau_30d_filtered",
			query: insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total,
				Filter: insights.And(
					insights.Eq(insights.DimCountry, countryCodes[filterCountry]),
					insights.In(insights.DimAppID, apps...),
					insights.Eq(insights.DimOS, osNames[filterOS]))},
			sql: `SELECT count(DISTINCT user_id) FROM {T} WHERE day >= {FROM} AND day < {TO} AND {ACT}
				AND country = '` + countryCodes[filterCountry] + `' AND app_id IN ({APPS}) AND os = '` + osNames[filterOS] + `'`,
			scan: func(s *scanDB, w window) answer { return s.activeTotal(w, filteredPred) },
		},
		{
			name:  "new_users_30d",
			query: insights.Query{Metric: insights.NewUsers, Granularity: insights.Day},
			dated: true,
			sql: `SELECT first_day, count(*) FROM (
					SELECT user_id, min(day) AS first_day FROM {T} WHERE {ACT} AND day < {TO} GROUP BY user_id)
				WHERE first_day >= {FROM} GROUP BY first_day`,
			scan: (*scanDB).newUsers,
		},
		{
			name:  "inactive_30d",
			query: insights.Query{Metric: insights.InactiveUsers, Granularity: insights.Day, Days: 30},
			dated: true,
			// A user is inactive as of d when some activity day a has
			// a + 30 <= d and the user's next activity day after a is
			// later than d: one such a per user and d, so count(*) is distinct.
			sql: `WITH ud AS (SELECT DISTINCT user_id, day FROM {T} WHERE {ACT} AND day < {TO}),
				g AS (SELECT day, lead(day) OVER (PARTITION BY user_id ORDER BY day) AS nxt FROM ud),
				d AS (SELECT {FROM} + CAST(i AS INTEGER) AS as_of FROM range(0, {W}) t(i))
				SELECT as_of, count(*) FROM d JOIN g ON g.day + 30 <= d.as_of AND (g.nxt IS NULL OR g.nxt > d.as_of)
				GROUP BY as_of`,
			scan: func(s *scanDB, w window) answer { return s.inactive(w, 30) },
		},
		{
			name:  "auth_by_os_30d",
			query: insights.Query{Metric: insights.Authentications, Granularity: insights.Day, GroupBy: []insights.Dimension{insights.DimOS}},
			multi: authSeries,
			dated: true,
			sql: `SELECT day, os, count(*), count(*) FILTER (WHERE status = 'success'),
					count(*) FILTER (WHERE status = 'failure'), count(*) FILTER (WHERE status = 'interrupted')
				FROM {T} WHERE kind = 'signIn' AND day >= {FROM} AND day < {TO} GROUP BY day, os`,
			scan: (*scanDB).authByOS,
		},
		{
			name:   "mfa_failures_by_reason_30d",
			query:  insights.Query{Metric: insights.MFAChallenges, Granularity: insights.Day, GroupBy: []insights.Dimension{insights.DimMFAResult}},
			series: "failures",
			dated:  true,
			sql: `SELECT day, mfa_result, count(*) FROM {T}
				WHERE day >= {FROM} AND day < {TO} AND (kind = 'mfa' OR (kind = 'signIn' AND mfa_method <> ''))
					AND mfa_result <> 'success'
				GROUP BY day, mfa_result`,
			scan: (*scanDB).mfaFailures,
		},
		{
			name: "mau_by_country_top10",
			query: insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total,
				GroupBy: []insights.Dimension{insights.DimCountry}, Top: 10},
			sql: `SELECT country, count(DISTINCT user_id) AS n FROM {T} WHERE day >= {FROM} AND day < {TO} AND {ACT}
				GROUP BY country ORDER BY n DESC, country LIMIT 10`,
			scan: func(s *scanDB, w window) answer { return s.activeByCountryTop(w, 10) },
		},
	}
}

// engineQuery returns the spec's engine query over w.
func (s *spec) engineQuery(w window) insights.Query {
	q := s.query
	q.From, q.To = date(w.from), date(w.to)
	return q
}

// sqlFor returns the spec's SQL on table t over w.
func (s *spec) sqlFor(t string, w window, g *generator) string {
	apps := make([]string, len(filterApps))
	for i, a := range filterApps {
		apps[i] = "'" + g.appIDs[a] + "'"
	}
	return strings.NewReplacer(
		"{T}", t, "{FROM}", sqlDate(w.from), "{TO}", sqlDate(w.to), "{ACT}", activitySQL,
		"{APPS}", strings.Join(apps, ", "), "{W}", fmt.Sprint(w.days()),
	).Replace(s.sql)
}

// engineAnswer canonicalizes an engine result for the spec.
func (s *spec) engineAnswer(res *insights.Result) answer {
	a := answer{}
	for _, r := range res.Rows {
		if s.series != "" && r.Series != s.series {
			continue
		}
		var parts []string
		if s.dated {
			parts = append(parts, r.Start.String())
		}
		parts = append(parts, r.Groups...)
		if s.multi != nil {
			parts = append(parts, r.Series)
		}
		a.add(strings.Join(parts, "|"), int64(r.Value))
	}
	return a
}
