package metrics_test

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/metrics"
)

// The new users of a bucket are its active users whose first activity
// day lies in the bucket. Days are numbered; users are dense ids indexing
// the first-activity array.
func ExampleFirstIn() {
	// User 0 was first active on day 10, user 1 on day 12, user 2 on
	// day 13, user 3 never (NoDay).
	first := []int32{10, 12, 13, metrics.NoDay}
	active := roaring.BitmapOf(0, 1, 2) // active in days [12, 14)
	fmt.Println(metrics.FirstIn(active, first, 12, 14).ToArray())
	// Output: [1 2]
}

// Lifecycle splits a bucket's active users against the previous bucket.
func ExampleLifecycle() {
	prev := roaring.BitmapOf(2, 3)   // active yesterday
	cur := roaring.BitmapOf(1, 3, 4) // active today
	newUsers := roaring.BitmapOf(4)  // first active today
	lc := metrics.Lifecycle(cur, prev, newUsers)
	fmt.Println("new", lc.New.ToArray())
	fmt.Println("returning", lc.Returning.ToArray())
	fmt.Println("resurrecting", lc.Resurrecting.ToArray())
	fmt.Println("dormant", lc.Dormant.ToArray())
	// Output:
	// new [4]
	// returning [3]
	// resurrecting [1]
	// dormant [2]
}
