package pgstore_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

// A writer engine and a follower engine on one schema: the follower,
// refreshed while the writer adds and checkpoints (every 4 KiB of log,
// so that its garbage collection deletes rows under the follower),
// answers after each Refresh as an engine fed a prefix of the batches
// that holds every batch acknowledged before the Refresh began; at the
// end, as one fed them all.

// followLight is what the follower is asked between batches: active users
// per day by app, and the newest page of the sign-in log.
func followLight(ctx context.Context, e *insights.Engine) (metric, log string, err error) {
	res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, time.January, 1),
		To: insights.NewDate(2025, time.January, 1+engDays), Granularity: insights.Day, GroupBy: []insights.Dimension{insights.DimAppID}})
	if err != nil {
		return "", "", err
	}
	p, err := e.SignIns(ctx, insights.LogQuery{Limit: 40})
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	for _, en := range p.Entries {
		fmt.Fprintf(&b, "%s %d %s %s|", en.ID, en.Time.UnixNano(), en.UserKey, en.RequestID)
	}
	return fmt.Sprint(res.Rows), b.String(), nil
}

func TestFollowerOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)

	// The answers after each prefix of the batches.
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: engClock})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	metrics, logs := make([]string, engBatches+1), make([]string, engBatches+1)
	for b := 0; ; b++ {
		if metrics[b], logs[b], err = followLight(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if b == engBatches {
			break
		}
		if err := ref.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
	}

	w, err := insights.Open(ctx, pgstore.New(pool, schema), &insights.Options{Now: engClock, CheckpointBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := insights.Open(ctx, pgstore.New(pool, schema), &insights.Options{Now: engClock, Follow: true,
		RefreshInterval: -1, MemoryLimit: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var acked atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for b := range engBatches {
			if err := w.Add(ctx, engBatch(b)...); err != nil {
				t.Errorf("Add batch %d: %v", b, err)
				return
			}
			acked.Store(int64(b + 1))
		}
	}()
	// match returns the first prefix at least from long whose answer is got, -1 if none.
	match := func(answers []string, from int64, got string) int {
		for k := int(from); k < len(answers); k++ {
			if answers[k] == got {
				return k
			}
		}
		return -1
	}
	rounds := 0
	for writing := true; writing; rounds++ {
		select {
		case <-done:
			writing = false
		default:
		}
		before := acked.Load()
		if err := f.Refresh(ctx); err != nil {
			t.Fatalf("round %d: Refresh: %v", rounds, err)
		}
		m, l, err := followLight(ctx, f)
		if err != nil {
			t.Fatalf("round %d: %v", rounds, err)
		}
		if match(metrics, before, m) < 0 {
			t.Fatalf("round %d: active users by day and app answer no prefix of %d batches or more:\n%.300s", rounds, before, m)
		}
		if match(logs, before, l) < 0 {
			t.Fatalf("round %d: the sign-in log page is that of no prefix of %d batches or more:\n%.300s", rounds, before, l)
		}
	}
	wg.Wait()
	if s := w.Stats(); s.Checkpoints < 3 {
		t.Errorf("the writer wrote %d checkpoints: the follower followed few", s.Checkpoints)
	}
	t.Logf("%d rounds; the writer wrote %d checkpoints", rounds, w.Stats().Checkpoints)

	if err := f.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want := engAnswers(t, ref)
	for i, got := range engAnswers(t, f) {
		if !reflect.DeepEqual(want[i], got) {
			t.Errorf("answer %d differs from the memory store's:\nwant %v\n got %v", i, want[i], got)
		}
	}
}

// collectingStore is a Store whose next Get of a key with a given prefix
// first runs a function: the writer's checkpoint, between the follower's
// listing and its read.
type collectingStore struct {
	*pgstore.Store
	mu     sync.Mutex
	prefix string
	run    func()
}

func (c *collectingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	run := c.run
	if run != nil && strings.HasPrefix(key, c.prefix) {
		c.run = nil
	} else {
		run = nil
	}
	c.mu.Unlock()
	if run != nil {
		run()
	}
	return c.Store.Get(ctx, key)
}

// The writer's checkpoint deletes the log record, then the catalog, that
// the follower is about to read.
func TestFollowerOnPostgresCollected(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	w, err := insights.Open(ctx, pgstore.New(pool, schema), &insights.Options{Now: engClock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cs := &collectingStore{Store: pgstore.New(pool, schema)}
	f, err := insights.Open(ctx, cs, &insights.Options{Now: engClock, Follow: true, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: engClock})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b := 0
	addBatch := func() {
		if err := w.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
		if err := ref.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
		b++
	}
	flush := func() {
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		prefix string
		before func()
	}{
		{"wal/", addBatch},                           // a log record listed, then collected
		{"catalog/", func() { addBatch(); flush() }}, // the manifest read, then replaced
	} {
		c.before()
		ran := false
		cs.mu.Lock()
		cs.prefix, cs.run = c.prefix, func() { addBatch(); flush(); ran = true }
		cs.mu.Unlock()
		if err := f.Refresh(ctx); err != nil {
			t.Fatalf("%s collected: Refresh: %v", c.prefix, err)
		}
		if !ran {
			t.Fatalf("the follower read no %s key", c.prefix)
		}
		gm, gl, err := followLight(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		wm, wl, err := followLight(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if gm != wm || gl != wl {
			t.Errorf("%s collected: the follower answers\n%.300s\n%.300s\nwant\n%.300s\n%.300s", c.prefix, gm, gl, wm, wl)
		}
	}
}
