package insights_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// segmentGate is a Store whose Gets of a day segment wait, once armed,
// until open is closed. A store that reads ranges (store.Memory) has the
// engine read a day's index by ranges (under the engine's read lock) and
// Get the whole segment only for its event log (a rebuild reads it
// holding no engine lock): only the latter waits.
type segmentGate struct {
	*store.Memory
	armed   bool
	open    chan struct{}
	blocked chan struct{} // closed when a Get first waits
	once    sync.Once
}

func (s *segmentGate) Get(ctx context.Context, key string) ([]byte, error) {
	if s.armed && strings.HasPrefix(key, "days/") {
		s.once.Do(func() { close(s.blocked) })
		<-s.open
	}
	return s.Memory.Get(ctx, key)
}

func newSegmentGate() *segmentGate {
	return &segmentGate{Memory: store.NewMemory(), open: make(chan struct{}), blocked: make(chan struct{})}
}

// within fails the test if f has not returned after a minute: a
// deadlock, not a timing.
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s: still waiting after a minute", what)
	}
}

// TestRiskRebuildLeavesAddFree reopens a store whose day segments' logs
// cannot be read yet: the rebuild the first risk read starts waits on
// them, and Add and queries must go on meanwhile (the rebuild holds no
// engine lock while it reads). Once the logs can be read, the detections
// are those of a fresh engine given every event: the ones added during
// the rebuild to a day it had yet to read count once (six failed
// sign-ins, doubled, would be a brute force), as do those added to a new
// day. The clock is the day after the last stored day, so that both days
// are inside the request-id horizon: an Add to a stored day outside it
// reads that day's log for its request ids (requestids.go), under the
// write lock, which the gate would hold up too.
func TestRiskRebuildLeavesAddFree(t *testing.T) {
	ctx := context.Background()
	evs := riskTraffic(5)
	var last time.Time
	for _, ev := range evs {
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	var burst, next []insights.Event // burst: on the last stored day, which the rebuild reads last
	for i := range 6 {
		burst = append(burst, insights.Event{Time: last.Add(time.Duration(i) * time.Second), Kind: insights.KindSignIn, UserKey: "burst",
			ErrorCode: 50126, IP: "198.51.100.7", AppID: "portal", RequestID: fmt.Sprint("burst", i)})
		next = append(next, insights.Event{Time: last.Add(24*time.Hour + time.Duration(i)*time.Minute), Kind: insights.KindSignIn,
			UserKey: fmt.Sprint("next", i), IP: "198.51.100.8", AppID: "portal", RequestID: fmt.Sprint("next", i)})
	}
	s := newSegmentGate()
	open := func() *insights.Engine {
		t.Helper()
		e, err := insights.Open(ctx, s, &insights.Options{Now: fixed(next[len(next)-1].Time.Add(time.Hour)), Risk: riskLists})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := open()
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s.armed = true
	e = open()
	defer e.Close()
	var release sync.Once
	defer release.Do(func() { close(s.open) }) // before Close, if the test fails
	read := make(chan []insights.Detection, 1)
	go func() { // the first read starts the rebuild, and waits for it
		p, err := e.Detections(ctx, insights.DetectionQuery{Limit: insights.MaxPageSize})
		if err != nil {
			t.Error(err)
		}
		read <- p.Detections
	}()
	<-s.blocked // the rebuild is reading the first day's log
	within(t, "Add to a stored day during the rebuild", func() error { return e.Add(ctx, burst...) })
	within(t, "Add to a new day during the rebuild", func() error { return e.Add(ctx, next...) })
	day := insights.DateOf(next[0].Time, time.UTC)
	within(t, "a query of a day added during the rebuild", func() error {
		_, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: day, To: day.AddDays(1)})
		return err
	})
	release.Do(func() { close(s.open) })
	want := openRisk(t, store.NewMemory())
	defer want.Close()
	if err := want.Add(ctx, append(append(slices.Clone(evs), burst...), next...)...); err != nil {
		t.Fatal(err)
	}
	all := allDetections(t, want, insights.DetectionQuery{})
	if len(all) == 0 || len(all) > insights.MaxPageSize {
		t.Fatalf("%d detections: the test wants some, on one page", len(all))
	}
	sameJSON(t, "the first read, waiting for the rebuild", <-read, all)
	sameJSON(t, "detections after a rebuild beside Adds", allDetections(t, e, insights.DetectionQuery{}), all)
}

// TestRiskDetectorStopsAtClose closes engines whose detector was never
// started, is idle, or is in the middle of a rebuild: no goroutine
// outlives Close, and a read waiting for the rebuild gets its answer or
// ErrClosed.
func TestRiskDetectorStopsAtClose(t *testing.T) {
	ctx := context.Background()
	before := runtime.NumGoroutine()
	evs := riskTraffic(6)
	s := newSegmentGate()
	e := openRisk(t, s)
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil { // never started
		t.Fatal(err)
	}
	e = openRisk(t, s)
	if _, err := e.Detections(ctx, insights.DetectionQuery{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(ctx, evs[:10]...); err != nil { // copies, by request id
		t.Fatal(err)
	}
	if err := e.Close(); err != nil { // started
		t.Fatal(err)
	}
	s.armed = true
	e = openRisk(t, s)
	read := make(chan error, 1)
	go func() { _, err := e.Detections(ctx, insights.DetectionQuery{}); read <- err }()
	<-s.blocked
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	close(s.open) // a store read takes no context: Close waits for it
	within(t, "Close during a rebuild", func() error { return <-closed })
	if err := <-read; err != nil && !errors.Is(err, insights.ErrClosed) {
		t.Fatalf("a read waiting for the rebuild at Close: %v, want its answer or ErrClosed", err)
	}
	if _, err := e.Detections(ctx, insights.DetectionQuery{}); !errors.Is(err, insights.ErrClosed) {
		t.Fatalf("a read after Close: %v, want ErrClosed", err)
	}
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}
