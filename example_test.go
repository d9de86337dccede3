package insights_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// Daily active users in Paris: a sign-in at 00:30 on 5 March in Paris
// (23:30 UTC on 4 March) counts on 5 March, two sign-ins the same day
// count once, and a failed sign-in does not make a user active.
func ExampleEngine_Query() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Zone: "Europe/Paris",
		Now:  func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(day, hour, min int) time.Time { return time.Date(2025, 3, day, hour, min, 0, 0, paris) }
	err = eng.Add(ctx,
		insights.Event{Time: at(3, 9, 0), Kind: insights.KindSignIn, UserKey: "alice", AppID: "portal"},
		insights.Event{Time: at(3, 18, 0), Kind: insights.KindSignIn, UserKey: "alice", AppID: "portal"},
		insights.Event{Time: at(4, 8, 0), Kind: insights.KindSignIn, UserKey: "bob", AppID: "portal"},
		insights.Event{Time: at(4, 12, 0), Kind: insights.KindSignIn, UserKey: "alice", AppID: "mail"},
		insights.Event{Time: at(5, 0, 30), Kind: insights.KindSignIn, UserKey: "carol", AppID: "mail"},
		insights.Event{Time: at(5, 10, 0), Kind: insights.KindSignIn, UserKey: "dave", AppID: "mail", ErrorCode: 50126},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := eng.Query(ctx, insights.Query{
		Metric: insights.ActiveUsers,
		From:   insights.NewDate(2025, 3, 3),
		To:     insights.NewDate(2025, 3, 6),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r.Start, r.Value)
	}
	// Output:
	// 2025-03-03 1
	// 2025-03-04 2
	// 2025-03-05 1
}

// Weekly active users by app, among French users not on Windows. The filter
// is event-level: alice's Windows sign-in to the portal does not count, her
// iOS sign-in to mail does.
func ExampleEngine_Query_groupBy() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	signIn := func(day int, user, app, os, country string, code int) insights.Event {
		return insights.Event{Time: time.Date(2025, 3, day, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn,
			UserKey: user, AppID: app, OS: os, Country: country, ErrorCode: code}
	}
	err = eng.Add(ctx,
		signIn(3, "alice", "portal", "Windows 10", "FR", 0),
		signIn(4, "alice", "mail", "iOS", "FR", 0),
		signIn(4, "bob", "portal", "iOS", "DE", 0),
		signIn(5, "carol", "mail", "Android", "fr", 0),
		signIn(6, "carol", "portal", "Android", "FR", 0),
		signIn(6, "dave", "portal", "iOS", "FR", 50126), // failed: not active
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := eng.Query(ctx, insights.Query{
		Metric:      insights.ActiveUsers,
		From:        insights.NewDate(2025, 3, 3),
		To:          insights.NewDate(2025, 3, 10),
		Granularity: insights.Week,
		Filter: insights.And(
			insights.Eq(insights.DimCountry, "FR"),
			insights.Not(insights.Eq(insights.DimOSFamily, insights.FamilyWindows)),
		),
		GroupBy: []insights.Dimension{insights.DimAppID},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sort.Slice(res.Rows, func(i, j int) bool { return res.Rows[i].Groups[0] < res.Rows[j].Groups[0] })
	for _, r := range res.Rows {
		fmt.Println(r.Start, r.Groups[0], r.Value)
	}
	// Output:
	// 2025-03-03 mail 2
	// 2025-03-03 portal 1
}

// The users behind a metric: who was new each day, and who was inactive
// for two days as of 7 March.
func ExampleEngine_Users() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	signIn := func(day int, user string) insights.Event {
		return insights.Event{Time: time.Date(2025, 3, day, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: user}
	}
	err = eng.Add(ctx,
		signIn(3, "alice"),
		signIn(4, "bob"),
		signIn(4, "alice"),
		insights.Event{Time: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignUp, UserKey: "carol"},
		signIn(7, "carol"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	list := func(q insights.Query) {
		users, err := eng.Users(ctx, q)
		if err != nil {
			fmt.Println(err)
			return
		}
		byDay := map[insights.Date][]string{}
		var days []insights.Date
		for users.Next() {
			u := users.User()
			if byDay[u.Start] == nil {
				days = append(days, u.Start)
			}
			byDay[u.Start] = append(byDay[u.Start], u.UserKey)
		}
		if err := users.Err(); err != nil {
			fmt.Println(err)
			return
		}
		for _, d := range days {
			sort.Strings(byDay[d])
			fmt.Printf("%s %s: %s\n", q.Metric, d, strings.Join(byDay[d], ", "))
		}
	}
	list(insights.Query{Metric: insights.NewUsers, From: insights.NewDate(2025, 3, 3), To: insights.NewDate(2025, 3, 8)})
	list(insights.Query{Metric: insights.InactiveUsers, From: insights.NewDate(2025, 3, 7), To: insights.NewDate(2025, 3, 8), Days: 2})
	// Output:
	// newUsers 2025-03-03: alice
	// newUsers 2025-03-04: bob
	// newUsers 2025-03-05: carol
	// inactiveUsers 2025-03-07: alice, bob
}

// The sign-in log, newest first, through a filter on a log field (a CIDR
// prefix) and an indexed dimension, one page at a time.
func ExampleEngine_SignIns() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	at := func(day, hour int) time.Time { return time.Date(2025, 3, day, hour, 0, 0, 0, time.UTC) }
	err = eng.Add(ctx,
		insights.Event{Time: at(3, 9), Kind: insights.KindSignIn, UserKey: "alice", AppID: "portal", IP: "198.51.100.7"},
		insights.Event{Time: at(3, 10), Kind: insights.KindSignIn, UserKey: "bob", AppID: "portal", IP: "203.0.113.5", ErrorCode: 50126},
		insights.Event{Time: at(4, 8), Kind: insights.KindSignIn, UserKey: "alice", AppID: "mail", IP: "198.51.100.9", ErrorCode: 50074},
		insights.Event{Time: at(5, 7), Kind: insights.KindSignIn, UserKey: "alice", AppID: "portal", IP: "198.51.100.7"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := insights.LogQuery{Filter: insights.And(insights.CIDR("198.51.100.0/24"), insights.Not(insights.Eq(insights.DimStatus, "failure"))), Limit: 2}
	for {
		page, err := eng.SignIns(ctx, q)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range page.Entries {
			fmt.Println(e.Time.Format(time.DateTime), e.UserKey, e.AppID, e.IP, e.Status)
		}
		if page.Next == "" {
			break
		}
		fmt.Println("-- next page")
		q.Cursor = page.Next
	}
	// Output:
	// 2025-03-05 07:00:00 alice portal 198.51.100.7 success
	// 2025-03-04 08:00:00 alice mail 198.51.100.9 interrupted
	// -- next page
	// 2025-03-03 09:00:00 alice portal 198.51.100.7 success
}

// Registered authentication methods under the host's policy: a removal
// later than the registration wins; an imported snapshot counts as
// registered from its time on.
func ExampleEngine_RegistrationDetails() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	at := func(day int) time.Time { return time.Date(2025, 3, day, 9, 0, 0, 0, time.UTC) }
	err = eng.ImportRegistrations(ctx, at(1), []insights.RegisteredMethods{{UserKey: "alice", Methods: []string{"Email"}}})
	if err == nil {
		err = eng.Add(ctx,
			insights.Event{Time: at(3), Kind: insights.KindRegistration, UserKey: "alice", Method: "Microsoft Authenticator"},
			insights.Event{Time: at(4), Kind: insights.KindRegistration, UserKey: "bob", Method: "Text message"},
			insights.Event{Time: at(5), Kind: insights.KindRegistration, UserKey: "bob", Method: "Text message", Action: insights.ActionRemoved},
			insights.Event{Time: at(5), Kind: insights.KindRegistration, UserKey: "bob", Method: "FIDO2 security key"},
		)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, err := eng.RegistrationDetails(ctx, insights.RegistrationQuery{}) // the default policy
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Printf("%s %q MFA capable %t, SSPR capable %t, passwordless capable %t\n",
			r.UserKey, r.Methods, r.MFA.Capable, r.SSPR.Capable, r.Passwordless.Capable)
	}
	// Output:
	// alice ["Email" "Microsoft Authenticator"] MFA capable true, SSPR capable true, passwordless capable false
	// bob ["FIDO2 security key"] MFA capable true, SSPR capable false, passwordless capable true
}

// Stats for monitoring: events and copies added, users and days, what a
// checkpoint wrote, the log it left; durations (CheckpointAge,
// QueryTime, IngestLag) are the machine's and vary from run to run.
func ExampleEngine_Stats() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	at := func(day int) time.Time { return time.Date(2025, 3, day, 9, 0, 0, 0, time.UTC) }
	err = eng.Add(ctx,
		insights.Event{Time: at(3), Kind: insights.KindSignIn, UserKey: "alice", RequestID: "r1"},
		insights.Event{Time: at(3), Kind: insights.KindSignIn, UserKey: "alice", RequestID: "r1"}, // a copy
		insights.Event{Time: at(4), Kind: insights.KindSignIn, UserKey: "bob", RequestID: "r2"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := eng.Stats()
	fmt.Printf("%d events, %d copy, %d users, %d days, %d stored, %d log record\n",
		s.Events, s.Duplicates, s.Users, s.Days, s.DaysStored, s.LogRecords)
	if err := eng.Flush(ctx); err != nil {
		fmt.Println(err)
		return
	}
	s = eng.Stats()
	fmt.Printf("after Flush: %d checkpoint, %d days stored, %d log bytes\n", s.Checkpoints, s.DaysStored, s.LogBytes)
	// Output:
	// 2 events, 1 copy, 2 users, 2 days, 0 stored, 1 log record
	// after Flush: 1 checkpoint, 2 days stored, 0 log bytes
}

// TelecomMFAMethods counts the MFA challenges sent by text or call, and
// the users whose telephone challenge failed with a telecom error (SPEC
// §10: 50086 to 50088).
func ExampleTelecomMFAMethods() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	signIn := func(id, user, method string, code int) insights.Event {
		return insights.Event{Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn,
			UserKey: user, RequestID: id, ErrorCode: code, AuthDetails: []insights.AuthStep{
				{Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Method: method, Succeeded: code == 0, Requirement: insights.RequirementMultiFactor}}}
	}
	err = eng.Add(ctx,
		signIn("r1", "alice", "Text message", 0),
		signIn("r2", "bob", "Voice call", 50088),
		signIn("r3", "carol", "Microsoft Authenticator", 0),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	day := insights.Query{From: insights.NewDate(2025, 3, 3), To: insights.NewDate(2025, 3, 4)}
	q := day
	q.Metric, q.Filter = insights.MFAChallenges, insights.TelecomMFAMethods()
	res, err := eng.Query(ctx, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Printf("telephone challenges, %s: %v\n", r.Series, r.Value)
	}
	q = day
	q.Metric = insights.SigningInUsers
	q.Filter = insights.And(insights.TelecomMFAMethods(), insights.In(insights.DimErrorCode, "50086", "50087", "50088"))
	if res, err = eng.Query(ctx, q); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("users with a telecom error:", res.Rows[0].Value)
	// Output:
	// telephone challenges, attempts: 2
	// telephone challenges, successes: 1
	// telephone challenges, failures: 1
	// telephone challenges, successRate: 0.5
	// users with a telecom error: 1
}

// A brute force on one account followed by a successful sign-in: the
// detection names its rule and the sign-ins that fired it, the success
// among them, and the user becomes risky until dismissed.
func ExampleEngine_Detections() {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{
		Now: func() time.Time { return time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	at := func(min, sec int) time.Time { return time.Date(2025, 3, 20, 9, min, sec, 0, time.UTC) }
	var events []insights.Event
	for i := range 10 { // ten wrong passwords in 90 seconds, from rotating addresses
		events = append(events, insights.Event{Time: at(0, 9*i), Kind: insights.KindSignIn, UserKey: "alice",
			ErrorCode: 50126, IP: fmt.Sprintf("198.51.100.%d", i)})
	}
	events = append(events, insights.Event{Time: at(20, 0), Kind: insights.KindSignIn, UserKey: "alice", IP: "198.51.100.7"})
	if err := eng.Add(ctx, events...); err != nil {
		fmt.Println(err)
		return
	}

	page, err := eng.Detections(ctx, insights.DetectionQuery{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range page.Detections {
		fmt.Println(d.Type, d.Level, d.UserKey, d.Time.Format(time.TimeOnly), len(d.Evidence), "sign-ins")
		evidence, _ := eng.EntriesByID(ctx, d.Evidence)
		last := evidence[len(evidence)-1]
		fmt.Println("then:", last.Status, "at", last.Time.Format(time.TimeOnly), "computed risk", last.ComputedRisk)
	}
	show := func() {
		users, _ := eng.RiskyUsers(ctx, insights.RiskyUserQuery{})
		for _, u := range users.Users {
			fmt.Println(u.UserKey, u.State, u.Level)
		}
	}
	show()
	if err := eng.SetUserRiskState(ctx, "alice", insights.RiskStateDismissed); err != nil {
		fmt.Println(err)
		return
	}
	show()
	// Output:
	// bruteForce high alice 09:01:21 11 sign-ins
	// then: success at 09:20:00 computed risk high
	// alice atRisk high
	// alice dismissed none
}
