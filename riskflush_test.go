package insights

import (
	"testing"

	"github.com/insightslab/insights/internal/risk"
)

// TestRiskFlushHandsOverTheBatch: a batch flushed to an empty queue
// becomes the queue without a copy, and pending takes the queue's array;
// flushed to a queue that holds items, it is appended. Either way
// pending is left empty and holds no string.
func TestRiskFlushHandsOverTheBatch(t *testing.T) {
	f := &riskFeed{kick: make(chan struct{}, 1)}
	f.live.Store(true)
	own := make([]riskItem, 0, 8)
	f.queue = own
	f.pending = append(make([]riskItem, 0, 8), riskItem{obs: risk.Observation{User: "a"}}, riskItem{obs: risk.Observation{User: "b"}})
	batch := &f.pending[0]
	f.flush()
	if len(f.queue) != 2 || &f.queue[0] != batch {
		t.Fatalf("queue after a flush to an empty queue: %d items, copied %v", len(f.queue), &f.queue[0] != batch)
	}
	if len(f.pending) != 0 || cap(f.pending) != cap(own) {
		t.Fatalf("pending: %d items, room %d, want the queue's empty array", len(f.pending), cap(f.pending))
	}
	f.pending = append(f.pending, riskItem{obs: risk.Observation{User: "c"}})
	f.flush()
	if len(f.queue) != 3 || f.queue[2].obs.User != "c" || &f.queue[0] != batch {
		t.Fatalf("queue after a flush to a queue with items: %d items", len(f.queue))
	}
	if len(f.pending) != 0 || f.pending[:1][0].obs.User != "" {
		t.Fatalf("pending after the second flush: %d items, first %q", len(f.pending), f.pending[:1][0].obs.User)
	}
}
