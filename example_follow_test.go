package insights_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// A dashboard host follows the directory that an ingesting process
// writes: here both in one process. The follower sees the writer's events
// once it refreshes (by itself every RefreshInterval; here by hand).
func ExampleEngine_Refresh() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "insights-follow")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	now := func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) }

	// The ingesting process: the only writer, holding the directory's lock.
	ws, err := store.Dir(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	writer, err := insights.Open(ctx, ws, &insights.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer writer.Close()

	// The dashboard process: a follower, which takes no lock and writes nothing.
	fs, err := store.Dir(dir, &store.DirOptions{Follow: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fs.Close()
	follower, err := insights.Open(ctx, fs, &insights.Options{Now: now, Follow: true, RefreshInterval: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer follower.Close()

	march := insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 3, 1),
		To: insights.NewDate(2025, 4, 1), Granularity: insights.Total}
	active := func() float64 {
		res, err := follower.Query(ctx, march)
		if err != nil {
			fmt.Println(err)
			return -1
		}
		return res.Rows[0].Value
	}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, u := range []string{"alice", "bob"} {
		if err := writer.Add(ctx, insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: u}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("before Refresh:", active())
	if err := follower.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after Refresh:", active())

	// A checkpoint of the writer, and more events: the follower moves to it.
	if err := writer.Flush(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := writer.Add(ctx, insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: "carol"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := follower.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after a checkpoint:", active())
	// Output:
	// before Refresh: 0
	// after Refresh: 2
	// after a checkpoint: 3
}
