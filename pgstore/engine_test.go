package pgstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

// The engine on this store: one seeded stream through an engine on
// Memory and through engines on PostgreSQL closed and reopened every
// few batches (on a new pool), with checkpoints small enough that
// segments, catalogs and manifests go through the tables, answers every
// metric alike.

const (
	engBatches = 120
	engDays    = 40
)

var engStart = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

func engClock() time.Time { return engStart.AddDate(0, 0, engDays+1) }

// engBatch is batch b of the stream: sign-ins mostly, some failing, some
// sign-ups, user creations and deletions, over days that advance with b
// and late events for earlier days; a retried batch repeats its request
// ids.
func engBatch(b int) []insights.Event {
	r := rand.New(rand.NewPCG(uint64(b), 15))
	focus := b * (engDays - 1) / engBatches
	evs := make([]insights.Event, 1+r.IntN(10))
	for i := range evs {
		day := focus
		if r.IntN(4) == 0 {
			day = r.IntN(focus + 1)
		}
		e := insights.Event{
			Time:      engStart.AddDate(0, 0, day).Add(time.Duration(r.IntN(86400)) * time.Second),
			Kind:      insights.KindSignIn,
			UserKey:   fmt.Sprintf("user-%03d", r.IntN(150)),
			AppID:     []string{"portal", "mail", "crm"}[r.IntN(3)],
			OS:        []string{"Windows 10", "iOS", "Android", ""}[r.IntN(4)],
			Country:   []string{"US", "DE", "FR"}[r.IntN(3)],
			RequestID: fmt.Sprintf("r-%d-%d", b, i),
		}
		switch x := r.IntN(40); {
		case x < 4:
			e.ErrorCode = 50126
		case x < 6:
			e.Kind = insights.KindSignUp
		case x < 7:
			e.Kind, e.OS = insights.KindUserCreated, ""
		case x < 8:
			e.Kind, e.OS = insights.KindUserDeleted, ""
		}
		evs[i] = e
	}
	return evs
}

// engAnswers are every metric by day and by month, unfiltered and with
// a filter and a group-by.
func engAnswers(t *testing.T, e *insights.Engine) [][]insights.Row {
	t.Helper()
	var out [][]insights.Row
	for _, m := range insights.Metrics() {
		for _, g := range []insights.Granularity{insights.Day, insights.Month} {
			q := insights.Query{Metric: m, From: insights.NewDate(2025, time.January, 1),
				To: insights.NewDate(2025, time.January, 1+engDays), Granularity: g, Days: 7}
			for range 2 {
				res, err := e.Query(context.Background(), q)
				if err != nil {
					t.Fatalf("%s %s filter %v: %v", q.Metric, q.Granularity, q.Filter, err)
				}
				out = append(out, res.Rows)
				q.Filter = insights.Not(insights.Eq(insights.DimOS, "iOS"))
				q.GroupBy = []insights.Dimension{insights.DimAppID}
			}
		}
	}
	return out
}

func TestEngineOnPostgresAgreesWithMemory(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)

	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: engClock})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for b := range engBatches {
		if err := ref.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
	}
	want := engAnswers(t, ref)
	nonzero := 0
	for _, rows := range want {
		for _, r := range rows {
			if r.Value != 0 {
				nonzero++
			}
		}
	}
	if nonzero < len(want) {
		t.Fatalf("%d non-zero values in %d answers: the stream is too thin to compare", nonzero, len(want))
	}

	opts := &insights.Options{Now: engClock, CheckpointBytes: 4 << 10}
	open := func() *insights.Engine {
		t.Helper()
		e, err := insights.Open(ctx, pgstore.New(testPool(t), schema), opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return e
	}
	e := open()
	for b := range engBatches {
		if err := e.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
		if b%9 == 8 {
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = open()
		}
	}
	if err := e.Add(ctx, engBatch(engBatches/2)...); err != nil { // a retried batch changes nothing
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s := pgstore.New(pool, schema)
	for _, prefix := range []string{"days/", "catalog/", "MANIFEST"} {
		if keys, err := s.List(ctx, prefix); err != nil || len(keys) == 0 {
			t.Fatalf("List(%s) after the checkpoints = %q, %v; want keys", prefix, keys, err)
		}
	}
	e = open()
	defer e.Close()
	for i, got := range engAnswers(t, e) {
		if !reflect.DeepEqual(want[i], got) {
			t.Errorf("answer %d differs from the memory store's:\nwant %v\n got %v", i, want[i], got)
		}
	}
}
