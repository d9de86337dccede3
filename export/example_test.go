package export_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
	"github.com/insightslab/insights/store"
)

// openExample opens an engine with three days of sign-ins, one of them to
// an app whose name an attacker chose.
func openExample() (*insights.Engine, error) {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		return nil, err
	}
	signIn := func(day int, user, appID, appName string) insights.Event {
		return insights.Event{Time: time.Date(2025, 3, day, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn,
			UserKey: user, AppID: appID, AppName: appName}
	}
	err = eng.Add(ctx,
		signIn(3, "alice", "portal", "Portal"),
		signIn(3, "bob", "portal", "Portal"),
		signIn(4, "alice", "evil", `=HYPERLINK("http://x","y")`),
	)
	if err != nil {
		eng.Close()
		return nil, err
	}
	return eng, nil
}

// Daily active users by app name as CSV: the formula in an app name comes
// out as text.
func ExampleResultCSV() {
	eng, err := openExample()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), insights.Query{
		Metric:  insights.ActiveUsers,
		From:    insights.NewDate(2025, 3, 3),
		To:      insights.NewDate(2025, 3, 5),
		GroupBy: []insights.Dimension{insights.DimAppName},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := export.ResultCSV(os.Stdout, res, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// start,end,series,offset,appName,value,partial,incomplete
	// 2025-03-03,2025-03-04,,0,Portal,2,false,false
	// 2025-03-04,2025-03-05,,0,"'=HYPERLINK(""http://x"",""y"")",1,false,false
}

// The users behind each row, streamed from Engine.Users.
func ExampleUsersCSV() {
	eng, err := openExample()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	q := insights.Query{
		Metric:  insights.ActiveUsers,
		From:    insights.NewDate(2025, 3, 3),
		To:      insights.NewDate(2025, 3, 5),
		GroupBy: []insights.Dimension{insights.DimAppID},
	}
	users, err := eng.Users(context.Background(), q)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := export.UsersCSV(os.Stdout, users, q.GroupBy, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// start,end,series,offset,appId,userKey
	// 2025-03-03,2025-03-04,,0,portal,alice
	// 2025-03-03,2025-03-04,,0,portal,bob
	// 2025-03-04,2025-03-05,,0,evil,alice
}

// Daily active users by app in the shape of Graph's
// reports/userInsights/daily/activeUsers.
func ExampleGraph() {
	eng, err := openExample()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), insights.Query{
		Metric:  insights.ActiveUsers,
		From:    insights.NewDate(2025, 3, 3),
		To:      insights.NewDate(2025, 3, 5),
		GroupBy: []insights.Dimension{insights.DimAppID},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := export.Graph(os.Stdout, "daily/activeUsers", res); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"value":[
	// {"factDate":"2025-03-03","appId":"portal","count":2},
	// {"factDate":"2025-03-04","appId":"evil","count":1}
	// ]}
}

// eventList is an EventSource over a slice.
type eventList struct {
	events []insights.Event
	i      int
}

func (l *eventList) Next() bool            { l.i++; return l.i <= len(l.events) }
func (l *eventList) Event() insights.Event { return l.events[l.i-1] }
func (l *eventList) Err() error            { return nil }

// Events in the library's JSON-lines format, which the importers read.
func ExampleEventsJSON() {
	paris, _ := time.LoadLocation("Europe/Paris")
	src := &eventList{events: []insights.Event{
		{Time: time.Date(2025, 3, 3, 9, 0, 0, 0, paris), Kind: insights.KindSignIn, UserKey: "alice",
			AppID: "portal", Country: "FR", RequestID: "r-1"},
		{Time: time.Date(2025, 3, 3, 9, 5, 0, 0, paris), Kind: insights.KindSignIn, UserKey: "bob",
			ErrorCode: 50126, IP: "198.51.100.7"},
	}}
	if err := export.EventsJSON(os.Stdout, src); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"time":"2025-03-03T09:00:00+01:00","kind":"signIn","userKey":"alice","appId":"portal","country":"FR","requestId":"r-1"}
	// {"time":"2025-03-03T09:05:00+01:00","kind":"signIn","userKey":"bob","errorCode":50126,"ip":"198.51.100.7"}
}

func ExampleDetectionsCSV() {
	detections := []insights.Detection{{
		ID: "d-1", Type: insights.DetectBruteForce, Level: insights.RiskMedium,
		Time:        time.Date(2025, 3, 4, 12, 10, 0, 0, time.UTC),
		WindowStart: time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC),
		WindowEnd:   time.Date(2025, 3, 4, 12, 10, 0, 0, time.UTC),
		UserKey:     "=alice", Rule: "≥ 10 failed sign-ins of one user within 10m",
		Evidence: []string{"2025-03-04/1", "2025-03-04/2"},
	}}
	// With an engine: export.DetectionPages(ctx, eng.Detections, query).
	if err := export.DetectionsCSV(os.Stdout, export.DetectionList(detections), nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,type,level,time,windowStart,windowEnd,userKey,source,rule,evidence
	// d-1,bruteForce,medium,2025-03-04T12:10:00Z,2025-03-04T12:00:00Z,2025-03-04T12:10:00Z,'=alice,,≥ 10 failed sign-ins of one user within 10m,2025-03-04/1 2025-03-04/2
}
