package insights

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

func TestEraseRemovesTheUserEverywhere(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
	s := store.NewMemory()
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	const victim = "erase-me@example.com"
	at := func(d int) time.Time { return time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC) }
	if err := e.Add(ctx,
		Event{Time: at(3), Kind: KindSignUp, UserKey: victim, AppID: "A"},
		Event{Time: at(4), Kind: KindSignIn, UserKey: victim, AppID: "B"},
		Event{Time: at(4), Kind: KindSignIn, UserKey: "keep", AppID: "B"},
		Event{Time: at(9), Kind: KindSignIn, UserKey: "keep", AppID: "A"},
	); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil { // the victim is now in segments, catalog and (before) the log
		t.Fatal(err)
	}
	if err := e.Add(ctx, Event{Time: at(9), Kind: KindSignIn, UserKey: victim, AppID: "A"}); err != nil {
		t.Fatal(err) // and in the log
	}
	rep, err := e.Erase(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []Date{NewDate(2025, 1, 3), NewDate(2025, 1, 4), NewDate(2025, 1, 9)}
	if !rep.Found || len(rep.Days) != 3 || rep.Days[0] != wantDays[0] || rep.Days[2] != wantDays[2] || rep.Sketches == 0 {
		t.Fatalf("Erase reported %+v, want found on %v with sketches rebuilt", rep, wantDays)
	}
	check := func(e *Engine) {
		t.Helper()
		q := Query{Metric: ActiveUsers, From: NewDate(2025, 1, 1), To: NewDate(2025, 2, 1), Granularity: Total}
		for _, approx := range []bool{false, true} {
			q.Approximate = approx
			res, err := e.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows[0].Value != 1 {
				t.Errorf("approximate=%t: %v active users after erasure, want 1 (keep)", approx, res.Rows[0].Value)
			}
		}
		users, err := e.Users(ctx, Query{Metric: TotalUsers, From: NewDate(2025, 1, 31), To: NewDate(2025, 2, 1)})
		if err != nil {
			t.Fatal(err)
		}
		for users.Next() {
			if k := users.User().UserKey; k != "keep" {
				t.Errorf("total users list %q after erasure", k)
			}
		}
		res, err := e.Query(ctx, Query{Metric: Requests, From: NewDate(2025, 1, 1), To: NewDate(2025, 2, 1), Granularity: Total})
		if err != nil || res.Rows[0].Value != 5 {
			t.Errorf("requests after erasure = %v, %v; want 5: counts keep the events", res.Rows, err)
		}
	}
	check(e)
	keys, _ := s.List(ctx, "")
	for _, k := range keys {
		v, _ := s.Get(ctx, k)
		if bytes.Contains(v, []byte(victim)) {
			t.Errorf("store key %s still holds the erased user's key", k)
		}
	}
	reopened, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	check(reopened)
	if rep, err := reopened.Erase(ctx, victim); err != nil || rep.Found {
		t.Errorf("erasing again = %+v, %v; want not found", rep, err)
	}
}

func TestUserSummarySurvivesReopenAndErasure(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
	s := store.NewMemory()
	e, err := Open(ctx, s, &Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d int) time.Time { return time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC) }
	if err := e.Add(ctx,
		Event{Time: at(9), Kind: KindSignIn, UserKey: "a"},
		Event{Time: at(3), Kind: KindSignIn, UserKey: "a"},
		Event{Time: at(5), Kind: KindSignIn, UserKey: "a", ErrorCode: 50126}, // a failure is no activity
		Event{Time: at(6), Kind: KindUserDeleted, UserKey: "a"},
		Event{Time: at(7), Kind: KindUserCreated, UserKey: "b"},
	); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = Open(ctx, s, &Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	want := UserInfo{Key: "a", FirstActive: NewDate(2025, 1, 3), LastActive: NewDate(2025, 1, 9), Deleted: NewDate(2025, 1, 6)}
	if got, ok, err := e.User(ctx, "a"); err != nil || !ok || got != want {
		t.Errorf("User(a) = %+v, %t, %v; want %+v", got, ok, err, want)
	}
	if got, ok, _ := e.User(ctx, "b"); !ok || got != (UserInfo{Key: "b"}) {
		t.Errorf("User(b) = %+v, %t; want a known user never active", got, ok)
	}
	if _, err := e.Erase(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.User(ctx, "a"); ok {
		t.Error("User(a) is still known after erasure")
	}
}
