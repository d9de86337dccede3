package main

// The long-history phase (-history): a directory store fed day after day
// for a long history under Options.MemoryLimit, measuring what SPEC §13's
// memory and cold-start targets name: the heap against the days ingested
// (flat under the limit), Add's latency while checkpoints run, the idle
// engine after Open, and the first queries after Open.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// heapSample is the live heap after a number of days of ingest and one
// 30-day query over the last of them.
type heapSample struct {
	Days          int     `json:"days"`
	Events        int64   `json:"events"`
	HeapMiB       float64 `json:"heap_mib"`
	BytesPerEvent float64 `json:"heap_bytes_per_event"`
	QueryNs       int64   `json:"mau_30d_ns"`
}

// historyReport is the JSON of -history.
type historyReport struct {
	Users       int          `json:"users"`
	Days        int          `json:"days"`
	Seed        uint64       `json:"seed"`
	MemoryLimit int64        `json:"memory_limit"` // Options.MemoryLimit; 0: the library's default
	Events      int64        `json:"events"`
	Heap        []heapSample `json:"heap"`
	// Add of -batch events, checkpoints running meanwhile, in milliseconds.
	AddEventsPerSec float64 `json:"add_events_per_sec"`
	AddP50Ms        float64 `json:"add_p50_ms"`
	AddP99Ms        float64 `json:"add_p99_ms"`
	AddP999Ms       float64 `json:"add_p999_ms"`
	AddMaxMs        float64 `json:"add_max_ms"`
	// The same of the Adds that overlapped a checkpoint, and of the others
	// (Options.Logger's checkpoint records: checkpointSpans).
	Checkpoints    int          `json:"checkpoints"`
	AddDuring      latencySplit `json:"add_during_checkpoint"`
	AddOutside     latencySplit `json:"add_outside_checkpoint"`
	DiskBytesPerEv float64      `json:"disk_bytes_per_event"`
	// After Close: Open, the idle engine's heap, and the first queries,
	// each on a fresh Open.
	OpenMs            float64 `json:"open_ms"`
	IdleHeapMiB       float64 `json:"idle_heap_mib"`
	FirstMAU12MonthMs float64 `json:"first_mau_12_month_ms"`
	FirstFilteredMs   float64 `json:"first_filtered_mau_30d_ms"`
	// Answers after the reopen equal those before Close.
	AllEqual bool    `json:"all_equal"`
	PeakRSS  int64   `json:"peak_rss_bytes"`
	Seconds  float64 `json:"seconds"`
	Machine  map[string]string
}

// latencySplit is the latency of some of the Adds, in milliseconds.
type latencySplit struct {
	Adds  int     `json:"adds"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// splitOf returns the latencySplit of lat, which it sorts.
func splitOf(lat []time.Duration) latencySplit {
	return latencySplit{Adds: len(lat), P50Ms: ms(percentile(lat, 50)), P99Ms: ms(percentile(lat, 99)), MaxMs: ms(percentile(lat, 100))}
}

// historyQueries are the queries asked before Close and after each Open:
// the monthly active users of the last 12 months (or of the whole history
// when shorter) and the bench's filtered 30-day active users.
func historyQueries(g *generator, days int) (mau12, filtered insights.Query) {
	from := max(0, days-365)
	mau12 = insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Month, From: date(from), To: date(days)}
	for _, s := range specs(g) {
		if s.name == "mau_30d_filtered" {
			filtered = s.engineQuery(window{max(0, days-30), days})
		}
	}
	return mau12, filtered
}

// runHistory is the -history run.
func runHistory(ctx context.Context, o options, every int, limit int64) (*historyReport, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.log, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	r := &historyReport{Users: o.users, Days: o.days, Seed: o.seed, MemoryLimit: limit, AllEqual: true, Machine: machine()}
	dir, err := os.MkdirTemp(o.tmp, "bench-history-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	g := newGenerator(genConfig{Users: o.users, Days: o.days, Seed: o.seed})
	cks := &checkpointSpans{}
	open := func() (*store.DirStore, *insights.Engine, error) {
		st, err := store.Dir(dir, nil)
		if err != nil {
			return nil, nil, err
		}
		eng, err := insights.Open(ctx, st, &insights.Options{Now: clockAfter(o.days), QueryParallelism: o.queryPar, MemoryLimit: limit,
			Logger: slog.New(cks)})
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		return st, eng, nil
	}
	base := heapAfterGC()
	st, eng, err := open()
	if err != nil {
		return nil, err
	}
	var lat []time.Duration
	var starts []time.Time
	var addTime time.Duration
	stopCPU, stopWait := startProfile(o.cpuprofile, "history"), startWaitProfile(o.waitprofile)
	var buf []ev
	var evs []insights.Event
	for d := range o.days {
		buf = g.day(d, buf)
		evs = g.dayEvents(d, buf, evs)
		t, err := addTimed(ctx, eng, evs, o.batch, &lat, &starts)
		if err != nil {
			eng.Close()
			st.Close()
			return nil, fmt.Errorf("history, day %d: %w", d, err)
		}
		addTime += t
		r.Events += int64(len(evs))
		if (d+1)%every == 0 || d == o.days-1 {
			w := window{max(0, d+1-30), d + 1}
			t0 := time.Now()
			if _, err := eng.Query(ctx, insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: date(w.from), To: date(w.to)}); err != nil {
				eng.Close()
				st.Close()
				return nil, err
			}
			s := heapSample{Days: d + 1, Events: r.Events, QueryNs: time.Since(t0).Nanoseconds()}
			h := float64(heapAfterGC()) - float64(base)
			s.HeapMiB, s.BytesPerEvent = h/(1<<20), h/float64(r.Events)
			r.Heap = append(r.Heap, s)
			logf("history: %d days, %d events, heap %.1f MiB (%.1f bytes/event), 30-day MAU %.1f ms",
				s.Days, s.Events, s.HeapMiB, s.BytesPerEvent, float64(s.QueryNs)/1e6)
		}
	}
	evs, buf = nil, nil
	stopCPU()
	if err := stopWait(); err != nil {
		eng.Close()
		st.Close()
		return nil, err
	}
	if o.memprofile != "" {
		if err := writeHeapProfile(o.memprofile); err != nil {
			eng.Close()
			st.Close()
			return nil, err
		}
	}
	r.AddEventsPerSec = float64(r.Events) / addTime.Seconds()
	mau12, filtered := historyQueries(g, o.days)
	before := make([]*insights.Result, 2)
	for i, q := range []insights.Query{mau12, filtered} {
		if before[i], err = eng.Query(ctx, q); err != nil {
			eng.Close()
			st.Close()
			return nil, err
		}
	}
	if err := eng.Close(); err != nil { // after the checkpoint running, if any, which it waits for, is logged
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	eng, st = nil, nil
	during, outside := cks.split(lat, starts) // before lat is sorted
	r.Checkpoints, r.AddDuring, r.AddOutside = cks.count(), splitOf(during), splitOf(outside)
	r.AddP50Ms, r.AddP99Ms, r.AddP999Ms, r.AddMaxMs = ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(percentile(lat, 99.9)), ms(percentile(lat, 100))
	size, _, err := dirBytes(dir)
	if err != nil {
		return nil, err
	}
	r.DiskBytesPerEv = float64(size) / float64(r.Events)
	logf("history: Add p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %.0f events/s; %.2f bytes/event on disk", r.AddP50Ms, r.AddP99Ms, r.AddP999Ms, r.AddMaxMs, r.AddEventsPerSec, r.DiskBytesPerEv)
	logf("history: %d checkpoints; Adds during one: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms; the others: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
		r.Checkpoints, r.AddDuring.Adds, r.AddDuring.P50Ms, r.AddDuring.P99Ms, r.AddDuring.MaxMs, r.AddOutside.Adds, r.AddOutside.P50Ms, r.AddOutside.P99Ms, r.AddOutside.MaxMs)

	// Each first query on its own fresh Open; the idle heap after the first.
	for i, q := range []insights.Query{mau12, filtered} {
		base := heapAfterGC()
		t0 := time.Now()
		st, eng, err := open()
		if err != nil {
			return nil, err
		}
		opened := time.Since(t0)
		if i == 0 {
			r.OpenMs = ms(opened)
			r.IdleHeapMiB = (float64(heapAfterGC()) - float64(base)) / (1 << 20)
			if o.idleprofile != "" {
				if err := writeHeapProfile(o.idleprofile); err != nil {
					eng.Close()
					st.Close()
					return nil, err
				}
			}
		}
		stop := startProfile(o.cpuprofile, []string{"first-mau12", "first-filtered"}[i])
		t1 := time.Now()
		res, err := eng.Query(ctx, q)
		first := time.Since(t1)
		stop()
		eng.Close()
		st.Close()
		if err != nil {
			return nil, err
		}
		if !sameRows(res, before[i]) {
			r.AllEqual = false
			fmt.Fprintf(os.Stderr, "MISMATCH history query %d after reopen\n", i)
		}
		if i == 0 {
			r.FirstMAU12MonthMs = ms(first)
		} else {
			r.FirstFilteredMs = ms(first)
		}
	}
	logf("history: Open %.1f ms, idle heap %.1f MiB; first 12-month MAU %.1f ms, first filtered 30-day MAU %.1f ms",
		r.OpenMs, r.IdleHeapMiB, r.FirstMAU12MonthMs, r.FirstFilteredMs)
	r.PeakRSS = peakRSS()
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// writeHeapProfile writes the live heap's profile to name.
func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startWaitProfile records every blocking event and contended lock from
// now on, if prefix is set; stop writes them to prefix-block.pprof and
// prefix-mutex.pprof and stops recording.
func startWaitProfile(prefix string) (stop func() error) {
	if prefix == "" {
		return func() error { return nil }
	}
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	return func() error {
		defer runtime.SetBlockProfileRate(0)
		defer runtime.SetMutexProfileFraction(0)
		for _, name := range []string{"block", "mutex"} {
			f, err := os.Create(prefix + "-" + name + ".pprof")
			if err != nil {
				return err
			}
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		return nil
	}
}

// sameRows reports whether two results hold the same rows.
func sameRows(a, b *insights.Result) bool {
	return reflect.DeepEqual(a.Rows, b.Rows)
}

// printHistory writes the -history report as Markdown.
func printHistory(out io.Writer, r *historyReport) {
	fmt.Fprintf(out, "\nlong history: %d users × %d days, %d events, MemoryLimit %d (0: default)\n\n", r.Users, r.Days, r.Events, r.MemoryLimit)
	fmt.Fprintf(out, "| days ingested | events | heap (MiB) | heap bytes/event | 30-day MAU |\n|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Heap {
		fmt.Fprintf(out, "| %d | %d | %.1f | %.1f | %s |\n", s.Days, s.Events, s.HeapMiB, s.BytesPerEvent, ns(s.QueryNs))
	}
	fmt.Fprintf(out, "\n| measure | value |\n|---|---:|\n")
	fmt.Fprintf(out, "| Add, directory store, batches (events/s) | %.0f |\n", r.AddEventsPerSec)
	fmt.Fprintf(out, "| Add latency p50 / p99 / p99.9 / max (ms) | %.2f / %.2f / %.2f / %.2f |\n", r.AddP50Ms, r.AddP99Ms, r.AddP999Ms, r.AddMaxMs)
	for _, s := range []struct {
		what string
		l    latencySplit
	}{{fmt.Sprintf("overlapping one of the %d checkpoints", r.Checkpoints), r.AddDuring}, {"overlapping none", r.AddOutside}} {
		fmt.Fprintf(out, "| Add latency p50 / p99 / max (ms), %d Adds %s | %.2f / %.2f / %.2f |\n", s.l.Adds, s.what, s.l.P50Ms, s.l.P99Ms, s.l.MaxMs)
	}
	fmt.Fprintf(out, "| store on disk (bytes/event) | %.2f |\n", r.DiskBytesPerEv)
	fmt.Fprintf(out, "| Open (ms) | %.1f |\n", r.OpenMs)
	fmt.Fprintf(out, "| idle engine after Open (heap MiB) | %.1f |\n", r.IdleHeapMiB)
	fmt.Fprintf(out, "| first 12-month MAU after Open (ms) | %.1f |\n", r.FirstMAU12MonthMs)
	fmt.Fprintf(out, "| first filtered 30-day MAU after Open (ms) | %.1f |\n", r.FirstFilteredMs)
	fmt.Fprintf(out, "| answers after reopen equal | %v |\n", r.AllEqual)
	fmt.Fprintf(out, "| peak RSS (MiB) | %.0f |\n", float64(r.PeakRSS)/(1<<20))
}
