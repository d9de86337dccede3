package main

// Feeding the engine and measuring it: ingest, memory, disk, reopen,
// approximate mode.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// clockAfter is an Options.Now just after the last generated day.
func clockAfter(days int) func() time.Time {
	t := dataStart.AddDate(0, 0, days).Add(time.Hour)
	return func() time.Time { return t }
}

// openEngine opens an engine whose clock is after the data's last day;
// par is its Options.QueryParallelism (0: GOMAXPROCS).
func openEngine(ctx context.Context, st store.Store, days, par int) (*insights.Engine, error) {
	return insights.Open(ctx, st, &insights.Options{Now: clockAfter(days), QueryParallelism: par})
}

// dayEvents converts day d's generated events for the engine, reusing out.
func (g *generator) dayEvents(d int, evs []ev, out []insights.Event) []insights.Event {
	out = slicesGrow(out[:0], len(evs))
	for i := range evs {
		g.toEvent(d, i, &evs[i], &out[i])
	}
	return out
}

func slicesGrow(s []insights.Event, n int) []insights.Event {
	if cap(s) < n {
		return make([]insights.Event, n)
	}
	return s[:n]
}

// addBatches adds evs in batches and returns the time spent in Add.
func addBatches(ctx context.Context, eng *insights.Engine, evs []insights.Event, batch int) (time.Duration, error) {
	return addTimed(ctx, eng, evs, batch, nil, nil)
}

// addTimed adds evs in batches, appending each Add's latency to lat and
// its start to starts when they are not nil, and returns the total time.
func addTimed(ctx context.Context, eng *insights.Engine, evs []insights.Event, batch int, lat *[]time.Duration, starts *[]time.Time) (time.Duration, error) {
	t0 := time.Now()
	for i := 0; i < len(evs); i += batch {
		t := time.Now()
		if err := eng.Add(ctx, evs[i:min(i+batch, len(evs))]...); err != nil {
			return 0, err
		}
		if lat != nil {
			*lat = append(*lat, time.Since(t))
		}
		if starts != nil {
			*starts = append(*starts, t)
		}
	}
	return time.Since(t0), nil
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// percentile returns the p-th percentile (0-100) of d, which it sorts.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(p/100*float64(len(d))))]
}

// addConcurrently adds evs in batches from w goroutines.
func addConcurrently(ctx context.Context, eng *insights.Engine, evs []insights.Event, batch, w int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, w)
	t0 := time.Now()
	for j := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(int64(batch))) - batch
				if i >= len(evs) {
					return
				}
				if err := eng.Add(ctx, evs[i:min(i+batch, len(evs))]...); err != nil {
					errs[j] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return d, nil
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// memoryStoreBytes sums the values held by a memory store.
func memoryStoreBytes(ctx context.Context, st *store.Memory) (int64, error) {
	keys, err := st.List(ctx, "")
	if err != nil {
		return 0, err
	}
	var n int64
	for _, k := range keys {
		v, err := st.Get(ctx, k)
		if err != nil {
			return 0, err
		}
		n += int64(len(v))
	}
	return n, nil
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(dir string) (int64, int, error) {
	var n int64
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
			files++
		}
		return nil
	})
	return n, files, err
}

// fullRange is every generated day.
func fullRange(days int) window { return window{0, days} }

// sealAll asks a query over every day, which seals the days' indexes.
func sealAll(ctx context.Context, eng *insights.Engine, days int) error {
	w := fullRange(days)
	_, err := eng.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: date(w.from), To: date(w.to)})
	return err
}

// ingestDir feeds every day to an engine on a directory store, flushes and
// closes it, and returns the add time and the events added; each Add's
// latency goes to lat.
func ingestDir(ctx context.Context, g *generator, dir string, batch int, lat *[]time.Duration, logf func(string, ...any)) (addTime time.Duration, events int64, err error) {
	st, err := store.Dir(dir, nil)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	eng, err := openEngine(ctx, st, g.cfg.Days, 0)
	if err != nil {
		return 0, 0, err
	}
	var buf []ev
	var evs []insights.Event
	for d := range g.cfg.Days {
		buf = g.day(d, buf)
		evs = g.dayEvents(d, buf, evs)
		t, err := addTimed(ctx, eng, evs, batch, lat, nil)
		if err != nil {
			eng.Close()
			return 0, 0, fmt.Errorf("dir store, day %d: %w", d, err)
		}
		addTime += t
		events += int64(len(evs))
		if d%10 == 9 {
			logf("dir store: %d days, %d events", d+1, events)
		}
	}
	if err := eng.Flush(ctx); err != nil {
		eng.Close()
		return 0, 0, err
	}
	return addTime, events, eng.Close()
}

// reopen opens the directory store again and asks one 30-day query.
func reopen(ctx context.Context, dir string, days, par int, w window) (open, query time.Duration, value float64, err error) {
	t0 := time.Now()
	st, err := store.Dir(dir, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer st.Close()
	eng, err := openEngine(ctx, st, days, par)
	if err != nil {
		return 0, 0, 0, err
	}
	defer eng.Close()
	open = time.Since(t0)
	t1 := time.Now()
	res, err := eng.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: date(w.from), To: date(w.to)})
	if err != nil {
		return 0, 0, 0, err
	}
	query = time.Since(t1)
	if len(res.Rows) == 1 {
		value = res.Rows[0].Value
	}
	return open, query, value, nil
}

// dir64Writers measures the fsync-per-batch mode: 64 writers each adding
// one event at a time to an engine on a directory store.
func dir64Writers(ctx context.Context, tmp string, evs []insights.Event, days int) (float64, int, error) {
	dir, err := os.MkdirTemp(tmp, "bench-dir64-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Dir(dir, nil)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	eng, err := openEngine(ctx, st, days, 0)
	if err != nil {
		return 0, 0, err
	}
	defer eng.Close()
	n := min(len(evs), 64*250)
	d, err := addConcurrently(ctx, eng, evs[:n], 1, 64)
	if err != nil {
		return 0, 0, err
	}
	return float64(n) / d.Seconds(), n, nil
}
