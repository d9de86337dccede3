package insights_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// TestApproximate checks approximate mode (SPEC §4) on 240,000 users over
// 60 days. User i signs in once, on day i mod 60 from 1 January 2025, with
// app A when (i / 60) is even and app B otherwise. So every day has 4,000
// active users, 2,000 of them on app A, and any n whole days have
// 4,000 × n distinct active users.
func TestApproximate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds 240,000 users; skipped with -short")
	}
	const (
		nUsers  = 240_000
		nDays   = 60
		perDay  = nUsers / nDays // 4,000
		perDayA = perDay / 2     // 2,000
	)
	e := newEngine(t, &insights.Options{Now: fixed(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))})
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	apps := [2]string{"A", "B"}
	evs := make([]insights.Event, 0, 10_000)
	for i := 0; i < nUsers; i++ {
		evs = append(evs, insights.Event{
			Time: start.AddDate(0, 0, i%nDays), Kind: insights.KindSignIn,
			UserKey: fmt.Sprintf("user-%06d", i), AppID: apps[(i/nDays)%2],
		})
		if len(evs) == cap(evs) {
			if err := e.Add(ctx, evs...); err != nil {
				t.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	add(t, e, evs...)

	jan1 := date(2025, 1, 1)
	// Precision 14 by default: 1.04 / sqrt(2^14) = 0.008125.
	wantRSE := 1.04 / math.Sqrt(1<<14)

	cases := []struct {
		name  string
		q     insights.Query
		exact map[string]float64
	}{
		{"30-day total bucket, 1-30 January",
			insights.Query{Metric: insights.ActiveUsers, From: jan1, To: jan1.AddDays(30), Granularity: insights.Total},
			map[string]float64{"2025-01-01": 30 * perDay}},
		{"30-day total bucket across a month end, 20 January-18 February",
			insights.Query{Metric: insights.ActiveUsers, From: date(2025, 1, 20), To: date(2025, 2, 19), Granularity: insights.Total},
			map[string]float64{"2025-01-20": 30 * perDay}},
		{"months: January 31 days, February 28 days",
			insights.Query{Metric: insights.ActiveUsers, From: jan1, To: date(2025, 3, 1), Granularity: insights.Month},
			map[string]float64{"2025-01-01": 31 * perDay, "2025-02-01": 28 * perDay}},
		{"ISO weeks: Mon 6 January and Mon 13 January",
			insights.Query{Metric: insights.ActiveUsers, From: date(2025, 1, 6), To: date(2025, 1, 20), Granularity: insights.Week},
			map[string]float64{"2025-01-06": 7 * perDay, "2025-01-13": 7 * perDay}},
		{"30-day rolling active users as of 15 February",
			insights.Query{Metric: insights.RollingActiveUsers, From: date(2025, 2, 15), To: date(2025, 2, 16), Days: 30},
			map[string]float64{"2025-02-15": 30 * perDay}},
		{"per day over the 60 days and the day after", func() insights.Query {
			return insights.Query{Metric: insights.ActiveUsers, From: jan1, To: jan1.AddDays(nDays + 1)}
		}(), func() map[string]float64 {
			m := map[string]float64{}
			for d := 0; d < nDays; d++ {
				m[jan1.AddDays(d).String()] = perDay
			}
			m[jan1.AddDays(nDays).String()] = 0 // 2 March: nobody
			return m
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exact := query(t, e, c.q)
			if exact.Approximate {
				t.Errorf("exact query answered approximately")
			}
			checkRows(t, exact, c.exact)

			aq := c.q
			aq.Approximate = true
			res := query(t, e, aq)
			if !res.Approximate {
				t.Fatalf("approximate query: Result.Approximate is false (warnings %v)", res.Warnings)
			}
			if math.Abs(res.RelativeError-wantRSE) > 1e-9 {
				t.Errorf("RelativeError = %v, want %v (precision 14)", res.RelativeError, wantRSE)
			}
			if len(res.Rows) != len(c.exact) {
				t.Errorf("%d rows, want %d", len(res.Rows), len(c.exact))
			}
			for _, r := range res.Rows {
				want, ok := c.exact[rowKey(r)]
				if !ok {
					t.Errorf("unexpected row %s", rowKey(r))
					continue
				}
				if tol := 3 * res.RelativeError * want; math.Abs(r.Value-want) > tol {
					t.Errorf("row %s = %v, want %v ± %.0f (3 standard errors)", rowKey(r), r.Value, want, tol)
				}
			}
		})
	}

	t.Run("a filtered approximate query is answered exactly, with a warning", func(t *testing.T) {
		q := insights.Query{Metric: insights.ActiveUsers, From: jan1, To: jan1.AddDays(30), Granularity: insights.Total,
			Filter: insights.Eq(insights.DimAppID, "A"), Approximate: true}
		res := query(t, e, q)
		if res.Approximate || res.RelativeError != 0 {
			t.Errorf("Approximate = %t, RelativeError = %v; want an exact answer", res.Approximate, res.RelativeError)
		}
		if len(res.Warnings) == 0 {
			t.Errorf("no warning that the approximate query was answered exactly")
		}
		checkRows(t, res, map[string]float64{"2025-01-01": 30 * perDayA})
	})

	t.Run("a grouped approximate query is answered exactly, with a warning", func(t *testing.T) {
		q := insights.Query{Metric: insights.ActiveUsers, From: jan1, To: jan1.AddDays(30), Granularity: insights.Total,
			GroupBy: []insights.Dimension{insights.DimAppID}, Approximate: true}
		res := query(t, e, q)
		if res.Approximate {
			t.Errorf("Approximate = true; want an exact answer")
		}
		if len(res.Warnings) == 0 {
			t.Errorf("no warning that the approximate query was answered exactly")
		}
		checkRows(t, res, map[string]float64{"2025-01-01 [A]": 30 * perDayA, "2025-01-01 [B]": 30 * perDayA})
	})
}

// TestLateDeletionLeavesNoUserInTheSketches: a deletion applied after the
// user's later activity takes the user out of the approximate counts of
// the days after it, as out of the exact ones, in memory and in the
// catalog a checkpoint writes (the sketches are rebuilt; a sketch cannot
// forget one user). Ten users, a few days: the sketches count exactly.
func TestLateDeletionLeavesNoUserInTheSketches(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	opts := &insights.Options{Now: fixed(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))}
	e, err := insights.Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2025, 1, day, hour, 0, 0, 0, time.UTC) }
	var evs []insights.Event
	for i := range 10 {
		for _, day := range []int{3, 10, 12} {
			evs = append(evs, insights.Event{Time: at(day, 12), Kind: insights.KindSignIn, UserKey: fmt.Sprintf("u%d", i)})
		}
	}
	add(t, e, evs...)
	if err := e.Flush(ctx); err != nil { // the day sketches saved with u0 and u1 in them
		t.Fatal(err)
	}
	add(t, e, insights.Event{Time: at(5, 9), Kind: insights.KindUserDeleted, UserKey: "u0"},
		insights.Event{Time: at(11, 9), Kind: insights.KindUserDeleted, UserKey: "u1"},
		insights.Event{Time: at(12, 9), Kind: insights.KindUserDeleted, UserKey: "u2"}) // active later that day: still counts on the 12th
	want := map[string]float64{"2025-01-03": 10, "2025-01-10": 9, "2025-01-12": 8}
	check := func(e *insights.Engine, when string) {
		t.Helper()
		for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Month} {
			q := insights.Query{Metric: insights.ActiveUsers, From: date(2025, 1, 1), To: date(2025, 2, 1), Granularity: g}
			exact, approx := query(t, e, q), query(t, e, func() insights.Query { q.Approximate = true; return q }())
			for i, r := range exact.Rows {
				if a := approx.Rows[i]; a.Value != r.Value {
					t.Errorf("%s, %s from %s: approximately %v, exactly %v", when, g, r.Start, a.Value, r.Value)
				}
				if w, ok := want[r.Start.String()]; ok && g == insights.Day && r.Value != w {
					t.Errorf("%s, %s: exactly %v, want %v", when, r.Start, r.Value, w)
				}
			}
		}
	}
	check(e, "in memory")
	add(t, e, insights.Event{Time: at(2, 9), Kind: insights.KindUserDeleted, UserKey: "u3"}) // stale again, then saved
	want["2025-01-03"], want["2025-01-10"], want["2025-01-12"] = 9, 8, 7
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = insights.Open(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	check(e, "reopened")
}
