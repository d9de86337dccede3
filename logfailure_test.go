package insights_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// flakyStore fails reads of day segments while failing is set.
type flakyStore struct {
	store.Store
	failing atomic.Bool
}

var errFlaky = errors.New("flaky: the disk is busy")

func (s *flakyStore) Get(ctx context.Context, key string) ([]byte, error) {
	if s.failing.Load() && strings.HasPrefix(key, "days/") {
		return nil, errFlaky
	}
	return s.Store.Get(ctx, key)
}

// A day whose log lives only in its segment: a failed read is an error,
// not an empty log; a late event meanwhile starts after the stored log;
// once reads work again every entry is there, and stays there on disk.
func TestLogReadFailureLosesNothing(t *testing.T) {
	ctx := context.Background()
	st := &flakyStore{Store: store.NewMemory()}
	opts := &insights.Options{Now: fixed(clock)}
	e, err := insights.Open(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	add(t, e,
		insights.Event{Time: utc(3, 3, 9, 0), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "a1", City: "Lyon"},
		insights.Event{Time: utc(3, 3, 10, 0), Kind: insights.KindSignIn, UserKey: "bob", RequestID: "b1", City: "Oslo"})
	if err := e.Flush(ctx); err != nil { // the day (long past the clock) keeps its log in its segment only
		t.Fatal(err)
	}
	st.failing.Store(true)
	if _, err := e.Log(ctx, insights.LogQuery{}); !errors.Is(err, errFlaky) {
		t.Fatalf("listing while the segment cannot be read: %v, want the store's error", err)
	}
	add(t, e, insights.Event{Time: utc(3, 3, 11, 0), Kind: insights.KindSignIn, UserKey: "cat", RequestID: "c1", City: "Pune"})
	if _, err := e.Log(ctx, insights.LogQuery{}); !errors.Is(err, errFlaky) {
		t.Fatalf("listing a late event's day while its stored log cannot be read: %v", err)
	}
	st.failing.Store(false)
	want := []string{"c1", "b1", "a1"}
	check := func(label string, e *insights.Engine) {
		t.Helper()
		p, err := e.Log(ctx, insights.LogQuery{})
		if err != nil || strings.Join(ids(p.Entries), ",") != strings.Join(want, ",") {
			t.Fatalf("%s: %v, %v; want %v", label, ids(p.Entries), err, want)
		}
	}
	check("reads work again", e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = insights.Open(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	check("reopened", e)
}

// Policy metrics skip an erased user's entries instead of failing on
// their emptied records; with Top and Other, the group of challenges
// without a policy ("") stays apart from the "(other)" row.
func TestPolicyMetricsAfterEraseAndWithOther(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, nil)
	mfa := func(user, rid string, policies ...string) insights.Event {
		return insights.Event{Time: utc(3, 3, 9, 0), Kind: insights.KindSignIn, UserKey: user, RequestID: rid,
			MFAMethod: "Text message", MFAPolicies: policies}
	}
	add(t, e, mfa("ann", "1", "p1"), mfa("ann", "2", "p1"), mfa("bob", "3", "p1"), mfa("bob", "4"), mfa("cat", "5"),
		mfa("cat", "6"), mfa("dan", "7"), mfa("dan", "8", "p2"), mfa("eve", "9"))
	q := insights.Query{Metric: insights.MFAPolicyPrompts, From: date(2025, 3, 3), To: date(2025, 3, 4), Top: 1, Other: true}
	res := query(t, e, q)
	checkRows(t, res, map[string]float64{
		"2025-03-03 attempts []": 5, "2025-03-03 successes []": 5,
		"2025-03-03 attempts [(other)]": 4, "2025-03-03 successes [(other)]": 4,
	})
	if _, err := e.Erase(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	q.Top, q.Other = 0, false
	res = query(t, e, q)
	checkRows(t, res, map[string]float64{
		"2025-03-03 attempts []": 5, "2025-03-03 successes []": 5,
		"2025-03-03 attempts [p1]": 1, "2025-03-03 successes [p1]": 1,
		"2025-03-03 attempts [p2]": 1, "2025-03-03 successes [p2]": 1,
	})
}
