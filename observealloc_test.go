package insights

import (
	"context"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// Without a logger, what Query, Add and evictions do for observability
// allocates nothing, even for a slow query.
func TestNoLoggerAllocatesNothing(t *testing.T) {
	e, err := Open(context.Background(), store.NewMemory(), &Options{SlowQuery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	q := Query{Metric: ActiveUsers, From: NewDate(2025, 3, 1), To: NewDate(2025, 4, 1), Filter: Eq(DimAppID, "portal")}
	start := time.Now().Add(-time.Second)
	allocs := testing.AllocsPerRun(100, func() {
		e.observeQuery(q, start)
		e.obs.evicting(100)
		e.logEvictions()
		e.mu.Lock()
		_ = e.newlyCapped()
		e.mu.Unlock()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per slow query without a logger, want 0", allocs)
	}
	if s := e.Stats(); s.SlowQueries != s.Queries || s.Queries < 100 {
		t.Errorf("%+v: want every query counted as slow", s)
	}
}
