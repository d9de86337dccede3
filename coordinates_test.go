package insights_test

// Latitude and longitude (SPEC §2 log fields), and failed sign-ins of no
// known user (a password spray's guesses).

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/insightslab/insights"
)

func TestCoordinatesAreKeptInTheLog(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e,
		insights.Event{Time: utc(3, 4, 9, 0), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r1",
			Latitude: 47.6740, Longitude: -122.1215},
		insights.Event{Time: utc(3, 4, 9, 1), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r2", Latitude: -33.8688},
		insights.Event{Time: utc(3, 4, 9, 2), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r3"})
	got := listAll(t, e, insights.LogQuery{}, 10)
	if len(got) != 3 || got[2].Latitude != 47.6740 || got[2].Longitude != -122.1215 ||
		got[1].Latitude != -33.8688 || got[1].Longitude != 0 || got[0].Latitude != 0 || got[0].Longitude != 0 {
		t.Errorf("entries %+v", got)
	}
}

func TestCoordinatesOutOfRangeAreRejected(t *testing.T) {
	for _, c := range []struct {
		name     string
		lat, lon float64
	}{
		{"Latitude", 90.5, 0}, {"Latitude", math.NaN(), 0}, {"Longitude", 0, -180.01}, {"Longitude", 1, math.Inf(1)},
	} {
		ev := insights.Event{Time: utc(3, 4, 9, 0), Kind: insights.KindSignIn, UserKey: "ann", Latitude: c.lat, Longitude: c.lon}
		err := ev.Validate(utc(3, 5, 0, 0))
		if !errors.Is(err, insights.ErrInvalidEvent) || !strings.Contains(err.Error(), c.name+":") {
			t.Errorf("%v, %v: %v", c.lat, c.lon, err)
		}
	}
}

func TestFailedSignInOfNoKnownUserCountsAsAnAttempt(t *testing.T) {
	e := newEngine(t, nil)
	spray := insights.Event{Time: utc(3, 4, 9, 0), Kind: insights.KindSignIn, Status: insights.StatusFailure,
		Reason: insights.ReasonDenied, IP: "198.51.100.9", AppID: "web", RequestID: "spray-1"}
	add(t, e, spray, insights.Event{Time: utc(3, 4, 9, 5), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "ok-1"})
	res := query(t, e, insights.Query{Metric: insights.Authentications, From: date(2025, 3, 4), To: date(2025, 3, 5), Granularity: insights.Total})
	checkRows(t, res, map[string]float64{"2025-03-04 attempts": 2, "2025-03-04 successes": 1, "2025-03-04 failures": 1})
	res = query(t, e, insights.Query{Metric: insights.ActiveUsers, From: date(2025, 3, 4), To: date(2025, 3, 5), Granularity: insights.Total})
	checkRows(t, res, map[string]float64{"2025-03-04": 1})
	if got := listAll(t, e, insights.LogQuery{}, 10); len(got) != 2 || got[1].UserKey != "" || got[1].IP != "198.51.100.9" {
		t.Errorf("log %+v", got)
	}
	for _, ev := range []insights.Event{
		{Time: utc(3, 4, 9, 0), Kind: insights.KindSignIn, Status: insights.StatusSuccess},
		{Time: utc(3, 4, 9, 0), Kind: insights.KindSignIn, ErrorCode: 50074}, // interrupted
		{Time: utc(3, 4, 9, 0), Kind: insights.KindMFA, Status: insights.StatusFailure},
	} {
		if err := ev.Validate(utc(3, 5, 0, 0)); !errors.Is(err, insights.ErrInvalidEvent) {
			t.Errorf("%+v: %v, want UserKey missing", ev, err)
		}
	}
}
