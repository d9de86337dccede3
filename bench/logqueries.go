package main

// The sign-in log measures (SPEC §7, §13): one user's sign-ins over a
// week, and the first page of a filtered listing, newest first. Answers
// are lists compared in order: "time|request id|ip" per entry.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// list is a listing in canonical form, in its order.
type list []string

func entryKey(t time.Time, requestID, ip string) string {
	return t.UTC().Format(time.RFC3339Nano) + "|" + requestID + "|" + ip
}

// listDiff describes the first difference of b from a.
func listDiff(a, b list) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("entry %d: %q vs %q", i, a[i], b[i])
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d entries vs %d", len(a), len(b))
	}
	return ""
}

const (
	userWeekName    = "user_week_signins"
	pageFilterName  = "signins_page_filtered"
	userWeekSample  = 50  // users asked about
	pageFilterLimit = 100 // entries of the page
)

// weekOf is the last 7 days of the window.
func weekOf(w window) window { return window{max(w.from, w.to-7), w.to} }

// sampleUsers returns up to n users with a user sign-in in week, evenly
// spaced among them by index: deterministic, and heavy and light users alike.
func sampleUsers(sc *scanDB, week window, n int) []uint32 {
	seen := newBitset(sc.users)
	for d := week.from; d < week.to; d++ {
		for i := range sc.days[d] {
			if r := &sc.days[d][i]; r.kind == insights.KindSignIn && r.user != noUser {
				seen.add(r.user)
			}
		}
	}
	var all []uint32
	for u := range sc.users {
		if seen[u>>6]&(1<<(u&63)) != 0 {
			all = append(all, uint32(u))
		}
	}
	if len(all) <= n {
		return all
	}
	out := make([]uint32, n)
	for k := range out {
		out[k] = all[k*len(all)/n]
	}
	return out
}

// The filtered page: failed sign-ins from one /16 of the largest country
// (SignIns: kind = signIn; IP in the CIDR, a log field; status, indexed).
func pageFilterBlock() uint32 { return countryBlock(1, 0) }

func pageFilterCIDR() string { return ipString(pageFilterBlock()) + "/16" }

func pageFilterSQLPrefix() string {
	b := pageFilterBlock()
	return fmt.Sprintf("%d.%d.", b>>24, b>>16&0xff)
}

func pageFilter() insights.Filter {
	return insights.And(insights.CIDR(pageFilterCIDR()), insights.Eq(insights.DimStatus, insights.StatusFailure.String()))
}

// engineList canonicalizes a page.
func engineList(p *insights.LogPage, out list) list {
	for _, e := range p.Entries {
		out = append(out, entryKey(e.Time, e.RequestID, e.IP))
	}
	return out
}

// logQueries times and compares the two log measures.
func runLogQueries(ctx context.Context, o options, g *generator, eng *insights.Engine, dk *duck, sc *scanDB, w window, r *report, logf func(string, ...any)) error {
	week := weekOf(w)
	users := sampleUsers(sc, week, userWeekSample)
	if len(users) == 0 {
		return fmt.Errorf("%s: no user signed in during the week", userWeekName)
	}
	from, to := dataStart.AddDate(0, 0, week.from), dataStart.AddDate(0, 0, week.to)

	// One user's week.
	qr := queryResult{Name: userWeekName}
	var ea, sa list
	da, ia := list{}, list{}
	stop := startProfile(o.cpuprofile, userWeekName)
	var err error
	qr.InsightsNs, err = timeCalls(o.runs, len(users), func(k int, first bool) error {
		p, err := eng.UserSignIns(ctx, g.userKeys[users[k]], date(week.from), date(week.to))
		if err == nil && first {
			ea = engineList(p, ea)
		}
		return err
	})
	stop()
	if err != nil {
		return fmt.Errorf("%s: insights: %w", userWeekName, err)
	}
	const weekSQL = `SELECT ts, request_id, ip FROM %s WHERE user_id = ? AND ts >= ? AND ts < ? AND kind = 'signIn'
		ORDER BY ts DESC, seq DESC LIMIT 1000`
	for _, t := range []struct {
		table string
		ns    *int64
		out   *list
		arg   func(u uint32) any
	}{
		{tableGUID, &qr.DuckDBNs, &da, func(u uint32) any { return g.userKeys[u] }},
		{tableInt, &qr.DuckDBIntNs, &ia, func(u uint32) any { return int32(u) }},
	} {
		stmt, err := dk.db.PrepareContext(ctx, fmt.Sprintf(weekSQL, t.table))
		if err != nil {
			return fmt.Errorf("%s: duckdb: %w", userWeekName, err)
		}
		*t.ns, err = timeCalls(o.runs, len(users), func(k int, first bool) error {
			rows, err := stmt.QueryContext(ctx, t.arg(users[k]), from, to)
			if err != nil {
				return err
			}
			return scanList(rows, t.out, first)
		})
		stmt.Close()
		if err != nil {
			return fmt.Errorf("%s: duckdb: %w", userWeekName, err)
		}
	}
	qr.ScanNs, _ = timeCalls(o.runs, len(users), func(k int, first bool) error {
		l := sc.userWeek(g, week, users[k])
		if first {
			sa = append(sa, l...)
		}
		return nil
	})
	finishList(&qr, ea, da, ia, sa, r)
	logf("%-28s insights %10s  duckdb %10s  duckdb-int %10s  scan %10s  per call, %d users, %d entries, equal=%v",
		qr.Name, ns(qr.InsightsNs), ns(qr.DuckDBNs), ns(qr.DuckDBIntNs), ns(qr.ScanNs), len(users), qr.Keys, qr.Equal)

	// The filtered page.
	qr = queryResult{Name: pageFilterName}
	lq := insights.LogQuery{From: date(w.from), To: date(w.to), Filter: pageFilter(), Limit: pageFilterLimit}
	ea, sa, da, ia = nil, nil, list{}, list{}
	stop = startProfile(o.cpuprofile, pageFilterName)
	qr.InsightsNs, err = timeIt(o.runs, func() error {
		p, err := eng.SignIns(ctx, lq)
		if err == nil && ea == nil {
			ea = engineList(p, list{})
		}
		return err
	})
	stop()
	if err != nil {
		return fmt.Errorf("%s: insights: %w", pageFilterName, err)
	}
	pageSQL := `SELECT ts, request_id, ip FROM %s WHERE kind = 'signIn' AND day >= ` + sqlDate(w.from) + ` AND day < ` + sqlDate(w.to) +
		` AND starts_with(ip, '` + pageFilterSQLPrefix() + `') AND status = 'failure' ORDER BY ts DESC, seq DESC LIMIT ` + fmt.Sprint(pageFilterLimit)
	for _, t := range []struct {
		table string
		ns    *int64
		out   *list
	}{{tableGUID, &qr.DuckDBNs, &da}, {tableInt, &qr.DuckDBIntNs, &ia}} {
		first := true
		*t.ns, err = timeIt(o.runs, func() error {
			rows, err := dk.db.QueryContext(ctx, fmt.Sprintf(pageSQL, t.table))
			if err != nil {
				return err
			}
			err = scanList(rows, t.out, first)
			first = false
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: duckdb: %w", pageFilterName, err)
		}
	}
	qr.ScanNs, _ = timeIt(o.runs, func() error {
		l := sc.failedFromBlock(g, w, pageFilterBlock(), pageFilterLimit)
		if sa == nil {
			sa = l
		}
		return nil
	})
	finishList(&qr, ea, da, ia, sa, r)
	logf("%-28s insights %10s  duckdb %10s  duckdb-int %10s  scan %10s  %s, %d entries, equal=%v",
		qr.Name, ns(qr.InsightsNs), ns(qr.DuckDBNs), ns(qr.DuckDBIntNs), ns(qr.ScanNs), pageFilterCIDR(), qr.Keys, qr.Equal)
	return nil
}

// scanList appends the rows' (ts, request_id, ip) to out when keep.
func scanList(rows *sql.Rows, out *list, keep bool) error {
	defer rows.Close()
	for rows.Next() {
		var t time.Time
		var id, ip sql.NullString
		if err := rows.Scan(&t, &id, &ip); err != nil {
			return err
		}
		if keep {
			*out = append(*out, entryKey(t, id.String, ip.String))
		}
	}
	return rows.Err()
}

// finishList compares the lists and records the result.
func finishList(qr *queryResult, ea, da, ia, sa list, r *report) {
	qr.Keys = len(sa)
	qr.Equal = slices.Equal(ea, da) && slices.Equal(ea, ia) && slices.Equal(ea, sa) && len(ea) > 0
	if !qr.Equal {
		r.AllEqual = false
		var m []string
		for _, c := range []struct {
			name string
			l    list
		}{{"duckdb", da}, {"duckdb_int", ia}, {"scan", sa}} {
			if d := listDiff(ea, c.l); d != "" {
				m = append(m, fmt.Sprintf("insights vs %s: %s", c.name, d))
			}
		}
		if len(ea) == 0 {
			m = append(m, "empty answer")
		}
		qr.Mismatch = strings.Join(m, " | ")
		fmt.Fprintf(os.Stderr, "MISMATCH %s: %s\n", qr.Name, qr.Mismatch)
	}
	qr.VsDuckDB = float64(qr.DuckDBNs) / float64(max(1, qr.InsightsNs))
	qr.VsDuckDBInt = float64(qr.DuckDBIntNs) / float64(max(1, qr.InsightsNs))
	r.Queries = append(r.Queries, *qr)
}

// timeCalls runs f(k) for every k < n once to warm up (first true), then
// runs times more, and returns the median duration of one call.
func timeCalls(runs, n int, f func(k int, first bool) error) (int64, error) {
	for k := range n {
		if err := f(k, true); err != nil {
			return 0, err
		}
	}
	ts := make([]int64, 0, runs*n)
	for range max(1, runs) {
		for k := range n {
			t0 := time.Now()
			if err := f(k, false); err != nil {
				return 0, err
			}
			ts = append(ts, time.Since(t0).Nanoseconds())
		}
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// logEntry is a scan match: event i of day d.
type logEntry struct {
	d   int
	i   int
	sec int32
}

// newestFirst orders matches as the log lists them: by time, then by the
// order applied, descending.
func newestFirst(a, b logEntry) int {
	return cmp.Or(cmp.Compare(b.d, a.d), cmp.Compare(b.sec, a.sec), cmp.Compare(b.i, a.i))
}

func (s *scanDB) listOf(g *generator, es []logEntry) list {
	slices.SortFunc(es, newestFirst)
	out := make(list, len(es))
	for k, e := range es {
		r := &s.days[e.d][e.i]
		t := dataStart.Add(time.Duration(e.d)*24*time.Hour + time.Duration(e.sec)*time.Second)
		out[k] = entryKey(t, g.requestID(e.d, e.i), g.ipOf(e.d, e.i, int32(r.user), r.country))
	}
	return out
}

// userWeek: user u's sign-ins in week, newest first.
func (s *scanDB) userWeek(g *generator, week window, u uint32) list {
	var es []logEntry
	for d := week.from; d < week.to; d++ {
		for i := range s.days[d] {
			if r := &s.days[d][i]; r.user == u && r.kind == insights.KindSignIn {
				es = append(es, logEntry{d, i, r.sec})
			}
		}
	}
	return s.listOf(g, es)
}

// failedFromBlock: the newest limit failed sign-ins of users from the /16
// block (principals sign in from 20.0.0.0/16, outside every country block).
func (s *scanDB) failedFromBlock(g *generator, w window, block uint32, limit int) list {
	var es []logEntry
	for d := w.to - 1; d >= w.from && len(es) < limit; d-- {
		var day []logEntry
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.kind == insights.KindSignIn && r.status == insights.StatusFailure && r.user != noUser &&
				g.ipNum(d, i, int32(r.user), r.country)&0xffff0000 == block {
				day = append(day, logEntry{d, i, r.sec})
			}
		}
		slices.SortFunc(day, newestFirst)
		es = append(es, day[:min(len(day), limit-len(es))]...)
	}
	return s.listOf(g, es)
}
