package main

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// riskReport is what the risk phase measures: the ingest cost of risk
// detection (SPEC §13: at most 10%), the cost of rebuilding detections
// from the log, and the heap their state holds.
type riskReport struct {
	Events int `json:"events"`
	Runs   int `json:"runs"`
	// Medians of the one-goroutine rate of Add over the same events in
	// time order, risk detection off (Options.Risk.Disabled) and on
	// (started by a risk read after Open, so that Add queues to the
	// detector's goroutine), each into a fresh engine on a memory store;
	// the runs alternate.
	OffEventsPerSec float64 `json:"off_events_per_sec"`
	OnEventsPerSec  float64 `json:"on_events_per_sec"`
	// AddedCost is the time in Add with detection over the time without,
	// minus one: 0.08 is 8% more (SPEC §13's measure, the wall-clock
	// ingest time).
	AddedCost float64 `json:"added_cost"`
	// OnCaughtUpEventsPerSec counts, besides the time in Add, a risk read
	// after the last Add, which waits until the detector has folded every
	// event; AddedCostCaughtUp is its time over that without detection.
	OnCaughtUpEventsPerSec float64 `json:"on_caught_up_events_per_sec"`
	AddedCostCaughtUp      float64 `json:"added_cost_caught_up"`
	// CPU time of the process (every goroutine, garbage collection
	// included) from the first Add to the answer of that read, per event,
	// medians: the work detection adds, wherever it runs.
	OffCPUNsPerEvent   float64 `json:"off_cpu_ns_per_event"`
	OnCPUNsPerEvent    float64 `json:"on_cpu_ns_per_event"`
	AddedCPUNsPerEvent float64 `json:"added_cpu_ns_per_event"`
	// Add's latency per batch (o.batch events), median and 99th
	// percentile over every batch of every run, without and with detection.
	OffAddP50Ns int64 `json:"off_add_p50_ns"`
	OffAddP99Ns int64 `json:"off_add_p99_ns"`
	OnAddP50Ns  int64 `json:"on_add_p50_ns"`
	OnAddP99Ns  int64 `json:"on_add_p99_ns"`
	// RebuildNs is the first risk read of an engine loaded with detection
	// on but not started: the detections rebuilt from the whole log, as
	// after Open, an erasure or a too-late event.
	RebuildNs int64 `json:"rebuild_ns"`
	// ReopenFirstReadNs is the time from Open of that engine's store,
	// closed (a checkpoint), to the answer of the first risk read after
	// it: Open, then the rebuild it waits for, the day segments loaded.
	ReopenFirstReadNs int64 `json:"reopen_first_read_ns"`
	// AddDuringFirstReadNs is an Add of the last batch again (copies, by
	// request id) 100 ms into that first read: whether Add waits for the
	// rebuild.
	AddDuringFirstReadNs int64 `json:"add_during_first_read_ns"`
	// HeapBytes is the engine's heap with detection on minus that with it
	// off, after the timed loads and a risk read (each after two GCs, the
	// memory store's bytes subtracted, the smallest of the runs): the
	// detector's state and the detections. Within the heap's noise (tens of KiB)
	// for small loads.
	HeapBytes         int64   `json:"heap_bytes"`
	HeapBytesPerUser  float64 `json:"heap_bytes_per_user"`
	Detections        int     `json:"detections"`
	DetectionsByLevel []int   `json:"detections_by_level"` // low, medium, high
}

// runRisk measures the risk phase on the first o.riskEvents events, as
// the ingest phase takes its subset, sorted by time as a live feed sends
// them: the generator lists each day's events user by user, and an event
// too late for the detector's windows stops it until the next risk read
// rebuilds it from the log.
func runRisk(ctx context.Context, o options, g *generator, r *report, logf func(string, ...any)) error {
	var evs []insights.Event
	var buf []ev
	for d := 0; d < o.days && len(evs) < o.riskEvents; d++ {
		buf = g.day(d, buf)
		evs = append(evs, g.dayEvents(d, buf, nil)...)
	}
	evs = evs[:min(len(evs), o.riskEvents)]
	slices.SortStableFunc(evs, func(a, b insights.Event) int { return a.Time.Compare(b.Time) })
	rr := &riskReport{Events: len(evs), Runs: max(1, o.riskRuns)}
	// The smaller heap of each kind is kept: the first load of a process
	// makes one-time allocations that stay.
	var off, on, offUp, onUp, offCPU, onCPU, offLat, onLat []time.Duration
	var heapOff, heapOn riskLoad
	for i := range rr.Runs {
		for _, disabled := range []bool{true, false} {
			stop := func() {}
			if i == 0 { // the first load of each kind, the profiler's cost the same for both
				stop = startProfile(o.cpuprofile, map[bool]string{true: "risk-off", false: "risk-on"}[disabled])
			}
			l, err := loadRisk(ctx, o.days, evs, o.batch, disabled, true, true)
			stop()
			if err != nil {
				return err
			}
			if disabled {
				off, offUp, offCPU, offLat = append(off, l.add), append(offUp, l.add+l.firstRead), append(offCPU, l.cpu), append(offLat, l.lat...)
				if i == 0 || l.heap < heapOff.heap {
					heapOff = l
				}
			} else {
				on, onUp, onCPU, onLat = append(on, l.add), append(onUp, l.add+l.firstRead), append(onCPU, l.cpu), append(onLat, l.lat...)
				if i == 0 || l.heap < heapOn.heap {
					heapOn = l
				}
			}
		}
	}
	offT, onT := median(off), median(on)
	rr.OffEventsPerSec = float64(len(evs)) / offT.Seconds()
	rr.OnEventsPerSec = float64(len(evs)) / onT.Seconds()
	rr.AddedCost = onT.Seconds()/offT.Seconds() - 1
	rr.OnCaughtUpEventsPerSec = float64(len(evs)) / median(onUp).Seconds()
	rr.AddedCostCaughtUp = median(onUp).Seconds()/median(offUp).Seconds() - 1
	rr.OffCPUNsPerEvent = float64(median(offCPU).Nanoseconds()) / float64(len(evs))
	rr.OnCPUNsPerEvent = float64(median(onCPU).Nanoseconds()) / float64(len(evs))
	rr.AddedCPUNsPerEvent = rr.OnCPUNsPerEvent - rr.OffCPUNsPerEvent
	rr.OffAddP50Ns, rr.OffAddP99Ns = percentile(offLat, 50).Nanoseconds(), percentile(offLat, 99).Nanoseconds()
	rr.OnAddP50Ns, rr.OnAddP99Ns = percentile(onLat, 50).Nanoseconds(), percentile(onLat, 99).Nanoseconds()

	l, err := loadRisk(ctx, o.days, evs, o.batch, false, false, false)
	if err != nil {
		return err
	}
	rr.RebuildNs, rr.ReopenFirstReadNs, rr.AddDuringFirstReadNs = l.firstRead.Nanoseconds(), l.reopenRead.Nanoseconds(), l.addDuring.Nanoseconds()
	rr.HeapBytes = heapOn.heap - heapOff.heap
	rr.HeapBytesPerUser = float64(rr.HeapBytes) / float64(o.users)
	rr.Detections, rr.DetectionsByLevel = heapOn.detections, heapOn.byLevel
	r.Risk = rr
	logf("risk: %d events in time order, median of %d runs: %.0f events/s in Add without detection, %.0f with (%+.1f%%), "+
		"%.0f with until the detector caught up (%+.1f%%); CPU %.0f ns/event without, %.0f with (%+.0f ns); "+
		"Add of %d p50/p99 %.2f/%.2f ms without, %.2f/%.2f ms with; a rebuild from the log %.1f ms; "+
		"Open to the first risk read %.1f ms, an Add during it %.1f ms; detector heap %.1f MiB (%.0f bytes/user), %d detections",
		rr.Events, rr.Runs, rr.OffEventsPerSec, rr.OnEventsPerSec, 100*rr.AddedCost, rr.OnCaughtUpEventsPerSec, 100*rr.AddedCostCaughtUp,
		rr.OffCPUNsPerEvent, rr.OnCPUNsPerEvent, rr.AddedCPUNsPerEvent, o.batch, float64(rr.OffAddP50Ns)/1e6, float64(rr.OffAddP99Ns)/1e6,
		float64(rr.OnAddP50Ns)/1e6, float64(rr.OnAddP99Ns)/1e6, float64(rr.RebuildNs)/1e6, float64(rr.ReopenFirstReadNs)/1e6,
		float64(rr.AddDuringFirstReadNs)/1e6, float64(rr.HeapBytes)/(1<<20), rr.HeapBytesPerUser, rr.Detections)
	return nil
}

// riskLoad is what loadRisk measured.
type riskLoad struct {
	add        time.Duration   // in Add
	lat        []time.Duration // each Add's
	firstRead  time.Duration   // the first risk read after the load
	cpu        time.Duration   // the process's CPU time from the first Add to that read's answer
	reopenRead time.Duration   // without measure: from Open of the store, closed, to the first risk read
	addDuring  time.Duration   // and an Add 100 ms into that read
	heap       int64           // the engine's heap over the baseline, the store's bytes subtracted
	detections int
	byLevel    []int // low, medium, high
}

// loadRisk adds evs to a fresh engine with detection off or on, started
// before the load (a risk read after Open) when start, and times Add and
// the first risk read after it; with measure, also the engine's heap and
// its detections, else the time from Open of the store, once the engine
// is closed, to a risk read.
func loadRisk(ctx context.Context, days int, evs []insights.Event, batch int, disabled, start, measure bool) (riskLoad, error) {
	var l riskLoad
	base := heapAfterGC()
	mem := store.NewMemory()
	eng, err := insights.Open(ctx, mem, &insights.Options{Now: clockAfter(days), Risk: insights.RiskOptions{Disabled: disabled}})
	if err != nil {
		return l, err
	}
	defer func() {
		if eng != nil {
			eng.Close()
		}
	}()
	q := insights.DetectionQuery{Limit: insights.MaxPageSize}
	if start {
		if _, err := eng.Detections(ctx, q); err != nil {
			return l, fmt.Errorf("risk: Detections: %w", err)
		}
	}
	cpu0 := cpuTime()
	if l.add, err = addTimed(ctx, eng, evs, batch, &l.lat, nil); err != nil {
		return l, err
	}
	t0 := time.Now()
	page, err := eng.Detections(ctx, q)
	if err != nil {
		return l, fmt.Errorf("risk: Detections: %w", err)
	}
	l.firstRead, l.cpu = time.Since(t0), cpuTime()-cpu0
	if !measure {
		err := eng.Close()
		if eng = nil; err != nil {
			return l, err
		}
		t0 := time.Now()
		if eng, err = insights.Open(ctx, mem, &insights.Options{Now: clockAfter(days)}); err != nil {
			return l, err
		}
		read := make(chan error, 1)
		go func() { _, err := eng.Detections(ctx, q); read <- err }()
		time.Sleep(100 * time.Millisecond)
		t1 := time.Now()
		if err := eng.Add(ctx, evs[max(0, len(evs)-batch):]...); err != nil {
			return l, err
		}
		l.addDuring = time.Since(t1)
		if err := <-read; err != nil {
			return l, fmt.Errorf("risk: Detections: %w", err)
		}
		l.reopenRead = time.Since(t0)
		return l, nil
	}
	l.byLevel = make([]int, 3)
	for {
		for _, d := range page.Detections {
			l.detections++
			if i := slices.Index([]string{insights.RiskLow, insights.RiskMedium, insights.RiskHigh}, d.Level); i >= 0 {
				l.byLevel[i]++
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
		if page, err = eng.Detections(ctx, q); err != nil {
			return l, fmt.Errorf("risk: Detections: %w", err)
		}
	}
	if err := eng.Flush(ctx); err != nil {
		return l, err
	}
	heap := heapAfterGC()
	storeBytes, err := memoryStoreBytes(ctx, mem)
	if err != nil {
		return l, err
	}
	l.heap = int64(heap) - int64(base) - storeBytes
	return l, nil
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// median returns the median of ts (the lower of the middle two).
func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
