// Command bench measures the insights engine against DuckDB and a
// brute-force scan on generated identity traffic, checks that every
// answer is equal, and reports speed, ingest, memory, disk and
// approximate-mode figures against SPEC §13. See README.md.
//
//	cd bench && go run . -users 20000 -days 30 -json out.json
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

type options struct {
	users, days  int
	seed         uint64
	runs         int
	batch        int
	duckMem      string
	duckThreads  int
	tmp          string
	phases       map[string]bool
	approxUsers  int
	approxDays   int
	ingestEvents int
	riskEvents   int // events of the risk phase
	riskRuns     int // its timed runs with detection off and on, alternated
	queryPar     int // the engine's Options.QueryParallelism
	cpuprofile   string
	memprofile   string // -history: the heap's profile after the ingest
	waitprofile  string // -history: the block and mutex profiles of the ingest
	idleprofile  string // -history: the heap's profile of the idle engine after Open
	log          io.Writer
}

// queryResult is one query's row of the report.
type queryResult struct {
	Name       string `json:"name"`
	InsightsNs int64  `json:"insights_ns"`
	// FirstNs is the engine's first run of the query, which builds what
	// the engine keeps for it (postings, counts, blocks); HeapBytes is how
	// much the engine's resident days grew over all its runs.
	FirstNs     int64   `json:"insights_first_ns"`
	HeapBytes   int64   `json:"insights_heap_bytes"`
	DuckDBNs    int64   `json:"duckdb_ns"`
	DuckDBIntNs int64   `json:"duckdb_int_ns"`
	ScanNs      int64   `json:"scan_ns"`
	Equal       bool    `json:"equal"`
	Keys        int     `json:"answer_keys"`
	VsDuckDB    float64 `json:"speedup_vs_duckdb"`
	VsDuckDBInt float64 `json:"speedup_vs_duckdb_int"`
	Mismatch    string  `json:"mismatch,omitempty"`
}

type approxResult struct {
	Users     int     `json:"users"`
	DataDays  int     `json:"data_days"`
	RangeDays int     `json:"range_days"`
	Exact     float64 `json:"exact"`
	Approx    float64 `json:"approx"`
	RelError  float64 `json:"rel_error"` // (approx - exact) / exact: signed, above the truth when positive
	StdError  float64 `json:"std_error"`
	ExactNs   int64   `json:"exact_ns"`
	ApproxNs  int64   `json:"approx_ns"`
}

// report is the JSON the harness writes.
type report struct {
	Users   int           `json:"users"`
	Days    int           `json:"days"`
	Seed    uint64        `json:"seed"`
	Events  int64         `json:"events"`
	Queries []queryResult `json:"queries"`
	// QueryParallelism is the goroutines one engine query may use; DuckDB
	// uses -duckdb-threads.
	QueryParallelism int `json:"query_parallelism"`

	IngestEventsPerSec         float64 `json:"ingest_events_per_sec"`
	IngestSubsetEvents         int     `json:"ingest_subset_events,omitempty"`
	IngestSubsetOneEventsPerS  float64 `json:"ingest_subset_one_goroutine_events_per_sec,omitempty"`
	IngestParallelEventsPerSec float64 `json:"ingest_parallel_events_per_sec,omitempty"`
	IngestParallelGoroutines   int     `json:"ingest_parallel_goroutines,omitempty"`
	IngestDirEventsPerSec      float64 `json:"ingest_dir_events_per_sec,omitempty"`
	IngestDir64WritersPerSec   float64 `json:"ingest_dir_64_writers_events_per_sec,omitempty"`
	// Latency of each Add of -batch events into the directory store,
	// checkpoints running meanwhile, in milliseconds.
	AddP50Ms float64 `json:"add_p50_ms,omitempty"`
	AddP99Ms float64 `json:"add_p99_ms,omitempty"`
	AddMaxMs float64 `json:"add_max_ms,omitempty"`
	SealNs   int64   `json:"seal_ns"`

	MemBytesPerEvent      float64 `json:"mem_bytes_per_event"`
	MemStoreBytesPerEvent float64 `json:"mem_store_bytes_per_event"`
	DiskBytesPerEvent     float64 `json:"disk_bytes_per_event,omitempty"`
	DiskFiles             int     `json:"disk_files,omitempty"`
	ParquetBytesPerEvent  float64 `json:"duckdb_parquet_zstd_bytes_per_event,omitempty"`

	// The sign-in log on disk (segments.go) against DuckDB's zstd Parquet
	// of the columns it holds (every table column but day and seq).
	LogDiskBytesPerEvent        float64 `json:"log_disk_bytes_per_event,omitempty"`
	LogWithColumnsBytesPerEvent float64 `json:"log_with_combination_columns_bytes_per_event,omitempty"`
	SegmentBytesPerEvent        float64 `json:"segment_bytes_per_event,omitempty"`
	SegmentIndexBytesPerEvent   float64 `json:"segment_index_bytes_per_event,omitempty"`
	// Of the index part: the code columns (with the segment's header and
	// section directory), the event counts, the users per combination, the
	// active users and the request-id hashes.
	SegmentSectionsBytesPerEvent map[string]float64 `json:"segment_sections_bytes_per_event,omitempty"`
	LogParquetBytesPerEvent      float64            `json:"parquet_bytes_per_event,omitempty"`
	DuckDBFileBytes              int64              `json:"duckdb_file_bytes,omitempty"`
	DuckDBLoadEventsPerS         float64            `json:"duckdb_load_events_per_sec,omitempty"`
	ScanBytesPerEvent            float64            `json:"scan_bytes_per_event,omitempty"`
	ReopenNs                     int64              `json:"reopen_ns,omitempty"`
	ReopenOpenNs                 int64              `json:"reopen_open_ns,omitempty"`
	ReopenQueryNs                int64              `json:"reopen_first_query_ns,omitempty"`

	Risk *riskReport `json:"risk,omitempty"`

	HLLMauRelError float64        `json:"hll_mau_rel_error"`
	Approx         []approxResult `json:"approx,omitempty"`

	Shape      map[string]float64 `json:"shape"`
	AllEqual   bool               `json:"all_equal"`
	PeakRSS    int64              `json:"peak_rss_bytes"`
	Seconds    float64            `json:"seconds"`
	Machine    map[string]string  `json:"machine"`
	StartedAt  string             `json:"started_at"`
	GoVersion  string             `json:"go_version"`
	QueryRange string             `json:"query_range"`
}

func main() {
	var (
		o      options
		seed   = flag.Uint64("seed", 1, "generator seed")
		jsonF  = flag.String("json", "", "write the report as JSON to this file")
		phases = flag.String("phases", "queries,approx,ingest,risk,disk", "phases to run besides loading the engine: queries (DuckDB and scan comparison), approx, ingest (concurrent ingest), risk (the ingest cost and memory of risk detection), disk (directory store, reopen)")
		sweep  = flag.Bool("sweep", false, "run at each of -sweep-sizes users and print how cost grows")
		hist   = flag.Bool("history", false, "run only the long-history phase (history.go): a directory store fed -days days of -users users under -memory-limit, heap against days ingested, Add latency, cold Open and first queries")
		every  = flag.Int("history-every", 30, "days between the heap samples of -history")
		limit  = flag.Int64("memory-limit", 0, "Options.MemoryLimit of -history in bytes (0: the library's default)")
		sizes  = flag.String("sweep-sizes", "10000,100000,1000000", "user counts of -sweep")
		quiet  = flag.Bool("q", false, "no progress on stderr")
	)
	flag.IntVar(&o.users, "users", 1_000_000, "registered users")
	flag.IntVar(&o.days, "days", 60, "days of traffic")
	flag.IntVar(&o.runs, "runs", 5, "timed runs per query (median reported), after one warm-up")
	flag.IntVar(&o.batch, "batch", 1000, "events per Add call")
	flag.StringVar(&o.duckMem, "duckdb-memory", "6GB", "DuckDB memory_limit")
	flag.IntVar(&o.duckThreads, "duckdb-threads", runtime.NumCPU(), "DuckDB threads")
	flag.StringVar(&o.tmp, "tmp", os.TempDir(), "directory for the DuckDB database and the directory stores")
	flag.IntVar(&o.approxUsers, "approx-users", 200_000, "users of the long history for approximate mode when -days < -approx-days")
	flag.IntVar(&o.approxDays, "approx-days", 180, "longest approximate-mode range")
	flag.IntVar(&o.queryPar, "query-parallelism", 0, "goroutines one engine query may use (Options.QueryParallelism; 0: GOMAXPROCS)")
	flag.IntVar(&o.ingestEvents, "ingest-events", 1_000_000, "events of the concurrent-ingest measurement")
	flag.IntVar(&o.riskEvents, "risk-events", 100_000, "events of the risk phase")
	flag.IntVar(&o.riskRuns, "risk-runs", 3, "timed loads of the risk phase with detection off and on each (median reported)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the engine's timed runs of each query to PREFIX-<query>.pprof, and of the in-memory load (generator included) to PREFIX-ingest.pprof, and of the risk phase's first load without and with detection to PREFIX-risk-off.pprof and PREFIX-risk-on.pprof; with -history, of its ingest to PREFIX-history.pprof and of the first queries after Open to PREFIX-first-mau12.pprof and PREFIX-first-filtered.pprof")
	flag.StringVar(&o.memprofile, "memprofile", "", "-history: write the live heap's profile after the ingest to this file")
	flag.StringVar(&o.waitprofile, "waitprofile", "", "-history: profile where the ingest waits, to PREFIX-block.pprof (every blocking event) and PREFIX-mutex.pprof (every contended lock)")
	flag.StringVar(&o.idleprofile, "idleprofile", "", "-history: write the live heap's profile of the idle engine after Open to this file")
	flag.Parse()
	o.seed = *seed
	o.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.phases[p] = true
		}
	}
	o.log = os.Stderr
	if *quiet {
		o.log = io.Discard
	}
	ctx := context.Background()

	if *hist {
		h, err := runHistory(ctx, o, max(1, *every), *limit)
		if err != nil {
			fatalf("%v", err)
		}
		printHistory(os.Stdout, h)
		writeJSON(*jsonF, h)
		if !h.AllEqual {
			fmt.Fprintln(os.Stderr, "FAIL: answers differ after the reopen")
			os.Exit(1)
		}
		return
	}
	var reports []*report
	if *sweep {
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				fatalf("-sweep-sizes: %v", err)
			}
			so := o
			so.users = n
			r, err := run(ctx, so)
			if err != nil {
				fatalf("%v", err)
			}
			printReport(os.Stdout, r)
			reports = append(reports, r)
		}
		printSweep(os.Stdout, reports)
	} else {
		r, err := run(ctx, o)
		if err != nil {
			fatalf("%v", err)
		}
		printReport(os.Stdout, r)
		reports = append(reports, r)
	}
	var v any = reports[0]
	if *sweep {
		v = map[string]any{"sweep": reports}
	}
	writeJSON(*jsonF, v)
	for _, r := range reports {
		if !r.AllEqual {
			fmt.Fprintln(os.Stderr, "FAIL: answers differ; see the mismatches above")
			os.Exit(1)
		}
	}
}

// writeJSON writes v to the file name as indented JSON; no name, no file.
func writeJSON(name string, v any) {
	if name == "" {
		return
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(2)
}

// run is one full harness run.
func run(ctx context.Context, o options) (*report, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.log, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	if o.users <= 0 || o.days <= 0 {
		return nil, fmt.Errorf("-users and -days must be positive")
	}
	par := o.queryPar
	if par == 0 {
		par = runtime.GOMAXPROCS(0)
	}
	r := &report{Users: o.users, Days: o.days, Seed: o.seed, AllEqual: true, Machine: machine(), QueryParallelism: par,
		StartedAt: start.UTC().Format(time.RFC3339), GoVersion: runtime.Version(), Shape: map[string]float64{}}
	g := newGenerator(genConfig{Users: o.users, Days: o.days, Seed: o.seed})
	w := window{max(0, o.days-30), o.days}
	r.QueryRange = date(w.from).String() + " to " + date(w.to).String() + " (exclusive)"
	logf("generator ready: %d users, %d days; queries over %s", o.users, o.days, r.QueryRange)

	// 1. The engine on a memory store, alone in the heap: ingest and memory.
	base := heapAfterGC()
	mem := store.NewMemory()
	eng, err := openEngine(ctx, mem, o.days, o.queryPar)
	if err != nil {
		return nil, err
	}
	var addTime time.Duration
	var buf []ev
	var evs []insights.Event
	sh := &shape{}
	stopIngest := startProfile(o.cpuprofile, "ingest")
	for d := range o.days {
		buf = g.day(d, buf)
		sh.addDay(g, d, buf)
		evs = g.dayEvents(d, buf, evs)
		t, err := addBatches(ctx, eng, evs, o.batch)
		if err != nil {
			return nil, fmt.Errorf("engine, day %d: %w", d, err)
		}
		addTime += t
		r.Events += int64(len(evs))
		if d%10 == 9 || d == o.days-1 {
			logf("engine: %d days, %d events, %.0f events/s in Add", d+1, r.Events, float64(r.Events)/addTime.Seconds())
		}
	}
	stopIngest()
	evs, buf = nil, nil
	r.IngestEventsPerSec = float64(r.Events) / addTime.Seconds()
	t0 := time.Now()
	if err := sealAll(ctx, eng, o.days); err != nil {
		return nil, err
	}
	r.SealNs = time.Since(t0).Nanoseconds()
	// A checkpoint moves the log into day segments, as it does every
	// CheckpointBytes of log; the store's bytes are then counted apart.
	if err := eng.Flush(ctx); err != nil {
		return nil, err
	}
	heap := heapAfterGC()
	storeBytes, err := memoryStoreBytes(ctx, mem)
	if err != nil {
		return nil, err
	}
	r.MemBytesPerEvent = (float64(heap) - float64(base) - float64(storeBytes)) / float64(r.Events)
	r.MemStoreBytesPerEvent = float64(storeBytes) / float64(r.Events)
	sh.fill(r.Shape, o.users)
	sh.seen, sh.comboSet = nil, nil
	logf("engine: heap %.1f MiB over baseline (%.1f bytes/event) plus %.1f MiB in the memory store; seal %.0f ms",
		float64(heap-base)/(1<<20)-float64(storeBytes)/(1<<20), r.MemBytesPerEvent, float64(storeBytes)/(1<<20), float64(r.SealNs)/1e6)

	// 2. The comparators, fed the same events, and the queries.
	if o.phases["queries"] {
		if err := runQueries(ctx, o, g, eng, w, r, logf); err != nil {
			return nil, err
		}
	}

	// 3. Approximate mode. The main engine is released before the long
	// history is built, so that the two never share the heap.
	release := func() {
		if eng != nil {
			eng.Close()
			eng, mem = nil, nil
		}
	}
	if o.phases["approx"] {
		if err := runApprox(ctx, o, g, eng, release, r, logf); err != nil {
			return nil, err
		}
	}
	release()

	// 4. Concurrent ingest on a subset.
	if o.phases["ingest"] {
		if err := runIngest(ctx, o, g, r, logf); err != nil {
			return nil, err
		}
	}

	// 5. The ingest cost and memory of risk detection.
	if o.phases["risk"] {
		if err := runRisk(ctx, o, g, r, logf); err != nil {
			return nil, err
		}
	}

	// 6. The directory store: disk bytes, reopen.
	if o.phases["disk"] {
		dir, err := os.MkdirTemp(o.tmp, "bench-dir-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		var lat []time.Duration
		at, n, err := ingestDir(ctx, g, dir, o.batch, &lat, logf)
		if err != nil {
			return nil, err
		}
		r.IngestDirEventsPerSec = float64(n) / at.Seconds()
		r.AddP50Ms, r.AddP99Ms, r.AddMaxMs = ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(percentile(lat, 100))
		logf("dir store: Add of %d events: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d Adds", o.batch, r.AddP50Ms, r.AddP99Ms, r.AddMaxMs, len(lat))
		size, files, err := dirBytes(dir)
		if err != nil {
			return nil, err
		}
		r.DiskBytesPerEvent, r.DiskFiles = float64(size)/float64(n), files
		logf("dir store: %.0f events/s in Add, %.1f MiB in %d files (%.2f bytes/event)", r.IngestDirEventsPerSec, float64(size)/(1<<20), files, r.DiskBytesPerEvent)
		if err := measureLog(ctx, dir, n, r); err != nil {
			return nil, err
		}
		logf("dir store: sign-in log %.2f bytes/event (%.2f with the combination columns), segments %.2f bytes/event",
			r.LogDiskBytesPerEvent, r.LogWithColumnsBytesPerEvent, r.SegmentBytesPerEvent)
		s := r.SegmentSectionsBytesPerEvent
		logf("dir store: index %.2f bytes/event: columns %.2f, counts %.2f, users %.2f, active %.2f, request ids %.2f",
			r.SegmentIndexBytesPerEvent, s["columns"], s["counts"], s["users"], s["active"], s["request_ids"])
		open, q, _, err := reopen(ctx, dir, o.days, o.queryPar, w)
		if err != nil {
			return nil, err
		}
		r.ReopenOpenNs, r.ReopenQueryNs, r.ReopenNs = open.Nanoseconds(), q.Nanoseconds(), (open + q).Nanoseconds()
		logf("reopen: Open %.1f ms, first 30-day query %.1f ms", float64(open.Nanoseconds())/1e6, float64(q.Nanoseconds())/1e6)
	}
	r.PeakRSS = peakRSS()
	r.Seconds = time.Since(start).Seconds()
	logf("done in %.1fs, peak RSS %.1f GiB", r.Seconds, float64(r.PeakRSS)/(1<<30))
	return r, nil
}

// runQueries loads DuckDB and the scan copy, then times and compares every query.
func runQueries(ctx context.Context, o options, g *generator, eng *insights.Engine, w window, r *report, logf func(string, ...any)) error {
	dk, err := openDuck(ctx, o.tmp, o.duckMem, o.duckThreads)
	if err != nil {
		return err
	}
	defer dk.close()
	sc := newScanDB(o.users, o.days)
	var buf []ev
	var n int64
	for d := range o.days {
		buf = g.day(d, buf)
		sc.addDay(d, buf)
		if err := dk.appendDay(g, d, buf); err != nil {
			return err
		}
		n += int64(len(buf))
		if d%10 == 9 || d == o.days-1 {
			logf("duckdb and scan: %d days loaded, %.0f rows/s into DuckDB (two tables)", d+1, float64(n)/dk.loadTime.Seconds())
		}
	}
	if n != r.Events {
		return fmt.Errorf("the generator is not deterministic: %d events, then %d", r.Events, n)
	}
	if err := dk.finishLoad(ctx); err != nil {
		return err
	}
	r.DuckDBLoadEventsPerS = float64(n) / dk.loadTime.Seconds()
	r.DuckDBFileBytes = dk.fileBytes()
	r.ScanBytesPerEvent = float64(sc.bytes()) / float64(n)
	logf("duckdb: loaded both tables at %.0f events/s (each event twice), file %.1f MiB", r.DuckDBLoadEventsPerS, float64(r.DuckDBFileBytes)/(1<<20))

	for _, s := range specs(g) {
		qr := queryResult{Name: s.name}
		q := s.engineQuery(w)
		var ea answer
		stop := startProfile(o.cpuprofile, s.name)
		mem, t0 := eng.Memory().Bytes, time.Now()
		if _, err := eng.Query(ctx, q); err != nil {
			return fmt.Errorf("%s: insights: %w", s.name, err)
		}
		qr.FirstNs = time.Since(t0).Nanoseconds()
		qr.InsightsNs, err = timeIt(o.runs, func() error {
			res, err := eng.Query(ctx, q)
			if err == nil && ea == nil {
				ea = s.engineAnswer(res)
			}
			return err
		})
		stop()
		if err != nil {
			return fmt.Errorf("%s: insights: %w", s.name, err)
		}
		qr.HeapBytes = eng.Memory().Bytes - mem
		var da, ia, sa answer
		qr.DuckDBNs, err = timeIt(o.runs, func() error {
			a, err := dk.query(ctx, s.sqlFor(tableGUID, w, g), s.multi)
			if da == nil {
				da = a
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		qr.DuckDBIntNs, err = timeIt(o.runs, func() error {
			a, err := dk.query(ctx, s.sqlFor(tableInt, w, g), s.multi)
			if ia == nil {
				ia = a
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		qr.ScanNs, _ = timeIt(o.runs, func() error {
			a := s.scan(sc, w)
			if sa == nil {
				sa = a
			}
			return nil
		})
		qr.Keys = len(sa)
		qr.Equal = equal(ea, da) && equal(ea, ia) && equal(ea, sa)
		if !qr.Equal {
			r.AllEqual = false
			var m []string
			for _, c := range []struct {
				name string
				a    answer
			}{{"duckdb", da}, {"duckdb_int", ia}, {"scan", sa}} {
				if !equal(ea, c.a) {
					m = append(m, fmt.Sprintf("insights vs %s: %s", c.name, diff(ea, c.a, 8)))
				}
			}
			qr.Mismatch = strings.Join(m, " | ")
			fmt.Fprintf(os.Stderr, "MISMATCH %s: %s\n", s.name, qr.Mismatch)
		}
		qr.VsDuckDB = float64(qr.DuckDBNs) / float64(qr.InsightsNs)
		qr.VsDuckDBInt = float64(qr.DuckDBIntNs) / float64(qr.InsightsNs)
		r.Queries = append(r.Queries, qr)
		logf("%-28s insights %10s  duckdb %10s  duckdb-int %10s  scan %10s  equal=%v  (insights first run %s, heap +%.2f MiB)",
			s.name, ns(qr.InsightsNs), ns(qr.DuckDBNs), ns(qr.DuckDBIntNs), ns(qr.ScanNs), qr.Equal, ns(qr.FirstNs), float64(qr.HeapBytes)/(1<<20))
	}
	if err := runLogQueries(ctx, o, g, eng, dk, sc, w, r, logf); err != nil {
		return err
	}
	if o.phases["disk"] {
		pb, err := dk.parquetBytes(ctx, tableGUID)
		if err != nil {
			return err
		}
		r.ParquetBytesPerEvent = float64(pb) / float64(n)
		pb, err = dk.parquetBytes(ctx, "(SELECT * EXCLUDE (day, seq) FROM "+tableGUID+")")
		if err != nil {
			return err
		}
		r.LogParquetBytesPerEvent = float64(pb) / float64(n)
		logf("duckdb: zstd Parquet %.2f bytes/event (table), %.2f (the log's columns)", r.ParquetBytesPerEvent, r.LogParquetBytesPerEvent)
	}
	return nil
}

// measureLog measures the sign-in log in the segments of the directory store at dir.
func measureLog(ctx context.Context, dir string, events int64, r *report) error {
	st, err := store.Dir(dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := measureSegments(ctx, st)
	if err != nil {
		return err
	}
	ev := float64(events)
	r.LogDiskBytesPerEvent = float64(p.log) / ev
	r.LogWithColumnsBytesPerEvent = float64(p.log+p.columns) / ev
	r.SegmentBytesPerEvent = float64(p.total) / ev
	r.SegmentIndexBytesPerEvent = float64(p.columns+p.index) / ev
	r.SegmentSectionsBytesPerEvent = map[string]float64{"columns": float64(p.columns) / ev, "counts": float64(p.counts) / ev,
		"users": float64(p.users) / ev, "active": float64(p.active) / ev, "request_ids": float64(p.ids) / ev}
	return nil
}

// startProfile starts a CPU profile to prefix-name.pprof, if prefix is set.
func startProfile(prefix, name string) (stop func()) {
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + name + ".pprof")
	if err != nil {
		fatalf("%v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fatalf("%v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// timeIt runs f once to warm up, then runs times, and returns the median.
func timeIt(runs int, f func() error) (int64, error) {
	if err := f(); err != nil {
		return 0, err
	}
	ts := make([]int64, 0, runs)
	for range max(1, runs) {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ts = append(ts, time.Since(t0).Nanoseconds())
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// runApprox compares approximate and exact active users: 30 days on the
// main data, and 30, 90 and -approx-days days on a long history. It
// calls release when it no longer needs eng.
func runApprox(ctx context.Context, o options, g *generator, eng *insights.Engine, release func(), r *report, logf func(string, ...any)) error {
	measure := func(e *insights.Engine, users, dataDays, rangeDays int) (approxResult, error) {
		w := window{dataDays - rangeDays, dataDays}
		q := insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total, From: date(w.from), To: date(w.to)}
		ar := approxResult{Users: users, DataDays: dataDays, RangeDays: rangeDays}
		var err error
		ar.ExactNs, err = timeIt(o.runs, func() error {
			res, err := e.Query(ctx, q)
			if err == nil && len(res.Rows) == 1 {
				ar.Exact = res.Rows[0].Value
			}
			return err
		})
		if err != nil {
			return ar, err
		}
		q.Approximate = true
		ar.ApproxNs, err = timeIt(o.runs, func() error {
			res, err := e.Query(ctx, q)
			if err != nil {
				return err
			}
			if !res.Approximate {
				return fmt.Errorf("approximate query answered exactly: %v", res.Warnings)
			}
			if len(res.Rows) == 1 {
				ar.Approx, ar.StdError = res.Rows[0].Value, res.RelativeError
			}
			return nil
		})
		if ar.Exact > 0 {
			ar.RelError = (ar.Approx - ar.Exact) / ar.Exact
		}
		logf("approx: %d users, %d-day range: exact %.0f (%s), approx %.0f (%s), error %+.3f%% (std %.2f%%)",
			users, rangeDays, ar.Exact, ns(ar.ExactNs), ar.Approx, ns(ar.ApproxNs), 100*ar.RelError, 100*ar.StdError)
		return ar, err
	}
	main30, err := measure(eng, o.users, o.days, min(30, o.days))
	if err != nil {
		return err
	}
	r.HLLMauRelError = main30.RelError
	r.Approx = append(r.Approx, main30)

	long, users, days := eng, o.users, o.days
	if o.days < o.approxDays {
		users, days = min(o.users, o.approxUsers), o.approxDays
		eng, long = nil, nil
		release()
		lg := newGenerator(genConfig{Users: users, Days: days, Seed: o.seed})
		e, err := openEngine(ctx, store.NewMemory(), days, o.queryPar)
		if err != nil {
			return err
		}
		defer e.Close()
		var buf []ev
		var evs []insights.Event
		var n int64
		for d := range days {
			buf = lg.day(d, buf)
			evs = lg.dayEvents(d, buf, evs)
			if _, err := addBatches(ctx, e, evs, o.batch); err != nil {
				return err
			}
			n += int64(len(evs))
		}
		logf("approx: long history of %d users over %d days, %d events", users, days, n)
		if err := sealAll(ctx, e, days); err != nil {
			return err
		}
		long = e
	}
	for _, rd := range []int{30, 90, o.approxDays} {
		if rd > days {
			continue
		}
		ar, err := measure(long, users, days, rd)
		if err != nil {
			return err
		}
		r.Approx = append(r.Approx, ar)
	}
	return nil
}

// runIngest measures concurrent ingest against one goroutine on the same
// events (the first -ingest-events), and 64 single-event writers on a
// directory store.
func runIngest(ctx context.Context, o options, g *generator, r *report, logf func(string, ...any)) error {
	var evs []insights.Event
	var buf []ev
	var days int
	for d := 0; d < o.days && len(evs) < o.ingestEvents; d++ {
		buf = g.day(d, buf)
		evs = append(evs, g.dayEvents(d, buf, nil)...)
		days = d + 1
	}
	evs = evs[:min(len(evs), o.ingestEvents)]
	r.IngestSubsetEvents = len(evs)
	one, err := openEngine(ctx, store.NewMemory(), o.days, 0)
	if err != nil {
		return err
	}
	t, err := addBatches(ctx, one, evs, o.batch)
	one.Close()
	if err != nil {
		return err
	}
	r.IngestSubsetOneEventsPerS = float64(len(evs)) / t.Seconds()
	r.IngestParallelGoroutines = runtime.GOMAXPROCS(0)
	many, err := openEngine(ctx, store.NewMemory(), o.days, 0)
	if err != nil {
		return err
	}
	t, err = addConcurrently(ctx, many, evs, o.batch, r.IngestParallelGoroutines)
	many.Close()
	if err != nil {
		return err
	}
	r.IngestParallelEventsPerSec = float64(len(evs)) / t.Seconds()
	logf("ingest: %d events of the first %d days: one goroutine %.0f events/s, %d goroutines %.0f events/s",
		len(evs), days, r.IngestSubsetOneEventsPerS, r.IngestParallelGoroutines, r.IngestParallelEventsPerSec)
	if o.phases["disk"] {
		rate, n, err := dir64Writers(ctx, o.tmp, evs, o.days)
		if err != nil {
			return err
		}
		r.IngestDir64WritersPerSec = rate
		logf("ingest: directory store, 64 writers adding one event each time: %d events, %.0f events/s", n, rate)
	}
	return nil
}

// shape summarizes the generated traffic.
type shape struct {
	events, signIns, signUps, principals   int64
	success, failure, interrupted          int64
	interactive, nonInteractive, mfaChal   int64
	mfaFail, foreign, weekend, weekendDays int64
	presentUserDays, combos                int64
	perDay                                 []int64
	seen                                   bitset
	comboSet                               map[[17]uint8]struct{}
}

func (s *shape) addDay(g *generator, d int, evs []ev) {
	s.perDay = append(s.perDay, int64(len(evs)))
	if isWeekend(d) {
		s.weekend += int64(len(evs))
		s.weekendDays++
	}
	if s.seen == nil {
		s.seen = newBitset(len(g.users))
	}
	s.seen.clear()
	if s.comboSet == nil {
		s.comboSet = map[[17]uint8]struct{}{}
	}
	clear(s.comboSet)
	for i := range evs {
		e := &evs[i]
		s.events++
		// the indexed values the generator sets (app name follows app id)
		c := [17]uint8{uint8(e.kind), uint8(e.sit), uint8(e.status), e.app, e.os, e.browser, e.country, e.lang,
			e.idp, e.client, e.mfaM, e.mfaR, e.req, e.ca, e.risk, uint8(e.code >> 8), uint8(e.code)}
		s.comboSet[c] = struct{}{}
		switch {
		case e.user < 0:
			s.principals++
		case e.kind == insights.KindSignUp:
			s.signUps++
		}
		if e.user >= 0 {
			if s.seen.add(uint32(e.user)) {
				s.presentUserDays++
			}
			if e.country != g.users[e.user].home {
				s.foreign++
			}
		}
		if e.kind != insights.KindSignIn {
			continue
		}
		s.signIns++
		switch e.status {
		case insights.StatusSuccess:
			s.success++
		case insights.StatusFailure:
			s.failure++
		case insights.StatusInterrupted:
			s.interrupted++
		}
		switch e.sit {
		case insights.SignInInteractiveUser:
			s.interactive++
		case insights.SignInNonInteractiveUser:
			s.nonInteractive++
		}
		if e.mfaM != 0 {
			s.mfaChal++
			if e.mfaR != mfaResSuccess {
				s.mfaFail++
			}
		}
	}
	s.combos += int64(len(s.comboSet))
}

func (s *shape) fill(m map[string]float64, users int) {
	f := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return math.Round(1e4*float64(a)/float64(b)) / 1e4
	}
	weekdayDays := int64(len(s.perDay)) - s.weekendDays
	m["events"] = float64(s.events)
	m["events_per_user_day"] = f(s.events, int64(users)*int64(len(s.perDay)))
	m["sign_ins"] = float64(s.signIns)
	m["sign_ups"] = float64(s.signUps)
	m["principal_sign_ins_share"] = f(s.principals, s.events)
	m["sign_in_success_share"] = f(s.success, s.signIns)
	m["sign_in_failure_share"] = f(s.failure, s.signIns)
	m["sign_in_interrupted_share"] = f(s.interrupted, s.signIns)
	m["non_interactive_share_of_user_sign_ins"] = f(s.nonInteractive, s.interactive+s.nonInteractive)
	m["mfa_challenge_share_of_sign_ins"] = f(s.mfaChal, s.signIns)
	m["mfa_failure_share_of_challenges"] = f(s.mfaFail, s.mfaChal)
	m["user_events_per_present_user_day"] = f(s.events-s.principals, s.presentUserDays)
	m["present_user_days_per_user_day"] = f(s.presentUserDays, int64(users)*int64(len(s.perDay)))
	m["foreign_country_share_of_user_events"] = f(s.foreign, s.events-s.principals)
	m["distinct_dimension_combinations_per_day_per_event"] = f(s.combos, s.events)
	if s.weekendDays > 0 && weekdayDays > 0 {
		m["weekend_to_weekday_volume"] = f(s.weekend*weekdayDays, (s.events-s.weekend)*s.weekendDays)
	}
}

// times formats a speed-up.
func times(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// ns formats nanoseconds for the table.
func ns(n int64) string {
	switch {
	case n <= 0:
		return "-"
	case n < 1e3:
		return fmt.Sprintf("%dns", n)
	case n < 1e6:
		return fmt.Sprintf("%.1fµs", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.2fms", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2fs", float64(n)/1e9)
}

func printReport(out io.Writer, r *report) {
	fmt.Fprintf(out, "\n%d users × %d days: %d events (queries over %s)\n\n", r.Users, r.Days, r.Events, r.QueryRange)
	if len(r.Queries) > 0 {
		fmt.Fprintf(out, "| query | insights | DuckDB (GUID ids) | DuckDB (int ids) | Go scan | × DuckDB | × DuckDB int | equal |\n")
		fmt.Fprintf(out, "|---|---:|---:|---:|---:|---:|---:|:-:|\n")
		for _, q := range r.Queries {
			fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %v |\n",
				q.Name, ns(q.InsightsNs), ns(q.DuckDBNs), ns(q.DuckDBIntNs), ns(q.ScanNs), times(q.VsDuckDB), times(q.VsDuckDBInt), q.Equal)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "| measure | value |\n|---|---:|\n")
	row := func(name, format string, v float64) {
		if v != 0 {
			fmt.Fprintf(out, "| %s | "+format+" |\n", name, v)
		}
	}
	row("ingest, one goroutine, memory store, whole data (events/s)", "%.0f", r.IngestEventsPerSec)
	row(fmt.Sprintf("ingest, one goroutine, first %d events (events/s)", r.IngestSubsetEvents), "%.0f", r.IngestSubsetOneEventsPerS)
	row(fmt.Sprintf("ingest, %d goroutines, same events (events/s)", r.IngestParallelGoroutines), "%.0f", r.IngestParallelEventsPerSec)
	row("ingest, one goroutine, directory store, batches of 1000 (events/s)", "%.0f", r.IngestDirEventsPerSec)
	row("ingest, directory store, 64 writers of one event (events/s)", "%.0f", r.IngestDir64WritersPerSec)
	row("Add latency, directory store, batches of 1000, p50 (ms)", "%.2f", r.AddP50Ms)
	row("Add latency, directory store, batches of 1000, p99 (ms)", "%.2f", r.AddP99Ms)
	row("Add latency, directory store, batches of 1000, max (ms)", "%.2f", r.AddMaxMs)
	row("DuckDB Appender load, both tables (events/s)", "%.0f", r.DuckDBLoadEventsPerS)
	row("first query after ingest, sealing every day (ms)", "%.1f", float64(r.SealNs)/1e6)
	row("engine heap after ingest, less the memory store (bytes/event)", "%.2f", r.MemBytesPerEvent)
	row("memory store contents (bytes/event)", "%.2f", r.MemStoreBytesPerEvent)
	row("directory store after Flush (bytes/event)", "%.2f", r.DiskBytesPerEvent)
	row("DuckDB zstd Parquet of the table (bytes/event)", "%.2f", r.ParquetBytesPerEvent)
	row("day segments, whole frames (bytes/event)", "%.2f", r.SegmentBytesPerEvent)
	row("day segments, index part: combination columns, counts, user lists, active set, request-id hashes (bytes/event)", "%.2f", r.SegmentIndexBytesPerEvent)
	row("sign-in log section of the day segments (bytes/event)", "%.2f", r.LogDiskBytesPerEvent)
	row("sign-in log section + the combination columns it refers to (bytes/event)", "%.2f", r.LogWithColumnsBytesPerEvent)
	row("DuckDB zstd Parquet of the log's columns (bytes/event)", "%.2f", r.LogParquetBytesPerEvent)
	row("DuckDB database file, both tables (bytes/event)", "%.2f", float64(r.DuckDBFileBytes)/float64(r.Events))
	row("reopen: Open (ms)", "%.1f", float64(r.ReopenOpenNs)/1e6)
	row("reopen: first 30-day query (ms)", "%.1f", float64(r.ReopenQueryNs)/1e6)
	if rr := r.Risk; rr != nil {
		row(fmt.Sprintf("ingest without risk detection, first %d events in time order, median of %d (events/s)", rr.Events, rr.Runs), "%.0f", rr.OffEventsPerSec)
		row(fmt.Sprintf("ingest with risk detection, same events, median of %d (events/s)", rr.Runs), "%.0f", rr.OnEventsPerSec)
		fmt.Fprintf(out, "| added ingest cost of risk detection (SPEC §13: at most 10%%) | %+.1f%% |\n", 100*rr.AddedCost)
		row("risk detections rebuilt from the log of those events, first risk read (ms)", "%.1f", float64(rr.RebuildNs)/1e6)
		fmt.Fprintf(out, "| heap of risk detection after those events (bytes, bytes/user) | %d, %.1f |\n", rr.HeapBytes, rr.HeapBytesPerUser)
		fmt.Fprintf(out, "| risk detections (low, medium, high) | %d (%v) |\n", rr.Detections, rr.DetectionsByLevel)
	}
	for _, a := range r.Approx {
		fmt.Fprintf(out, "| approximate %d-day active users (%d users, %d days of data): error %+.3f%%, exact %s, approx %s | %.2f× faster |\n",
			a.RangeDays, a.Users, a.DataDays, 100*a.RelError, ns(a.ExactNs), ns(a.ApproxNs), float64(a.ExactNs)/float64(max(1, a.ApproxNs)))
	}
	row("peak RSS (GiB)", "%.2f", float64(r.PeakRSS)/(1<<30))
	row("wall time (s)", "%.1f", r.Seconds)
	fmt.Fprintf(out, "| every answer equal | %v |\n", r.AllEqual)
}

func printSweep(out io.Writer, rs []*report) {
	fmt.Fprintf(out, "\nSweep: insights / DuckDB (GUID) per query, and per-event costs\n\n| query |")
	for _, r := range rs {
		fmt.Fprintf(out, " %d users |", r.Users)
	}
	fmt.Fprintf(out, "\n|---|")
	for range rs {
		fmt.Fprintf(out, "---:|")
	}
	fmt.Fprintln(out)
	for i, q := range rs[0].Queries {
		fmt.Fprintf(out, "| %s |", q.Name)
		for _, r := range rs {
			if i < len(r.Queries) {
				fmt.Fprintf(out, " %s / %s |", ns(r.Queries[i].InsightsNs), ns(r.Queries[i].DuckDBNs))
			}
		}
		fmt.Fprintln(out)
	}
	for _, m := range []struct {
		name string
		f    func(*report) string
	}{
		{"events", func(r *report) string { return fmt.Sprint(r.Events) }},
		{"ingest events/s", func(r *report) string { return fmt.Sprintf("%.0f", r.IngestEventsPerSec) }},
		{"heap bytes/event", func(r *report) string { return fmt.Sprintf("%.2f", r.MemBytesPerEvent) }},
		{"disk bytes/event", func(r *report) string { return fmt.Sprintf("%.2f", r.DiskBytesPerEvent) }},
		{"HLL 30-day error", func(r *report) string { return fmt.Sprintf("%+.3f%%", 100*r.HLLMauRelError) }},
	} {
		fmt.Fprintf(out, "| %s |", m.name)
		for _, r := range rs {
			fmt.Fprintf(out, " %s |", m.f(r))
		}
		fmt.Fprintln(out)
	}
}

// machine describes where the run happened.
func machine() map[string]string {
	m := map[string]string{"nproc": strconv.Itoa(runtime.NumCPU()), "goos": runtime.GOOS, "goarch": runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				m["memory"] = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return m
}

// peakRSS is the process's peak resident set (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
