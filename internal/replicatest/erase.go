// Package replicatest holds the tests of engines opened as replicas
// (insights.Options.Replica) that run on every store implementing
// store.Replicas: Memory from the root package's tests, PostgreSQL from
// pgstore's.
package replicatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// erNow is the replicas' clock in the erasure tests.
func erNow() time.Time { return time.Date(2025, time.February, 1, 0, 0, 0, 0, time.UTC) }

// erVictims are the users the erasure tests erase, one a phase.
var erVictims = []string{"victim-0@example.com", "victim-1@example.com"}

// erBatch is batch b of the erasure tests: 12 users on days 1 to 20 of
// January, the victims among them, sign-ups, sign-ins (a fifth failed)
// and a few deletions.
func erBatch(b int) []insights.Event {
	var evs []insights.Event
	for i := range 6 {
		u := (b*7 + i*5) % 12
		key := fmt.Sprintf("u%d", u)
		if u < len(erVictims) {
			key = erVictims[u]
		}
		ev := insights.Event{
			Time:      time.Date(2025, time.January, 1+(b+i)%20, 8+i, b%60, 0, 0, time.UTC),
			Kind:      insights.KindSignIn,
			UserKey:   key,
			AppID:     []string{"mail", "crm"}[(b+i)%2],
			RequestID: fmt.Sprintf("r%d-%d", b, i),
		}
		switch {
		case b < 2:
			ev.Kind = insights.KindSignUp
		case (b+i)%5 == 0:
			ev.ErrorCode = 50126
		case b%9 == 8 && i == 0 && u >= len(erVictims):
			ev.Kind = insights.KindUserDeleted
		}
		evs = append(evs, ev)
	}
	return evs
}

// erAnswers is what the erasure tests compare: metrics by day, week and
// in total (the active users exactly and approximately), the total
// users' keys, and the event log (request id, time, user, kind), sorted.
func erAnswers(ctx context.Context, e *insights.Engine) (string, error) {
	var b strings.Builder
	from, to := insights.NewDate(2025, time.January, 1), insights.NewDate(2025, time.February, 1)
	for _, m := range []insights.Metric{insights.ActiveUsers, insights.NewUsers, insights.TotalUsers,
		insights.Authentications, insights.Requests, insights.InactiveUsers} {
		for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Total} {
			res, err := e.Query(ctx, insights.Query{Metric: m, From: from, To: to, Granularity: g, Days: 7})
			if err != nil {
				return "", fmt.Errorf("%s %s: %w", m, g, err)
			}
			fmt.Fprintf(&b, "%s %s %v\n", m, g, res.Rows)
		}
	}
	res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: from, To: to, Granularity: insights.Week, Approximate: true})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "approximate %v\n", res.Rows)
	users, err := e.Users(ctx, insights.Query{Metric: insights.TotalUsers, From: to.AddDays(-1), To: to})
	if err != nil {
		return "", err
	}
	var keys []string
	for users.Next() {
		keys = append(keys, users.User().UserKey)
	}
	if err := users.Err(); err != nil {
		return "", err
	}
	slices.Sort(keys)
	fmt.Fprintf(&b, "users %v\n", keys)
	entries, err := LogEntries(ctx, e)
	if err != nil {
		return "", err
	}
	b.WriteString(strings.Join(entries, "\n"))
	return b.String(), nil
}

// erReference returns the erAnswers of one engine, on its own store, fed
// batches [0, n), that erases victim i before batch eraseAt[i] (at the
// end if eraseAt[i] is n).
func erReference(t *testing.T, n int, eraseAt []int) string {
	t.Helper()
	ctx := context.Background()
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: erNow})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for b := 0; b <= n; b++ {
		for i, at := range eraseAt {
			if at == b {
				if _, err := ref.Erase(ctx, erVictims[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if b == n {
			break
		}
		if err := ref.Add(ctx, erBatch(b)...); err != nil {
			t.Fatal(err)
		}
	}
	want, err := erAnswers(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// LogEntries lists e's whole event log as "request id|time|user|kind",
// sorted: the same on every replica, whatever order it applied records
// in.
func LogEntries(ctx context.Context, e *insights.Engine) ([]string, error) {
	var out []string
	q := insights.LogQuery{Limit: insights.MaxPageSize}
	for {
		p, err := e.Log(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, en := range p.Entries {
			out = append(out, fmt.Sprintf("%s|%d|%s|%s", en.RequestID, en.Time.UnixNano(), en.UserKey, en.Kind))
		}
		if p.Next == "" {
			slices.Sort(out)
			return out, nil
		}
		q.Cursor = p.Next
	}
}

// erCheck refreshes each engine and compares its answers with want.
func erCheck(t *testing.T, want string, engines map[string]*insights.Engine) {
	t.Helper()
	ctx := context.Background()
	for name, e := range engines {
		if err := e.Refresh(ctx); err != nil {
			t.Fatalf("%s: Refresh: %v", name, err)
		}
		got, err := erAnswers(ctx, e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Fatalf("%s answers otherwise than the reference:\n%s", name, FirstDiff(got, want))
		}
	}
}

// FirstDiff shows the first line where got and want, answers spelled out
// one a line, differ.
func FirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d\n got %.400s\nwant %.400s", i, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// erStoreHolds returns the keys of s whose values hold user's key.
func erStoreHolds(t *testing.T, s store.Store, user string) []string {
	t.Helper()
	ctx := context.Background()
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var holding []string
	for _, k := range keys {
		v, err := s.Get(ctx, k)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if bytes.Contains(v, []byte(user)) {
			holding = append(holding, k)
		}
	}
	return holding
}

// RunErase tests Erase on replicas, on s, a new store that implements
// store.Replicas: three replicas, batches sent round the three, checkpoints every 2 KiB of log. Replica 1 erases a
// user while replica 0 holds the lease and polls: replica 0 applies the
// erase record and checkpoints, and Erase returns then; every replica,
// and one opened late, answers as one engine that got the same batches
// and erasure, and no key of the store holds the user. Then, the holder
// polling no more, replica 2 erases the other victim, and gives up
// waiting for a checkpoint: the record is in the log alone; a replica
// opened then replays it, the holder applies it on its next refresh and
// checkpoints, and every replica and the reference agree again.
func RunErase(t *testing.T, s store.Store) {
	ctx := context.Background()
	open := func(poll time.Duration) *insights.Engine {
		t.Helper()
		e, err := insights.Open(ctx, s, &insights.Options{Now: erNow, Replica: true, CheckpointBytes: 2 << 10,
			LeaseTTL: time.Hour, RefreshInterval: poll})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	reps := []*insights.Engine{open(5 * time.Millisecond), open(-1), open(-1)}
	if err := reps[0].Flush(ctx); err != nil { // replica 0 takes the lease, for an hour
		t.Fatal(err)
	}
	add := func(from, to int) {
		t.Helper()
		for b := from; b < to; b++ {
			if err := reps[b%3].Add(ctx, erBatch(b)...); err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
		}
	}
	all := func(extra ...*insights.Engine) map[string]*insights.Engine {
		m := map[string]*insights.Engine{}
		for i, e := range append(slices.Clone(reps), extra...) {
			m[fmt.Sprintf("replica %d", i)] = e
		}
		return m
	}

	add(0, 40)
	rep, err := reps[1].Erase(ctx, erVictims[0])
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Found || len(rep.Days) == 0 {
		t.Fatalf("Erase reported %+v, want the user found on some days", rep)
	}
	if k := erStoreHolds(t, s, erVictims[0]); len(k) > 0 {
		t.Errorf("after Erase returned, the store's %v hold the erased user", k)
	}
	add(40, 50)
	want := erReference(t, 50, []int{40})
	erCheck(t, want, all(open(-1)))

	// The holder stops polling; the erase record waits in the log.
	if err := reps[0].Close(); err != nil {
		t.Fatal(err)
	}
	reps[0] = open(-1)
	if err := reps[0].Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reps[2].Flush(ctx); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("replica 2's Flush = %v, want the lease held by replica 0", err)
	}
	add(50, 60)
	for reps[0].Stats().CheckpointRunning { // one its Adds started covers what comes next, else
		time.Sleep(time.Millisecond)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := reps[2].Erase(short, erVictims[1]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Erase with the holder not refreshing = %v, want the context's deadline, waiting for a checkpoint", err)
	}
	if k := erStoreHolds(t, s, erVictims[1]); !slices.ContainsFunc(k, func(k string) bool { return strings.HasPrefix(k, "wal/") }) {
		t.Fatalf("the store's %v hold the victim, want its log records", k)
	}
	want = erReference(t, 60, []int{40, 60})
	late := open(-1) // replays the erase record
	erCheck(t, want, map[string]*insights.Engine{"late replica": late, "replica 2": reps[2]})
	erCheck(t, want, all(late)) // replica 0, the holder, applies it and starts a checkpoint
	deadline := time.Now().Add(10 * time.Second)
	for len(erStoreHolds(t, s, erVictims[1])) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the holder applied the erase record, the store's %v hold the user", erStoreHolds(t, s, erVictims[1]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	add(60, 70)
	want = erReference(t, 70, []int{40, 60})
	erCheck(t, want, all(late, open(-1)))

	f, err := insights.Open(ctx, s, &insights.Options{Now: erNow, Follow: true, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Erase(ctx, "u3"); !errors.Is(err, insights.ErrReadOnly) || !strings.Contains(err.Error(), "follower") {
		t.Errorf("Erase on a follower = %v, want ErrReadOnly saying why", err)
	}
	erCheck(t, want, map[string]*insights.Engine{"follower": f})
}
