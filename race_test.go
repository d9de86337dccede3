package insights_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
)

// TestConcurrentAddQuery runs writers adding disjoint users' events while
// readers query. Every answer a reader sees must lie between 0 and the
// final count and never decrease (each user's events come in one batch,
// so every metric read here only grows), and the final answers are the
// hand-known totals.
//
// Writer w has users w-0 … w-599; user i with r = i mod 30 signs in on
// days r, r+10 and r+20 (mod 30) of March 2025, day 0 being 1 March.
//   - Each day has the residues k, k-10, k-20 (mod 30), 20 users each per
//     writer: DAU = 4 writers × 3 × 20 = 240 on 1-30 March, 0 on 31 March.
//   - A user's first day is r mod 10, so days 0-9 each get the residues
//     k, k+10, k+20: 240 new users on 1-10 March, 0 afterwards.
//   - Over the month: 4 × 600 = 2400 active and 2400 new users.
func TestConcurrentAddQuery(t *testing.T) {
	const (
		writers  = 4
		users    = 600 // per writer, a multiple of 30
		batch    = 25  // users per Add
		readers  = 3
		allUsers = writers * users
	)
	// Frequent checkpoints and a memory limit of one byte: days that no
	// Add changes while a checkpoint writes are evicted (TestEviction...
	// in memory_test.go makes sure of it).
	e := newEngine(t, &insights.Options{Now: fixed(time.Date(2025, 4, 15, 12, 0, 0, 0, time.UTC)),
		CheckpointBytes: 16 << 10, MemoryLimit: 1})
	ctx := context.Background()
	march := func(day int) time.Time { return time.Date(2025, 3, 1+day, 9, 0, 0, 0, time.UTC) }

	type check struct {
		name  string
		q     insights.Query
		final map[string]float64 // by row key
	}
	dau, newDaily := map[string]float64{}, map[string]float64{}
	for d := 0; d < 31; d++ {
		k := date(2025, 3, 1).AddDays(d).String()
		dau[k], newDaily[k] = 0, 0
		if d < 30 {
			dau[k] = 240
		}
		if d < 10 {
			newDaily[k] = 240
		}
	}
	month := insights.Query{From: date(2025, 3, 1), To: date(2025, 4, 1)}
	with := func(m insights.Metric, g insights.Granularity) insights.Query {
		q := month
		q.Metric, q.Granularity = m, g
		return q
	}
	checks := []check{
		{"active users per day", with(insights.ActiveUsers, insights.Day), dau},
		{"active users over March", with(insights.ActiveUsers, insights.Total), map[string]float64{"2025-03-01": allUsers}},
		{"new users per day", with(insights.NewUsers, insights.Day), newDaily},
		{"new users over March", with(insights.NewUsers, insights.Total), map[string]float64{"2025-03-01": allUsers}},
	}
	filtered := with(insights.ActiveUsers, insights.Total) // from kept blocks per filter (blockfilter.go)
	filtered.Filter = insights.Eq(insights.DimKind, insights.KindSignIn.String())
	checks = append(checks, check{"active users over March under a filter", filtered, map[string]float64{"2025-03-01": allUsers}})

	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var evs []insights.Event
			for i := 0; i < users; i++ {
				r := i % 30
				for _, d := range []int{r, (r + 10) % 30, (r + 20) % 30} {
					evs = append(evs, signIn(fmt.Sprintf("w%d-%d", w, i), march(d)))
				}
				if (i+1)%batch == 0 {
					if err := e.Add(ctx, evs...); err != nil {
						errs <- fmt.Errorf("writer %d: %w", w, err)
						return
					}
					evs = evs[:0]
				}
			}
		}(w)
	}

	done := make(chan struct{})
	var passes, partial atomic.Int64 // reader passes; answers seen before the final total
	var rg sync.WaitGroup
	for r := 0; r < readers; r++ {
		rg.Add(1)
		go func(r int) {
			defer rg.Done()
			last := make([]map[string]float64, len(checks))
			for i := range last {
				last[i] = map[string]float64{}
			}
			for n := 0; ; n++ {
				select {
				case <-done:
					if n > 0 {
						return
					}
				default:
				}
				passes.Add(1)
				for ci, c := range checks {
					res, err := e.Query(ctx, c.q)
					if err != nil {
						errs <- fmt.Errorf("reader %d, %s: %w", r, c.name, err)
						return
					}
					for _, row := range res.Rows {
						k := rowKey(row)
						final, ok := c.final[k]
						if !ok {
							errs <- fmt.Errorf("reader %d, %s: unexpected row %s", r, c.name, k)
							return
						}
						if row.Value < 0 || row.Value > final {
							errs <- fmt.Errorf("reader %d, %s: row %s = %v, outside [0, %v]", r, c.name, k, row.Value, final)
							return
						}
						if row.Value < last[ci][k] {
							errs <- fmt.Errorf("reader %d, %s: row %s went down from %v to %v", r, c.name, k, last[ci][k], row.Value)
							return
						}
						last[ci][k] = row.Value
						if row.Value < final {
							partial.Add(1)
						}
					}
				}
			}
		}(r)
	}

	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	t.Logf("%d reader passes, %d intermediate answers below the final count", passes.Load(), partial.Load())
	for err := range errs {
		t.Error(err)
	}
	for _, c := range checks {
		t.Run("final "+c.name, func(t *testing.T) { checkRows(t, query(t, e, c.q), c.final) })
	}
}

// TestConcurrentAddAndLog runs writers while readers page through the
// event log, stream it and ask metrics answered from it: every page is
// ordered, no entry repeats within a pull, counts only grow, and at the end
// the log holds every event.
func TestConcurrentAddAndLog(t *testing.T) {
	const writers, batches, per = 3, 40, 10
	// Frequent checkpoints and a memory limit of one byte: days that no
	// Add changes while a checkpoint writes are evicted (TestEviction...
	// in memory_test.go makes sure of it).
	e := newEngine(t, &insights.Options{Now: fixed(time.Date(2025, 4, 15, 12, 0, 0, 0, time.UTC)),
		CheckpointBytes: 16 << 10, MemoryLimit: 1})
	ctx := context.Background()
	var wg sync.WaitGroup
	var done atomic.Bool
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				evs := make([]insights.Event, per)
				for i := range evs {
					n := (b*per + i) % 28
					evs[i] = insights.Event{Time: time.Date(2025, 3, 1+n, 9, b, i, 0, time.UTC), Kind: insights.KindSignIn,
						UserKey: fmt.Sprintf("w%d-u%d", w, i), IP: fmt.Sprintf("10.%d.0.%d", w, i), RequestID: fmt.Sprintf("%d-%d-%d", w, b, i)}
				}
				if err := e.Add(ctx, evs...); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rg sync.WaitGroup
	for r := range 3 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			lastCount := 0.0
			for !done.Load() {
				seen := map[string]bool{}
				it := e.Entries(ctx, insights.LogQuery{Filter: insights.CIDR(fmt.Sprintf("10.%d.0.0/16", r)), Limit: 7})
				var prev time.Time
				for it.Next() {
					en := it.Entry()
					if seen[en.ID] || (!prev.IsZero() && en.Time.After(prev)) {
						t.Errorf("entry %s repeated or out of order", en.ID)
						return
					}
					seen[en.ID], prev = true, en.Time
				}
				if it.Err() != nil {
					t.Error(it.Err())
					return
				}
				res, err := e.Query(ctx, insights.Query{Metric: insights.Authentications, From: date(2025, 3, 1), To: date(2025, 4, 1),
					Granularity: insights.Total, Filter: insights.CIDR(fmt.Sprintf("10.%d.0.0/16", r))})
				if err != nil {
					t.Error(err)
					return
				}
				if v := res.Rows[0].Value; v < lastCount || v > batches*per {
					t.Errorf("writer %d's authentications went from %v to %v", r, lastCount, v)
					return
				}
				lastCount = res.Rows[0].Value
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()
	n := 0
	it := e.Entries(ctx, insights.LogQuery{Limit: insights.MaxPageSize})
	for it.Next() {
		n++
	}
	if it.Err() != nil || n != writers*batches*per {
		t.Fatalf("the log holds %d entries (%v), want %d", n, it.Err(), writers*batches*per)
	}
}
