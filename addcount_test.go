package insights_test

import (
	"context"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// TestAddCount: AddCount says how many events of a batch were new, the
// others being copies, by request id, of events already added that day.
func TestAddCount(t *testing.T) {
	ctx := context.Background()
	e, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := clock.Add(-time.Hour)
	ev := func(id string, day int) insights.Event {
		return insights.Event{Time: at.AddDate(0, 0, -day), Kind: insights.KindSignIn, UserKey: "u", RequestID: id}
	}
	for _, c := range []struct {
		name  string
		batch []insights.Event
		want  int
	}{
		{"two new, one copy in the batch", []insights.Event{ev("a", 0), ev("b", 0), ev("a", 0)}, 2},
		{"the same again: nothing new", []insights.Event{ev("a", 0), ev("b", 0)}, 0},
		{"one new, one already present", []insights.Event{ev("a", 0), ev("c", 0)}, 1},
		{"an id seen on another day is new", []insights.Event{ev("a", 1)}, 1},
		{"no id: always new", []insights.Event{ev("", 0), ev("", 0)}, 2},
		{"empty batch", nil, 0},
	} {
		if got, err := e.AddCount(ctx, c.batch...); err != nil || got != c.want {
			t.Errorf("%s: AddCount = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if got, err := e.AddCount(ctx, insights.Event{Kind: insights.KindSignIn, UserKey: "u"}); err == nil || got != 0 {
		t.Errorf("invalid event: AddCount = %d, %v; want 0 and an error", got, err)
	}
}
