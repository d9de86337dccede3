package prometheus_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/insightslab/insights"
	insightsprom "github.com/insightslab/insights/prometheus"
	"github.com/insightslab/insights/store"
)

// A host registers the collector in its registry (and serves it with
// promhttp); here the registry is gathered and the aggregates printed.
func ExampleNewCollector() {
	ctx := context.Background()
	now := time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	err = eng.Add(ctx,
		insights.Event{Time: now.Add(-3 * time.Hour), Kind: insights.KindSignIn, UserKey: "alice", AppID: "portal"},
		insights.Event{Time: now.Add(-2 * time.Hour), Kind: insights.KindSignIn, UserKey: "bob", AppID: "mail"},
		insights.Event{Time: now.Add(-30 * time.Minute), Kind: insights.KindSignIn, UserKey: "bob", AppID: "portal", ErrorCode: 50126},
		insights.Event{Time: now.Add(-90 * time.Minute), Kind: insights.KindSignIn, UserKey: "carol", AppID: "portal", ErrorCode: 50126},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	reg := prom.NewRegistry()
	reg.MustRegister(insightsprom.NewCollector(eng, nil))
	families, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range families {
		if !strings.Contains(f.GetName(), "today") && !strings.Contains(f.GetName(), "last_hour") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			fmt.Println(f.GetName(), labels, m.GetGauge().GetValue())
		}
	}
	// Output:
	// insights_active_users_today [] 2
	// insights_active_users_today_by_app [app=mail] 1
	// insights_active_users_today_by_app [app=portal] 1
	// insights_failed_signins_last_hour [app=portal] 1
	// insights_failed_signins_last_hour_truncated [] 0
}
