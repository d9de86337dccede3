package insights

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// durabilityEvents makes n sign-ins, sign-ups and deletions over 40 days.
func durabilityEvents(seed uint64, n int) []Event {
	r := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]Event, 0, n)
	for i := range n {
		ev := Event{
			Time:    start.Add(time.Duration(r.IntN(40*24)) * time.Hour),
			Kind:    KindSignIn,
			UserKey: fmt.Sprintf("u%d", r.IntN(300)),
			AppID:   fmt.Sprintf("app%d", r.IntN(4)), OS: []string{"iOS", "Windows 10", ""}[r.IntN(3)],
		}
		switch r.IntN(20) {
		case 0:
			ev.Kind = KindUserDeleted
			ev.AppID, ev.OS = "", ""
		case 1, 2:
			ev.Kind = KindSignUp
		case 3:
			ev.ErrorCode = 50126
		}
		if r.IntN(3) == 0 {
			ev.RequestID = fmt.Sprintf("r%d", i%(n/2+1))
		}
		evs = append(evs, ev)
	}
	return evs
}

// answers runs a fixed set of queries covering every metric.
func answers(t *testing.T, e *Engine) []*Result {
	t.Helper()
	var out []*Result
	for _, m := range Metrics() {
		for _, g := range []Granularity{Day, Week, Month} {
			q := Query{Metric: m, From: NewDate(2025, 1, 3), To: NewDate(2025, 2, 12), Granularity: g, Days: 7,
				Filter: Not(Eq(DimOS, "iOS")), GroupBy: []Dimension{DimAppID}}
			res, err := e.Query(context.Background(), q)
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			out = append(out, res)
		}
	}
	return out
}

func TestReopenGivesTheSameAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) }
	events := durabilityEvents(1, 4000)

	ref, err := Open(ctx, store.NewMemory(), &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Add(ctx, events...); err != nil {
		t.Fatal(err)
	}
	want := answers(t, ref)

	for _, tc := range []struct {
		name            string
		checkpointBytes int
		close           bool
	}{
		{"log only, engine dropped without Close", 1 << 30, false},
		{"checkpoint every few batches, dropped without Close", 4 << 10, false},
		{"checkpoint every few batches, closed", 4 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store.NewMemory()
			opts := &Options{Now: now, CheckpointBytes: tc.checkpointBytes}
			e, err := Open(ctx, s, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(events); i += 97 {
				if err := e.Add(ctx, events[i:min(i+97, len(events))]...); err != nil {
					t.Fatal(err)
				}
				if i%(97*9) == 0 { // reopen every few batches, queries in between seal days
					answers(t, e)
					if tc.close {
						if err := e.Close(); err != nil {
							t.Fatal(err)
						}
					}
					if e, err = Open(ctx, s, opts); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := answers(t, e)
			for i := range want {
				if !reflect.DeepEqual(want[i].Rows, got[i].Rows) {
					t.Fatalf("%s %s: after reopening, rows differ:\nwant %v\n got %v", want[i].Query.Metric, want[i].Query.Granularity, want[i].Rows, got[i].Rows)
				}
			}
			if rec := e.Recovery(); tc.checkpointBytes < 1<<30 && rec.Checkpoint == 0 {
				t.Errorf("Recovery = %+v: no checkpoint was written", rec)
			}
		})
	}
}

// countingStore counts the Puts of log records.
type countingStore struct {
	*store.Memory
	mu   sync.Mutex
	logs int
}

func (c *countingStore) Put(ctx context.Context, key string, v []byte) error {
	if strings.HasPrefix(key, "wal/") {
		c.mu.Lock()
		c.logs++
		c.mu.Unlock()
	}
	return c.Memory.Put(ctx, key, v)
}

func TestConcurrentAddsAllSurviveReopen(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
	s := &countingStore{Memory: store.NewMemory()}
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	const writers, batches = 64, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				ev := Event{Time: time.Date(2025, 1, 1+b, 9, 0, 0, 0, time.UTC), Kind: KindSignIn, UserKey: fmt.Sprintf("w%d", w)}
				if err := e.Add(ctx, ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d batches in %d log writes", writers*batches, s.logs)
	reopened, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	res, err := reopened.Query(ctx, Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 1, 21)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Value != writers {
			t.Fatalf("%s: %v active users after reopening, want %d", r.Start, r.Value, writers)
		}
	}
}
