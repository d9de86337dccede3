package insights_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// TestRiskUnfamiliarReadsEachPropertysValue: the detector numbers
// countries, OS and browser families by the engine's dictionary codes
// (riskCodes), at ingest and in a rescan: a user's sign-in from a new
// country on a new OS or browser is unfamiliar, one from a new country
// on the OS, browser and network the user had is not, whichever values
// other users had.
func TestRiskUnfamiliarReadsEachPropertysValue(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2025, 12, 5, 9, 0, 0, 0, time.UTC)
	var evs []insights.Event
	signIn := func(d int, user, country, os, browser string) {
		evs = append(evs, insights.Event{Time: day0.Add(time.Duration(d)*24*time.Hour + time.Duration(len(evs))*time.Minute),
			Kind: insights.KindSignIn, UserKey: user, IP: "100.64.1.9", AppID: "portal", Country: country, OS: os,
			Browser: browser, RequestID: fmt.Sprint("r", len(evs))})
	}
	for d := range 5 {
		signIn(d, "a", "FR", "Windows 10", "Edge")
		signIn(d, "b", "DE", "macOS", "Chrome")
		signIn(d, "c", "FR", "Windows 10", "Edge")
	}
	signIn(6, "a", "DE", "macOS", "Edge")        // new country and OS: unfamiliar
	signIn(6, "b", "FR", "macOS", "Chrome")      // new country alone: not
	signIn(6, "c", "JP", "Windows 10", "Safari") // new country and browser: unfamiliar
	e := openRisk(t, store.NewMemory())
	if _, err := e.Detections(ctx, insights.DetectionQuery{}); err != nil { // the detector folds at ingest
		t.Fatal(err)
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"at ingest", "rescanned"} {
		if when == "rescanned" {
			if err := e.RescanRisk(ctx, insights.Date{}, insights.Date{}); err != nil {
				t.Fatal(err)
			}
		}
		got := allDetections(t, e, insights.DetectionQuery{Types: []insights.DetectionType{insights.DetectUnfamiliar}})
		var users []string
		for _, d := range got {
			users = append(users, d.UserKey)
		}
		if fmt.Sprint(users) != "[c a]" {
			t.Fatalf("%s: unfamiliar sign-ins of %v, want c and a (newest first)", when, users)
		}
	}
}
