// Command quickstart is starter code for the insights library: it opens an
// engine on a directory store, adds a month of generated sign-ins, and
// prints the questions an identity dashboard asks: daily and weekly active
// users, new users, failures by reason, monthly active users by app, who
// went inactive.
//
//	go run ./examples/quickstart [-store DIR]
//
// Run it twice: the second run finds the first run's events in the store,
// and adding the same events again changes nothing (request ids make
// ingest idempotent).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	dir := flag.String("store", filepath.Join(os.TempDir(), "insights-quickstart"), "directory of the store")
	flag.Parse()
	ctx := context.Background()
	st, err := store.Dir(*dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	clock := time.Date(2026, 3, 31, 18, 0, 0, 0, time.UTC)
	eng, err := insights.Open(ctx, st, &insights.Options{
		Zone: "Europe/Paris",
		Now:  func() time.Time { return clock }, // a fixed clock keeps the output reproducible
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); err == nil {
			err = cerr
		}
	}()

	before, err := eng.Query(ctx, insights.Query{Metric: insights.Requests,
		From: insights.NewDate(2026, 3, 1), To: insights.NewDate(2026, 4, 1), Granularity: insights.Total})
	if err != nil {
		return err
	}
	rec := eng.Recovery()
	fmt.Printf("Store %s: %.0f events from earlier runs (checkpoint %d, %d log records replayed)\n",
		*dir, before.Rows[0].Value, rec.Checkpoint, rec.LogRecords)

	if err := eng.Add(ctx, generate(eng.Zone())...); err != nil {
		return err
	}

	march := func(m insights.Metric, g insights.Granularity) insights.Query {
		return insights.Query{Metric: m, From: insights.NewDate(2026, 3, 1), To: insights.NewDate(2026, 4, 1), Granularity: g}
	}
	show := func(title string, q insights.Query) error {
		res, err := eng.Query(ctx, q)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s\n", title)
		for _, r := range res.Rows {
			label := r.Start.String()
			if r.Series != "" {
				label += " " + r.Series
			}
			if len(r.Groups) > 0 {
				label += " " + strings.Join(r.Groups, "/")
			}
			flags := ""
			if r.Partial {
				flags += " (partial)"
			}
			if r.Incomplete {
				flags += " (incomplete)"
			}
			fmt.Printf("  %-34s %6.0f%s\n", label, r.Value, flags)
		}
		return nil
	}

	lastWeek := march(insights.ActiveUsers, insights.Day)
	lastWeek.From = insights.NewDate(2026, 3, 25)
	steps := []struct {
		title string
		q     insights.Query
	}{
		{"Daily active users, last week of March", lastWeek},
		{"Weekly active users (ISO weeks)", march(insights.ActiveUsers, insights.Week)},
		{"New users per week", march(insights.NewUsers, insights.Week)},
		{"Monthly active users by app, top 3", func() insights.Query {
			q := march(insights.ActiveUsers, insights.Month)
			q.GroupBy, q.Top, q.Other = []insights.Dimension{insights.DimAppName}, 3, true
			return q
		}()},
		{"Active users on the Payroll app from iOS (one and the same sign-in)", func() insights.Query {
			q := march(insights.ActiveUsers, insights.Month)
			q.Filter = insights.And(insights.Eq(insights.DimAppName, "Payroll"), insights.Eq(insights.DimOSFamily, "iOS"))
			return q
		}()},
		{"Failed sign-ins by reason", func() insights.Query {
			q := march(insights.Authentications, insights.Total)
			q.Filter = insights.Eq(insights.DimStatus, "failure")
			q.GroupBy = []insights.Dimension{insights.DimReason}
			return q
		}()},
	}
	for _, s := range steps {
		if err := show(s.title, s.q); err != nil {
			return err
		}
	}

	inactive := insights.Query{Metric: insights.InactiveUsers, Days: 14,
		From: insights.NewDate(2026, 3, 31), To: insights.NewDate(2026, 4, 1)}
	users, err := eng.Users(ctx, inactive)
	if err != nil {
		return err
	}
	var keys []string
	for users.Next() {
		keys = append(keys, users.User().UserKey)
	}
	if err := users.Err(); err != nil {
		return err
	}
	fmt.Printf("\nInactive for 14 days as of 2026-03-31: %d users, first: %s\n", len(keys), strings.Join(keys[:min(3, len(keys))], ", "))
	return nil
}

// generate makes March 2026 sign-ins for 200 users of four apps: heavy
// users most days, occasional ones now and then, people joining all month.
func generate(loc *time.Location) []insights.Event {
	r := rand.New(rand.NewPCG(1, 2))
	apps := []string{"Portal", "Payroll", "Mail", "Wiki"}
	oses := []string{"Windows 10", "MacOs", "iOS", "Android"}
	var events []insights.Event
	for u := range 200 {
		key := fmt.Sprintf("user%03d@example.com", u)
		joined := 1 + r.IntN(25)
		rate := []float64{0.8, 0.3, 0.05}[u%3]
		events = append(events, insights.Event{
			Time: time.Date(2026, 3, joined, 8, 0, 0, 0, loc), Kind: insights.KindSignUp, UserKey: key,
			AppName: apps[0], OS: oses[u%len(oses)], Country: "fr", RequestID: "signup-" + key,
		})
		for d := joined; d <= 31; d++ {
			if r.Float64() > rate {
				continue
			}
			ev := insights.Event{
				Time:    time.Date(2026, 3, d, 7+r.IntN(12), r.IntN(60), 0, 0, loc),
				Kind:    insights.KindSignIn,
				UserKey: key, AppName: apps[r.IntN(len(apps))], OS: oses[(u+d)%len(oses)], Country: "FR",
				RequestID: fmt.Sprintf("req-%d-%d", u, d),
			}
			if r.IntN(10) == 0 {
				ev.ErrorCode = []int{50126, 50053, 50074, 50057}[r.IntN(4)] // status and reason come from the code
			}
			events = append(events, ev)
		}
	}
	return events
}
