package insights_test

import (
	"context"
	"fmt"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// Two replicas of one tenant, as two processes behind a load balancer
// would run them on one PostgreSQL schema (pgstore); here in one process
// on one store.Memory. Either takes Adds; a batch retried at the other
// replica counts once; each answers with the other's events once it
// refreshes (by itself every RefreshInterval; here by hand).
func Example_replicas() {
	ctx := context.Background()
	s := store.NewMemory() // implements store.Replicas
	now := func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) }
	opts := &insights.Options{Now: now, Replica: true, RefreshInterval: -1}
	a, err := insights.Open(ctx, s, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := insights.Open(ctx, s, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	ann := insights.Event{Time: now().Add(-time.Hour), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "req-1"}
	bob := insights.Event{Time: now().Add(-time.Hour), Kind: insights.KindSignIn, UserKey: "bob", RequestID: "req-2"}
	if err := a.Add(ctx, ann); err != nil {
		fmt.Println(err)
		return
	}
	// Ann's sign-in retried at b, with bob's: b applies a's record first.
	added, err := b.AddCount(ctx, ann, bob)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("b added", added, "of 2")
	if err := a.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	march := insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 3, 1),
		To: insights.NewDate(2025, 4, 1), Granularity: insights.Total}
	for _, r := range []struct {
		name string
		e    *insights.Engine
	}{{"a", a}, {"b", b}} {
		res, err := r.e.Query(ctx, march)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.name, "answers", res.Rows[0].Value, "active users")
	}
	// Output:
	// b added 1 of 2
	// a answers 2 active users
	// b answers 2 active users
}
