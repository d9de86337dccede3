package export_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file (go test -update rewrites it)\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// clock is the engines' fixed present: Thursday 20 March 2025, noon UTC.
var clock = time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)

// hyperlink is an attacker's app name: a formula a spreadsheet would run.
const hyperlink = `=HYPERLINK("http://x","y")`

// newEngine opens an engine on a memory store holding a few users' events
// in February and early March 2025.
func newEngine(t *testing.T) *insights.Engine {
	t.Helper()
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	at := func(month time.Month, day, hour int) time.Time {
		return time.Date(2025, month, day, hour, 0, 0, 0, time.UTC)
	}
	portal := func(ev insights.Event) insights.Event {
		ev.AppID, ev.AppName = "portal", "Portal"
		return ev
	}
	mail := func(ev insights.Event) insights.Event {
		ev.AppID, ev.AppName = "mail", hyperlink
		return ev
	}
	signIn := insights.KindSignIn
	err = eng.Add(ctx,
		portal(insights.Event{Time: at(2, 10, 9), Kind: signIn, UserKey: "frank", OS: "Windows 10", Country: "us", Language: "en"}),
		portal(insights.Event{Time: at(3, 3, 9), Kind: signIn, UserKey: "alice", OS: "iOS 17", Country: "fr", Language: "fr"}),
		portal(insights.Event{Time: at(3, 3, 18), Kind: signIn, UserKey: "alice", OS: "iOS 17", Country: "fr", Language: "fr"}),
		portal(insights.Event{Time: at(3, 3, 10), Kind: signIn, UserKey: "bob", OS: "Windows 10", Country: "us", Language: "en", ErrorCode: 50126}),
		portal(insights.Event{Time: at(3, 3, 11), Kind: insights.KindSignUp, UserKey: "carol", OS: "Android", Country: "de", Language: "de"}),
		mail(insights.Event{Time: at(3, 4, 8), Kind: signIn, UserKey: "alice", OS: "Android", Country: "us", Language: "fr"}),
		portal(insights.Event{Time: at(3, 4, 12), Kind: signIn, UserKey: "bob", OS: "Windows 10", Country: "us", Language: "en",
			MFAMethod: "Text message"}),
		mail(insights.Event{Time: at(3, 4, 13), Kind: signIn, UserKey: "dave", OS: "iOS 17", Country: "fr", Language: "fr", ErrorCode: 50074}),
		portal(insights.Event{Time: at(3, 5, 9), Kind: signIn, UserKey: "carol", OS: "iOS 17", Country: "fr", Language: "de"}),
		insights.Event{Time: at(3, 5, 10), Kind: insights.KindUserCreated, UserKey: "erin"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// query runs q on eng.
func query(t *testing.T, eng *insights.Engine, q insights.Query) *insights.Result {
	t.Helper()
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var (
	march3 = insights.NewDate(2025, 3, 3)
	march6 = insights.NewDate(2025, 3, 6)
	feb1   = insights.NewDate(2025, 2, 1)
	april1 = insights.NewDate(2025, 4, 1)
)

// entries is an EntrySource over a slice, failing with err at the end.
type entries struct {
	list []insights.LogEntry
	i    int
	err  error
}

func (s *entries) Next() bool               { s.i++; return s.i <= len(s.list) }
func (s *entries) Entry() insights.LogEntry { return s.list[s.i-1] }
func (s *entries) Err() error               { return s.err }

// logEntries are sign-in log entries as the engine lists them, newest
// first, carrying strings an attacker controls.
func logEntries() []insights.LogEntry {
	paris, _ := time.LoadLocation("Europe/Paris")
	return []insights.LogEntry{
		{ID: "2025-03-04/2", OSFamily: "iOS", BrowserFamily: "Safari", ComputedRisk: insights.RiskHigh, Event: insights.Event{
			Time: time.Date(2025, 3, 4, 13, 0, 0, 500, paris), Kind: insights.KindSignIn, UserKey: "dave@example.com",
			SignInType: insights.SignInInteractiveUser, Status: insights.StatusInterrupted, ErrorCode: 50074,
			AppID: "mail", AppName: hyperlink, OS: "iOS 17", Browser: "Mobile Safari", Country: "FR", Language: "fr",
			AuthRequirement: insights.RequirementMultiFactor, PrimaryMethod: "Password", ConditionalAccess: "success",
			RequestID: "r-2", CorrelationID: "c-2", IP: "2001:db8::7", City: "\tParis", State: "Île-de-France",
			Latitude: 48.8566, Longitude: -2.3522,
			UserAgent: "-2+3+cmd|' /C calc'!A0", UserDisplayName: "@SUM(1+1)*cmd|' /C calc'!A0",
			AuthDetails: []insights.AuthStep{
				{Time: time.Date(2025, 3, 4, 12, 59, 58, 0, time.UTC), Method: "Password", Succeeded: true,
					Requirement: insights.RequirementSingleFactor},
				{Method: "Text message", ResultDetail: "MFA required, \"quoted\"", Requirement: insights.RequirementMultiFactor},
			},
			MFAPolicies: []string{"Require MFA, all users"},
			CAPolicies:  []insights.PolicyResult{{Name: "Require MFA", Result: "success"}, {Name: "Block legacy"}},
		}},
		{ID: "2025-03-04/1", OSFamily: "Windows", Event: insights.Event{
			Time: time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: "+bob",
			SignInType: insights.SignInInteractiveUser, Status: insights.StatusFailure, ErrorCode: -1, Reason: "other",
			AppID: "portal", AppName: "Portal, \"the\" app\nline two", OS: "Windows 10", Country: "US",
			RequestID: "r-1", IP: "198.51.100.7", City: "\rCarriage",
		}},
		{ID: "2025-03-03/1", Event: insights.Event{
			Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, PrincipalID: "sp-1",
			SignInType: insights.SignInServicePrincipal, Status: insights.StatusSuccess, ErrorCode: 0,
		}},
	}
}
