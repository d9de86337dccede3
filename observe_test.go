package insights_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// total returns the sum of the values of q's rows on e.
func total(t testing.TB, e *insights.Engine, q insights.Query) float64 {
	t.Helper()
	res, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, r := range res.Rows {
		v += r.Value
	}
	return v
}

// TestStatsAgreeWithTheEngine checks each figure of Stats against what the
// engine itself answers: events against the Requests metric, users against
// signing-in users, days and memory against Memory, recovery against
// Recovery; and the log and checkpoint figures through Flush and a reopen.
func TestStatsAgreeWithTheEngine(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	e, err := insights.Open(ctx, st, &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	adds := 0
	for d := range 5 {
		var evs []insights.Event
		for u := range 20 + d {
			ev := insights.Event{Time: utc(3, 3+d, 9, u), Kind: insights.KindSignIn, UserKey: fmt.Sprintf("u%d", u*3%25),
				AppID: fmt.Sprintf("app%d", u%3), RequestID: fmt.Sprintf("r%d-%d", d, u)}
			if u%4 == 0 {
				ev.ErrorCode = 50126
			}
			evs = append(evs, ev)
		}
		evs = append(evs, evs[0], evs[1]) // copies: skipped
		add(t, e, evs...)
		adds++
	}
	all := insights.Query{From: insights.NewDate(2025, 3, 1), To: insights.NewDate(2025, 4, 1), Granularity: insights.Total}
	// check compares Stats with the engine's answers (Memory first: a
	// query changes it) and returns it.
	check := func(when string) insights.Stats {
		t.Helper()
		s := e.Stats()
		if m := e.Memory(); s.Memory != m {
			t.Errorf("%s: Memory %+v, Engine.Memory %+v", when, s.Memory, m)
		}
		if r := e.Recovery(); s.Recovery != r {
			t.Errorf("%s: Recovery %+v, Engine.Recovery %+v", when, s.Recovery, r)
		}
		q := all
		q.Metric = insights.Requests
		if want := total(t, e, q); float64(s.Events) != want {
			t.Errorf("%s: Events %d, Requests answers %v", when, s.Events, want)
		}
		q.Metric = insights.SigningInUsers
		if want := total(t, e, q); float64(s.Users) != want {
			t.Errorf("%s: Users %d, signing-in users %v", when, s.Users, want)
		}
		if s.Duplicates != 10 || s.Days != 5 {
			t.Errorf("%s: Duplicates %d, Days %d; want 10 and 5", when, s.Duplicates, s.Days)
		}
		return s
	}

	s := check("before a checkpoint")
	if s.DaysStored != 0 || s.Checkpoints != 0 || !s.LastCheckpoint.IsZero() || s.LogRecords != uint64(adds) || s.LogBytes == 0 ||
		s.Queries != 0 {
		t.Errorf("before a checkpoint: %+v; want no day stored, no checkpoint, %d log records, no query", s, adds)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s = check("after Flush")
	if s.DaysStored != 5 || s.Checkpoints != 1 || s.CheckpointFailures != 0 || s.LastCheckpoint.IsZero() ||
		s.LogRecords != 0 || s.LogBytes != 0 || s.CheckpointRunning || s.Queries != 2 {
		t.Errorf("after Flush: %+v; want 5 days stored, one checkpoint, no log left, the 2 queries of the first check", s)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.Users != 0 || s.Days != 0 {
		t.Errorf("after Close: %+v, want an empty engine", s)
	}

	// Reopened: the days are on disk, none in memory until queried.
	e, err = insights.Open(ctx, st, &insights.Options{Now: fixed(clock), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s = e.Stats()
	if s.Days != 5 || s.DaysStored != 5 || s.Memory.Days != 0 || s.Events != 0 || s.Recovery.Days != 5 {
		t.Errorf("reopened: %+v; want 5 days stored, none in memory, no event added", s)
	}
	q := all
	q.Metric = insights.ActiveUsers
	total(t, e, q)
	if s := e.Stats(); s.Memory.Days != 5 || s.Queries != 1 {
		t.Errorf("after a query over every day: %+v; want 5 days in memory, one query", s)
	}
}

// logRecords collects what a slog.Logger writes, as JSON objects.
type logRecords struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecords) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the records written since the last call.
func (l *logRecords) take(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var recs []map[string]any
	dec := json.NewDecoder(&l.buf)
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	l.buf.Reset()
	return recs
}

// find returns the records whose message starts with msg.
func find(recs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, msg) {
			out = append(out, r)
		}
	}
	return out
}

// failingManifest fails Puts of the manifest while failing is set.
type failingManifest struct {
	store.Store
	failing atomic.Bool
}

func (s *failingManifest) Put(ctx context.Context, key string, b []byte) error {
	if s.failing.Load() && key == "MANIFEST" {
		return errors.New("the disk is full")
	}
	return s.Store.Put(ctx, key, b)
}

// TestLoggerReportsTheEnginesWork goes through each thing the engine logs:
// a dimension reaching its cap (once), a slow query with its JSON, a
// checkpoint and a failed one, the recovery at Open, evictions.
func TestLoggerReportsTheEnginesWork(t *testing.T) {
	ctx := context.Background()
	var out logRecords
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := &failingManifest{Store: store.NewMemory()}
	opts := &insights.Options{Now: fixed(clock), Logger: logger, MaxDimensionValues: 2, SlowQuery: time.Nanosecond}
	e, err := insights.Open(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if recs := find(out.take(t), "insights: opened"); len(recs) != 1 || recs[0]["logEvents"] != 0.0 {
		t.Errorf("Open of a new store logged %v, want one record with no event", recs)
	}

	for d := range 3 {
		for u := range 4 {
			add(t, e, insights.Event{Time: utc(3, 3+d, 9, u), Kind: insights.KindSignIn, UserKey: fmt.Sprintf("u%d", u), AppID: fmt.Sprintf("app%d", u)})
		}
	}
	recs := out.take(t)
	if caps := find(recs, "insights: dimension reached its cap"); len(caps) != 1 || caps[0]["dimension"] != "appId" ||
		caps[0]["cap"] != 2.0 || caps[0]["level"] != "WARN" {
		t.Errorf("12 events on 4 apps with a cap of 2 logged %v, want one warning for appId", caps)
	}

	q := insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 3, 3), To: insights.NewDate(2025, 3, 6),
		Filter: insights.Eq(insights.DimCountry, "FR")}
	total(t, e, q)
	slow := find(out.take(t), "insights: slow query")
	if len(slow) != 1 || slow[0]["level"] != "WARN" {
		t.Fatalf("a query past SlowQuery logged %v, want one warning", slow)
	}
	var want map[string]any
	b, _ := json.Marshal(q)
	if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(slow[0]["query"], want) {
		t.Errorf("the slow query logged %v, want the query's JSON %s", slow[0]["query"], b)
	}
	if s := e.Stats(); s.SlowQueries != 1 || s.Queries != 1 {
		t.Errorf("Stats: %d queries, %d slow; want 1 and 1", s.Queries, s.SlowQueries)
	}

	st.failing.Store(true)
	if err := e.Flush(ctx); err == nil {
		t.Fatal("Flush with a failing manifest write succeeded")
	}
	if f := find(out.take(t), "insights: checkpoint failed"); len(f) != 1 || f[0]["level"] != "ERROR" ||
		!strings.Contains(f[0]["error"].(string), "the disk is full") {
		t.Errorf("a failed checkpoint logged %v, want one error naming the cause", f)
	}
	st.failing.Store(false)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := find(out.take(t), "insights: checkpoint"); len(c) != 1 || c[0]["level"] != "INFO" || c[0]["days"] != 3.0 {
		t.Errorf("a checkpoint of 3 days logged %v, want one record", c)
	}
	if s := e.Stats(); s.Checkpoints != 1 || s.CheckpointFailures != 1 {
		t.Errorf("Stats: %d checkpoints, %d failed; want 1 and 1", s.Checkpoints, s.CheckpointFailures)
	}
	add(t, e, insights.Event{Time: utc(3, 6, 9, 0), Kind: insights.KindSignIn, UserKey: "u9", AppID: "app9"})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	out.take(t)

	// Reopened: the replayed log and the capped dimension are logged;
	// under a memory limit of one byte, each query evicts the day before.
	opts.MemoryLimit, opts.SlowQuery, opts.ReadOnly = 1, time.Hour, true
	e, err = insights.Open(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	recs = out.take(t)
	if o := find(recs, "insights: opened"); len(o) != 1 || o[0]["logEvents"] != 0.0 || o[0]["checkpoint"] != float64(e.Recovery().Checkpoint) {
		t.Errorf("reopening logged %v, want the recovery of %+v", o, e.Recovery())
	}
	if caps := find(recs, "insights: dimension reached its cap"); len(caps) != 1 {
		t.Errorf("reopening a capped store logged %v, want one warning", caps)
	}
	for d := range 3 {
		day := insights.NewDate(2025, 3, 3+d)
		total(t, e, insights.Query{Metric: insights.ActiveUsers, From: day, To: day.AddDays(1)})
	}
	evicted := 0.0
	for _, r := range find(out.take(t), "insights: days evicted") {
		evicted += r["days"].(float64)
	}
	if m := e.Memory(); evicted != float64(m.Evictions) || evicted != 2 {
		t.Errorf("logged %v evictions; Memory says %+v, want 2", evicted, m)
	}
}

// TestStatsWhileAddsQueriesAndCheckpointsRun reads Stats from one
// goroutine while others add (with checkpoints on their goroutine) and
// query: under -race, and with the counters adding up at the end.
func TestStatsWhileAddsQueriesAndCheckpointsRun(t *testing.T) {
	ctx := context.Background()
	var out logRecords
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: fixed(clock), CheckpointBytes: 4 << 10,
		MemoryLimit: 1, Logger: slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const writers, batches, perBatch, readers, queries = 3, 30, 10, 2, 20
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				_ = e.Stats()
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var evs []insights.Event
				for i := range perBatch {
					evs = append(evs, insights.Event{Time: utc(3, 1+b%20, 9, i), Kind: insights.KindSignIn,
						UserKey: fmt.Sprintf("w%d-u%d", w, i), RequestID: fmt.Sprintf("w%d-b%d-%d", w, b, i)})
				}
				add(t, e, evs...)
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range queries {
				if _, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 3, 1),
					To: insights.NewDate(2025, 3, 21)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	s := e.Stats()
	if s.Events != writers*batches*perBatch || s.Duplicates != 0 || s.Queries != readers*queries || s.Users != writers*perBatch {
		t.Errorf("%+v: want %d events, %d queries, %d users", s, writers*batches*perBatch, readers*queries, writers*perBatch)
	}
	q := insights.Query{Metric: insights.Requests, From: insights.NewDate(2025, 3, 1), To: insights.NewDate(2025, 3, 21), Granularity: insights.Total}
	if want := total(t, e, q); float64(s.Events) != want {
		t.Errorf("Events %d, Requests answers %v", s.Events, want)
	}
}
