package insights_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// segmentGate is a Store whose second and later Gets of a day segment
// wait, once armed, until open is closed: the first loads the day's index
// (under the engine's read lock), the second its event log (a rebuild
// reads it holding no engine lock).
type segmentGate struct {
	*store.Memory
	armed   bool
	open    chan struct{}
	blocked chan struct{} // closed when a Get first waits
	once    sync.Once
	mu      sync.Mutex
	gets    map[string]int
}

func (s *segmentGate) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	s.gets[key]++
	n := s.gets[key]
	s.mu.Unlock()
	if s.armed && strings.HasPrefix(key, "days/") && n > 1 {
		s.once.Do(func() { close(s.blocked) })
		<-s.open
	}
	return s.Memory.Get(ctx, key)
}

func newSegmentGate() *segmentGate {
	return &segmentGate{Memory: store.NewMemory(), open: make(chan struct{}), blocked: make(chan struct{}), gets: map[string]int{}}
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

// TestRiskRebuildLeavesAddFree reopens a store whose day segments cannot
// be read yet: the rebuild Open starts waits on them, and Add and queries
// of other days must go on meanwhile (the rebuild holds no engine lock
// while it reads). Once the segments can be read, the detections are
// those of a fresh engine given every event, the ones added during the
// rebuild included.
func TestRiskRebuildLeavesAddFree(t *testing.T) {
	ctx := context.Background()
	var earlier, later []insights.Event // later: the last day's, which Add need not load
	last := insights.Date{}
	evs := riskTraffic(5)
	for _, ev := range evs {
		if d := insights.DateOf(ev.Time, time.UTC); last.Before(d) {
			last = d
		}
	}
	for _, ev := range evs {
		if insights.DateOf(ev.Time, time.UTC) == last {
			later = append(later, ev)
		} else {
			earlier = append(earlier, ev)
		}
	}
	s := newSegmentGate()
	e := openRisk(t, s)
	if err := e.Add(ctx, earlier...); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s.armed = true
	e = openRisk(t, s)
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
	<-s.blocked // the rebuild is reading a day's log
	within(t, "Add during the rebuild", func() error { return e.Add(ctx, later...) })
	within(t, "a query of a day added during the rebuild", func() error {
		_, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: last, To: last.AddDays(1)})
		return err
	})
	release.Do(func() { close(s.open) })
	want := openRisk(t, store.NewMemory())
	defer want.Close()
	if err := want.Add(ctx, evs...); err != nil {
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
