package insights_test

// Durability tests, part 4: reopening a long history is cheap. Open reads
// the manifest and the catalog and replays the log; day segments load when
// a query or a late event first needs them. TestReopenReadsLittle asserts
// it on bytes read (not on time); BenchmarkReopen measures Open plus one
// small query:
//
//	go test -run '^$' -bench BenchmarkReopen -benchtime 20x .

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

const (
	durReopenDays  = 60
	durReopenUsers = 3000
)

// durReopenStore builds, in a new directory, a store of durReopenDays days
// ending on the day before durNow, each with about 60% of durReopenUsers
// users signing in once or twice with varied dimensions, checkpointed and
// closed. It returns the directory.
func durReopenStore(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	dir := filepath.Join(tb.TempDir(), "s")
	ds, err := store.Dir(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer ds.Close()
	e, err := insights.Open(ctx, ds, &insights.Options{Now: durClock})
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(60, 3000))
	first := durNow.Truncate(24*time.Hour).AddDate(0, 0, -durReopenDays)
	apps := []string{"portal", "mail", "crm", "wiki", "hr"}
	oses := []string{"Windows 10", "iOS", "Android", "Mac OS X", "Linux"}
	countries := []string{"US", "DE", "FR", "IN", "BR", "JP"}
	var batch []insights.Event
	for d := range durReopenDays {
		day := first.AddDate(0, 0, d)
		for u := range durReopenUsers {
			if r.IntN(10) >= 6 {
				continue
			}
			for range 1 + r.IntN(2) {
				ev := insights.Event{Time: day.Add(time.Duration(r.IntN(86400)) * time.Second), Kind: insights.KindSignIn,
					UserKey: fmt.Sprintf("user-%05d@example.com", u), AppID: apps[r.IntN(len(apps))], OS: oses[(u+r.IntN(2))%len(oses)],
					Country: countries[u%len(countries)], Browser: "Chrome 120.0", RequestID: fmt.Sprintf("req-%d-%d-%d", d, u, r.Uint32())}
				if r.IntN(10) == 0 {
					ev.ErrorCode = 50126
				}
				batch = append(batch, ev)
			}
			if len(batch) >= 2000 {
				if err := e.Add(ctx, batch...); err != nil {
					tb.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := e.Add(ctx, batch...); err != nil {
		tb.Fatal(err)
	}
	if err := e.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// durCountingStore counts what is read through it.
type durCountingStore struct {
	store.Store
	mu       sync.Mutex
	bytes    int // bytes returned by Get
	segments int // day segments read
	segBytes int
}

func (c *durCountingStore) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.Store.Get(ctx, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes += len(b)
	if strings.HasPrefix(key, "days/") {
		c.segments++
		c.segBytes += len(b)
	}
	return b, err
}

func (c *durCountingStore) read() (bytes, segments int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.segments
}

// durStored returns the bytes of every key of s, and of its day segments.
func durStored(tb testing.TB, s store.Store) (total, segments, days int) {
	tb.Helper()
	ctx := context.Background()
	keys, err := s.List(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		b, err := s.Get(ctx, k)
		if err != nil {
			tb.Fatal(err)
		}
		total += len(b)
		if strings.HasPrefix(k, "days/") {
			segments += len(b)
			days++
		}
	}
	return total, segments, days
}

// durSmallQuery asks for the active users of the last day.
func durSmallQuery(ctx context.Context, e *insights.Engine) (*insights.Result, error) {
	last := insights.DateOf(durNow, time.UTC).AddDays(-1)
	return e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: last, To: last.AddDays(1)})
}

func TestReopenReadsLittle(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a store of 60 days × 3,000 users")
	}
	ctx := context.Background()
	dir := durReopenStore(t)
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	total, segTotal, days := durStored(t, ds)

	cs := &durCountingStore{Store: ds}
	e, err := insights.Open(ctx, cs, &insights.Options{Now: durClock})
	if err != nil {
		t.Fatal(err)
	}
	openBytes, openSegments := cs.read()
	t.Logf("store: %d bytes, %d of them in %d day segments; Open read %d bytes (%.1f%%) and %d segments; recovery %+v",
		total, segTotal, days, openBytes, 100*float64(openBytes)/float64(total), openSegments, e.Recovery())
	if days < durReopenDays {
		t.Fatalf("the store has %d day segments, want %d", days, durReopenDays)
	}
	if openSegments != 0 {
		t.Errorf("Open loaded %d day segments, want none: segments load when a query needs their day", openSegments)
	}
	if openBytes*5 >= total {
		t.Errorf("Open read %d of the %d bytes stored (%.1f%%), want less than 20%%", openBytes, total, 100*float64(openBytes)/float64(total))
	}

	res, err := durSmallQuery(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].Value < durReopenUsers/2 {
		t.Fatalf("active users of the last day: %v", res.Rows)
	}
	queryBytes, querySegments := cs.read()
	t.Logf("a one-day query then read %d bytes and %d segments", queryBytes-openBytes, querySegments-openSegments)
	if querySegments-openSegments > 1 {
		t.Errorf("a one-day query loaded %d segments, want 1", querySegments-openSegments)
	}
}

func BenchmarkReopen(b *testing.B) {
	ctx := context.Background()
	dir := durReopenStore(b)
	var total, segTotal, days int
	func() {
		ds, err := store.Dir(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ds.Close()
		total, segTotal, days = durStored(b, ds)
	}()
	b.ReportAllocs()
	var openBytes, openSegments, n int
	for b.Loop() {
		ds, err := store.Dir(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		cs := &durCountingStore{Store: ds}
		e, err := insights.Open(ctx, cs, &insights.Options{Now: durClock})
		if err != nil {
			b.Fatal(err)
		}
		ob, os := cs.read()
		openBytes, openSegments = openBytes+ob, openSegments+os
		if _, err := durSmallQuery(ctx, e); err != nil {
			b.Fatal(err)
		}
		if err := ds.Close(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(openSegments)/float64(n), "segments-opened/op")
	b.ReportMetric(float64(openBytes)/float64(n), "bytes-read-by-Open/op")
	b.ReportMetric(100*float64(openBytes)/float64(n)/float64(total), "%-of-store-read-by-Open")
	b.Logf("store: %d bytes, %d in %d day segments", total, segTotal, days)
}
