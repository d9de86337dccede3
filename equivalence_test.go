package insights_test

// Durability tests, part 3: one seeded event stream through the memory
// store and the directory store, through one engine and through engines
// closed, or dropped without Close, and reopened every few batches, gives
// identical answers for every metric; tenants on sibling directories stay
// apart; a directory has one DirStore at a time; a store's zone is fixed;
// retention drops old days but not first-activity days; Erase leaves no
// file holding the user's key.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

const durEquivBatches = 420 // about 3,000 events

// durEquivGen spreads its batches over the data's days in order, with late
// events for earlier days, duplicates, reused request ids and deletions.
func durEquivGen(seed uint64, prefix string, batches int) *durGen {
	return &durGen{
		seed:    seed,
		prefix:  prefix,
		batches: func(int) int { return batches },
		focus:   func(_, b int) int { return b * (durDays - 2) / batches },
	}
}

// durEquivQueries are every metric at every calendar granularity, unfiltered
// and with a filter and a group-by, plus approximate active users.
func durEquivQueries() []insights.Query {
	var qs []insights.Query
	for _, m := range insights.Metrics() {
		for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Month} {
			q := insights.Query{Metric: m, From: durDate(0), To: durDate(durDays), Granularity: g, Days: 7}
			qs = append(qs, q)
			q.Filter = insights.Not(insights.Eq(insights.DimOS, "iOS"))
			q.GroupBy = []insights.Dimension{insights.DimAppID}
			qs = append(qs, q)
		}
	}
	for _, g := range []insights.Granularity{insights.Day, insights.Week, insights.Month} {
		qs = append(qs, insights.Query{Metric: insights.ActiveUsers, From: durDate(0), To: durDate(durDays), Granularity: g, Approximate: true})
	}
	return qs
}

func durEquivAnswers(t *testing.T, e *insights.Engine) []*insights.Result {
	t.Helper()
	var out []*insights.Result
	for _, q := range durEquivQueries() {
		res, err := e.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s %s filter %v: %v", q.Metric, q.Granularity, q.Filter, err)
		}
		out = append(out, res)
	}
	return out
}

func TestEquivalenceOfStoresAndReopening(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := durEquivGen(2024, "user-", durEquivBatches)
	all := map[int]bool{}
	for b := range durEquivBatches {
		all[b] = true
	}

	// (a) The reference: one engine on a memory store.
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: durClock})
	if err != nil {
		t.Fatal(err)
	}
	for b := range durEquivBatches {
		if err := ref.Add(ctx, g.events(0, b)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := durVerify(ctx, ref, g, all, nil); err != nil {
		t.Fatalf("memory store against the oracle: %v", err)
	}
	want := durEquivAnswers(t, ref)

	// openDir opens an engine on a new DirStore on dir.
	openDir := func(t *testing.T, dir string, opts *insights.Options) (*store.DirStore, *insights.Engine) {
		t.Helper()
		ds, err := store.Dir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := insights.Open(ctx, ds, opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return ds, e
	}
	// compare compares e's answers with the reference's. With concurrent
	// writers the batches are applied in another order, and approximate
	// answers depend on it (package doc: "Sketches cannot forget: a
	// deletion reported after the activities it voids does not remove them
	// from approximate counts"): they are not compared.
	compare := func(t *testing.T, e *insights.Engine, reordered bool) {
		t.Helper()
		for i, got := range durEquivAnswers(t, e) {
			if reordered && got.Approximate {
				continue
			}
			if !reflect.DeepEqual(want[i].Rows, got.Rows) {
				q := want[i].Query
				t.Errorf("%s %s filter %v group %v approximate %t: rows differ from the memory store's:\nwant %v\n got %v",
					q.Metric, q.Granularity, q.Filter, q.GroupBy, q.Approximate, durShort(want[i].Rows), durShort(got.Rows))
			}
		}
		if err := durVerify(ctx, e, g, all, nil); err != nil {
			t.Errorf("against the oracle: %v", err)
		}
	}

	t.Run("one engine on a directory, concurrent writers", func(t *testing.T) {
		ds, e := openDir(t, filepath.Join(t.TempDir(), "s"), &insights.Options{Now: durClock, CheckpointBytes: 64 << 10})
		defer ds.Close()
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := w; b < durEquivBatches; b += 4 {
					if err := e.Add(ctx, g.events(0, b)...); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		compare(t, e, true)
	})

	for _, tc := range []struct {
		name  string
		every int
		close bool
	}{
		{"closed and reopened", 7, true},
		{"dropped without Close and reopened", 5, false},
	} {
		if insights.RaceEnabled { // half the reopens: each is a replay, about ten times slower under the race detector
			tc.every *= 2
		}
		t.Run(fmt.Sprintf("%s every %d batches", tc.name, tc.every), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			opts := &insights.Options{Now: durClock, CheckpointBytes: 8 << 10}
			ds, e := openDir(t, dir, opts)
			reopens := 0
			for b := range durEquivBatches {
				if err := e.Add(ctx, g.events(0, b)...); err != nil {
					t.Fatal(err)
				}
				if b%tc.every != tc.every-1 {
					continue
				}
				if b%(3*tc.every) == 0 { // a query seals the days it reads, in memory only
					if _, err := e.Query(ctx, insights.Query{Metric: insights.NewUsers, From: durDate(0), To: durDate(durDays)}); err != nil {
						t.Fatal(err)
					}
				}
				if tc.close {
					if err := e.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if err := ds.Close(); err != nil {
					t.Fatal(err)
				}
				ds, e = openDir(t, dir, opts)
				reopens++
			}
			defer ds.Close()
			t.Logf("%d reopens, last recovery %+v", reopens, e.Recovery())
			compare(t, e, false)
		})
	}
}

// durShort renders rows, cut short.
func durShort(rows []insights.Row) string {
	s := fmt.Sprint(rows)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

// durScan returns the files below dir whose bytes contain s.
func durScan(t *testing.T, dir, s string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			hits = append(hits, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestTenantsAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	type tenant struct {
		name, prefix string
		g            *durGen
		ds           *store.DirStore
		e            *insights.Engine
		acked        map[int]bool
	}
	tenants := []*tenant{
		{name: "tenantA", prefix: "alpha-corp-user-"},
		{name: "tenantB", prefix: "beta-corp-user-"},
	}
	opts := &insights.Options{Now: durClock, CheckpointBytes: 16 << 10}
	open := func(tn *tenant) {
		var err error
		if tn.ds, err = store.Dir(filepath.Join(root, tn.name), nil); err != nil {
			t.Fatal(err)
		}
		if tn.e, err = insights.Open(ctx, tn.ds, opts); err != nil {
			t.Fatal(err)
		}
	}
	for i, tn := range tenants {
		tn.g = durEquivGen(uint64(100+i), tn.prefix, 120+40*i)
		tn.acked = map[int]bool{}
		open(tn)
	}
	var wg sync.WaitGroup
	for _, tn := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range tn.g.batches(0) {
				if err := tn.e.Add(ctx, tn.g.events(0, b)...); err != nil {
					t.Error(err)
					return
				}
				tn.acked[b] = true
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	check := func(when string) {
		t.Helper()
		for i, tn := range tenants {
			other := tenants[1-i]
			if err := durVerify(ctx, tn.e, tn.g, tn.acked, nil); err != nil {
				t.Errorf("%s: %s: %v", when, tn.name, err)
			}
			users, err := tn.e.Users(ctx, insights.Query{Metric: insights.TotalUsers, From: durDate(durDays - 1), To: durDate(durDays)})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for users.Next() {
				n++
				if k := users.User().UserKey; !strings.HasPrefix(k, tn.prefix) {
					t.Errorf("%s: %s lists user %q", when, tn.name, k)
				}
			}
			if err := users.Err(); err != nil {
				t.Fatal(err)
			}
			o := newDurOracle()
			for b := range tn.acked {
				o.add(tn.g.batch(0, b)...)
			}
			if want := o.answers()[insights.TotalUsers.String()][durDays-1]; float64(n) != want || n == 0 {
				t.Errorf("%s: %s lists %d users, want %v", when, tn.name, n, want)
			}
			insights.AwaitCheckpoint(tn.e) // the scan reads files a checkpoint may be deleting
			if hits := durScan(t, filepath.Join(root, tn.name), other.prefix); len(hits) > 0 {
				t.Errorf("%s: files of %s hold %s's user keys: %v", when, tn.name, other.name, hits)
			}
		}
	}
	check("after ingesting")
	for _, tn := range tenants {
		if err := tn.e.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tn.ds.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range tenants {
		open(tn)
		defer tn.ds.Close()
	}
	check("after reopening")
}

func TestTenantDirectoryIsLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	// other asks a child process to open dir.
	other := func() string {
		c := durStartChild(t, "lock|"+dir)
		var said []string
		for s := range c.lines {
			said = append(said, s)
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v\n%s", err, c.stderr.String())
		}
		return strings.Join(said, "\n")
	}
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Dir(dir, nil); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second store.Dir on an open directory: %v, want an error wrapping store.ErrLocked", err)
	}
	if _, err := store.Dir(dir+string(filepath.Separator)+".", nil); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second store.Dir on the same directory spelled differently: %v, want store.ErrLocked", err)
	}
	if s := other(); !strings.HasPrefix(s, "locked") {
		t.Errorf("another process opening the directory: %q, want store.ErrLocked", s)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	if s := other(); s != "opened" {
		t.Errorf("another process opening the released directory: %q", s)
	}
	ds, err = store.Dir(dir, nil)
	if err != nil {
		t.Fatalf("store.Dir after Close: %v", err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTenantZoneIsFixed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "s")
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	e, err := insights.Open(ctx, ds, &insights.Options{Zone: "Europe/Paris", Now: durClock})
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 10 January is 11 January in Paris.
	if err := e.Add(ctx, insights.Event{Time: time.Date(2025, 1, 10, 23, 30, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	if ds, err = store.Dir(dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, o := range []insights.Options{{Zone: "America/New_York"}, {Zone: "UTC"}, {Zone: "Europe/Paris", HLLPrecision: 12}} {
		o.Now = durClock
		if _, err := insights.Open(ctx, ds, &o); err == nil || !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("Open with zone %q and precision %d on a Europe/Paris store: %v, want an error wrapping ErrInvalidQuery", o.Zone, o.HLLPrecision, err)
		}
	}
	for _, zone := range []string{"", "Europe/Paris"} {
		e, err := insights.Open(ctx, ds, &insights.Options{Zone: zone, Now: durClock})
		if err != nil {
			t.Fatalf("Open with zone %q: %v", zone, err)
		}
		if got := e.Zone().String(); got != "Europe/Paris" {
			t.Errorf("Open with zone %q: Zone() = %s", zone, got)
		}
		res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: insights.NewDate(2025, 1, 10), To: insights.NewDate(2025, 1, 12)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 2 || res.Rows[0].Value != 0 || res.Rows[1].Value != 1 {
			t.Errorf("Open with zone %q: active users on 10 and 11 January: %v, want 0 and 1 (Paris days)", zone, res.Rows)
		}
	}
}

func TestRetentionDropsOldDaysButNotFirstActivity(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	opts := &insights.Options{Now: clock, RetentionDays: 30, CheckpointBytes: 16 << 10}
	const batches = 240
	g := durEquivGen(77, "user-", batches)
	dir := filepath.Join(t.TempDir(), "s")
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := insights.Open(ctx, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	o := newDurOracle()
	// January first, with the clock on 1 February (the horizon on 2
	// January), then the rest with the clock on 1 March: the horizon moves
	// to 30 January.
	var later []int
	for b := range batches {
		evs := g.batch(0, b)
		if g.focus(0, b) >= 30 || slices.ContainsFunc(evs, func(e durEv) bool { return e.day > 31 }) {
			later = append(later, b)
			continue
		}
		if err := e.Add(ctx, g.events(0, b)...); err != nil {
			t.Fatal(err)
		}
		o.add(evs...)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, _ := ds.List(ctx, "days/2025-01-01/"); len(keys) != 0 {
		t.Errorf("with the clock on 1 February, 1 January was kept: %v", keys)
	}
	mu.Lock()
	now = durNow
	mu.Unlock()
	for _, b := range later {
		if err := e.Add(ctx, g.events(0, b)...); err != nil {
			t.Fatal(err)
		}
		o.add(g.batch(0, b)...)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	horizon := durDayOf(insights.DateOf(durNow, time.UTC).AddDays(-30))

	check := func(when string, e *insights.Engine) {
		t.Helper()
		keys, err := ds.List(ctx, "days/")
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for _, k := range keys {
			date, err := insights.ParseDate(strings.Split(k, "/")[1])
			if err != nil {
				t.Fatalf("%s: segment key %q: %v", when, k, err)
			}
			if durDayOf(date) < horizon {
				t.Errorf("%s: segment %s is before the horizon %s", when, k, durDate(horizon))
			} else {
				kept++
			}
		}
		if kept < durDays-horizon-2 {
			t.Errorf("%s: %d segments kept from %s on: %v", when, kept, durDate(horizon), keys)
		}
		res, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: durDate(0), To: durDate(durDays)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) == 0 {
			t.Errorf("%s: a query from %s, before the horizon %s, has no warning", when, durDate(0), durDate(horizon))
		}
		res, err = e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: durDate(horizon), To: durDate(durDays)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 0 {
			t.Errorf("%s: a query from the horizon on warns: %v", when, res.Warnings)
		}
		got, err := durAnswers(ctx, e, horizon)
		if err != nil {
			t.Fatal(err)
		}
		if d := durCompare(durFrom(o.answers(), horizon), got); d != "" {
			t.Errorf("%s: from the horizon on, answers differ from the oracle's over every event:\n%s", when, d)
		}
	}
	check("after the Flush", e)

	// Dropped without Close, then closed: the same after each reopening.
	for _, closeIt := range []bool{false, true} {
		if closeIt {
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
		if ds, err = store.Dir(dir, nil); err != nil {
			t.Fatal(err)
		}
		if e, err = insights.Open(ctx, ds, opts); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("reopened (closed before: %t)", closeIt), e)
	}
	ds.Close()
}

func TestTenantEraseLeavesNoFileWithTheKey(t *testing.T) {
	ctx := context.Background()
	const victim = "victim-7f3a9c@example.org"
	g := durEquivGen(5, "user-", 120)
	dir := filepath.Join(t.TempDir(), "s")
	opts := &insights.Options{Now: durClock, CheckpointBytes: 8 << 10}
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := insights.Open(ctx, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	victimEvents := func(day int) []insights.Event {
		at := durStart.AddDate(0, 0, day).Add(9 * time.Hour)
		return []insights.Event{
			{Time: at, Kind: insights.KindSignIn, UserKey: victim, AppID: "portal", RequestID: fmt.Sprintf("v-%d", day)},
			{Time: at.Add(time.Hour), Kind: insights.KindSignIn, UserKey: victim, AppID: "mail", ErrorCode: 50126},
		}
	}
	if err := e.Add(ctx, insights.Event{Time: durStart.Add(8 * time.Hour), Kind: insights.KindSignUp, UserKey: victim, AppID: "portal"}); err != nil {
		t.Fatal(err)
	}
	for b := range g.batches(0) {
		evs := g.events(0, b)
		if b%10 == 3 {
			evs = append(evs, victimEvents(g.focus(0, b))...)
		}
		if err := e.Add(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		if b == 60 {
			if _, err := e.Query(ctx, insights.Query{Metric: insights.ActiveUsers, From: durDate(0), To: durDate(durDays)}); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.Add(ctx, victimEvents(3)...); err != nil { // a late event, in the log only
		t.Fatal(err)
	}
	insights.AwaitCheckpoint(e) // the scan reads files a checkpoint may be deleting
	if hits := durScan(t, dir, victim); len(hits) == 0 {
		t.Fatal("no file holds the victim's key before erasure: the test proves nothing")
	}
	before, err := e.Query(ctx, insights.Query{Metric: insights.Requests, From: durDate(0), To: durDate(durDays), Granularity: insights.Total})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Erase(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Found || len(rep.Days) < 10 {
		t.Errorf("Erase reported %+v", rep)
	}
	check := func(when string, e *insights.Engine) {
		t.Helper()
		if hits := durScan(t, dir, victim); len(hits) > 0 {
			t.Errorf("%s: files still hold the erased key: %v", when, hits)
		}
		users, err := e.Users(ctx, insights.Query{Metric: insights.TotalUsers, From: durDate(durDays - 1), To: durDate(durDays)})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for users.Next() {
			n++
			if users.User().UserKey == victim {
				t.Errorf("%s: the erased user is listed", when)
			}
		}
		if n == 0 {
			t.Errorf("%s: no users left", when)
		}
		res, err := e.Query(ctx, insights.Query{Metric: insights.Requests, From: durDate(0), To: durDate(durDays), Granularity: insights.Total})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Rows, before.Rows) {
			t.Errorf("%s: requests %v, want %v as before the erasure", when, res.Rows, before.Rows)
		}
	}
	check("after Erase", e)
	if err := ds.Close(); err != nil { // dropped without Close
		t.Fatal(err)
	}
	if ds, err = store.Dir(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if e, err = insights.Open(ctx, ds, opts); err != nil {
		t.Fatal(err)
	}
	check("reopened", e)
	if rep, err := e.Erase(ctx, victim); err != nil || rep.Found {
		t.Errorf("erasing again: %+v, %v; want not found", rep, err)
	}
}
