package insights

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// The tests of a writer's Open that leaves the catalog's users undecoded
// (userload.go): every user-level answer, after each first operation,
// equals an engine that never reopened (its users built by Add).

var lazyStart = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func lazyOptions() *Options {
	return &Options{Now: func() time.Time { return lazyStart.AddDate(0, 0, 40) }}
}

// lazyEvents: 200 users over 30 days, some created and never active,
// some deleted (a few active after their deletion).
func lazyEvents() []Event {
	r := rand.New(rand.NewPCG(14, 7))
	var evs []Event
	for u := range 200 {
		key := fmt.Sprintf("u%03d", u)
		if u%7 == 0 {
			evs = append(evs, Event{Time: lazyStart.AddDate(0, 0, r.IntN(30)), Kind: KindUserCreated, UserKey: key})
			if u%14 == 0 {
				continue // never active
			}
		}
		for i := range 1 + r.IntN(6) {
			ev := Event{Time: lazyStart.AddDate(0, 0, r.IntN(30)).Add(time.Duration(r.IntN(3600)) * time.Second), Kind: KindSignIn, UserKey: key}
			if i%3 == 1 {
				ev.SignInType = SignInNonInteractiveUser
			}
			evs = append(evs, ev)
		}
		if u%5 == 0 {
			evs = append(evs, Event{Time: lazyStart.AddDate(0, 0, 5+r.IntN(25)), Kind: KindUserDeleted, UserKey: key})
		}
	}
	return evs
}

// lazyFixture returns an engine fed lazyEvents, and a store that another
// engine fed them and closed: reopened, a writer that has not decoded its
// users. The engine is closed at the end of t.
func lazyFixture(t *testing.T) (*Engine, store.Store) {
	t.Helper()
	ctx := context.Background()
	evs := lazyEvents()
	want, err := Open(ctx, store.NewMemory(), lazyOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { want.Close() })
	if err := want.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	s := store.NewMemory()
	w, err := Open(ctx, s, lazyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return want, s
}

// lazyAnswers lists e's user-level answers: each user metric, the users
// behind some, User of every key, and Stats' user count.
func lazyAnswers(t *testing.T, e *Engine, keys []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	from, to := DateOf(lazyStart, time.UTC), DateOf(lazyStart.AddDate(0, 0, 35), time.UTC)
	metrics := []Query{
		{Metric: ActiveUsers, Granularity: Week},
		{Metric: InactiveUsers, Granularity: Week, Days: 7},
		{Metric: InactiveUsers, Granularity: Week},
		{Metric: NewUsers, Granularity: Week},
		{Metric: ReturningUsers, Granularity: Week},
		{Metric: NeverActiveUsers, Granularity: Week},
		{Metric: TotalUsers, Granularity: Week},
		{Metric: Lifecycle, Granularity: Week},
		{Metric: Retention, Granularity: Week},
	}
	for _, q := range metrics {
		q.From, q.To = from, to
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatal(q.Metric, err)
		}
		fmt.Fprintf(&b, "%s: %v\n", q.Metric, res.Rows)
		c, err := e.Users(ctx, q)
		if err != nil {
			t.Fatal(q.Metric, err)
		}
		for c.Next() {
			u := c.User()
			fmt.Fprintf(&b, "  %v %s %d %s\n", u.Start, u.Series, u.Offset, u.UserKey)
		}
		if c.Err() != nil {
			t.Fatal(c.Err())
		}
	}
	for _, k := range append(keys, "new", "unknown") {
		info, ok, err := e.User(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %t %+v\n", k, ok, info)
	}
	fmt.Fprintf(&b, "users %d\n", e.Stats().Users)
	return b.String()
}

// lazySame returns an error unless e and want answer q alike.
func lazySame(e, want *Engine, q Query) error {
	got, err := e.Query(context.Background(), q)
	if err != nil {
		return err
	}
	exp, err := want.Query(context.Background(), q)
	if err != nil {
		return err
	}
	if fmt.Sprint(got.Rows) != fmt.Sprint(exp.Rows) {
		return fmt.Errorf("%s %s: got %v, want %v", q.Metric, q.Granularity, got.Rows, exp.Rows)
	}
	return nil
}

// lazyDecoded reports whether e decoded the users Open left undecoded;
// it fails t if Open decoded them.
func lazyDecoded(t *testing.T, e *Engine) bool {
	t.Helper()
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.undecoded == nil {
		t.Fatal("Open decoded the users")
	}
	return e.usersReady()
}

func TestLazyUsersAnswerAsDecoded(t *testing.T) {
	ctx := context.Background()
	var keys []string
	for u := range 200 {
		keys = append(keys, fmt.Sprintf("u%03d", u))
	}
	later := lazyStart.AddDate(0, 0, 31)
	ops := []struct {
		name string
		op   func(e *Engine) error
	}{
		{"nothing", func(e *Engine) error { return nil }},
		{"Add of a known user", func(e *Engine) error {
			return e.Add(ctx, Event{Time: later, Kind: KindSignIn, UserKey: "u003"}, Event{Time: lazyStart, Kind: KindSignIn, UserKey: "u014"})
		}},
		{"Add of a new user", func(e *Engine) error { return e.Add(ctx, Event{Time: later, Kind: KindSignIn, UserKey: "new"}) }},
		{"Add of a deletion", func(e *Engine) error {
			return e.Add(ctx, Event{Time: lazyStart, Kind: KindUserDeleted, UserKey: "u001"})
		}},
		{"Erase", func(e *Engine) error {
			for _, k := range []string{"u007", "u010"} { // u010 has a deletion day
				if _, err := e.Erase(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			want, s := lazyFixture(t)
			if err := o.op(want); err != nil {
				t.Fatal(err)
			}
			e, err := Open(ctx, s, lazyOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if lazyDecoded(t, e) {
				t.Fatal("decoded at Open")
			}
			if err := o.op(e); err != nil {
				t.Fatal(err)
			}
			if got, want := lazyAnswers(t, e, keys), lazyAnswers(t, want, keys); got != want {
				t.Errorf("after %s:\n got %s\nwant %s", o.name, got, want)
			}
			if !lazyDecoded(t, e) {
				t.Error("the user-level answers did not decode the users")
			}
		})
	}
}

// TestLazyUsersAggregatesStayUndecoded: active and inactive users, and
// Stats, answer from what Open kept (the deleted users' days); the other
// user metrics, each the first query after Open, decode the users first.
func TestLazyUsersAggregatesStayUndecoded(t *testing.T) {
	ctx := context.Background()
	want, s := lazyFixture(t)
	e, err := Open(ctx, s, lazyOptions())
	if err != nil {
		t.Fatal(err)
	}
	from, to := DateOf(lazyStart, time.UTC), DateOf(lazyStart.AddDate(0, 0, 35), time.UTC)
	for _, q := range []Query{
		{Metric: ActiveUsers, Granularity: Day},
		{Metric: RollingActiveUsers, Granularity: Day, Days: 7},
		{Metric: InactiveUsers, Granularity: Day, Days: 7},
		{Metric: InactiveUsers, Granularity: Week},
		{Metric: InactiveUsers, Granularity: Week, Filter: Eq(DimSignInType, "interactiveUser")},
	} {
		q.From, q.To = from, to
		if err := lazySame(e, want, q); err != nil {
			t.Error(err)
		}
	}
	if got, exp := e.Stats().Users, want.Stats().Users; got != exp {
		t.Errorf("Stats().Users %d, want %d", got, exp)
	}
	if lazyDecoded(t, e) {
		t.Fatal("an aggregate query decoded the users")
	}
	e.Close()
	// Each user metric as the first query after Open.
	for _, m := range []Metric{NewUsers, ReturningUsers, NeverActiveUsers, TotalUsers, Lifecycle, Retention, InactiveUsers} {
		e, err := Open(ctx, s, lazyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if err := lazySame(e, want, Query{Metric: m, Granularity: Week, From: from, To: to}); err != nil {
			t.Errorf("first after Open: %v", err)
		}
		if decoded := lazyDecoded(t, e); decoded != (m != InactiveUsers) {
			t.Errorf("%s first after Open: decoded the users %t", m, decoded)
		}
		e.Close()
	}
}

// TestLazyUsersConcurrentFirstUse: queries that decode the users and
// queries that do not, started together after Open, answer as an engine
// that never reopened (run it under -race: the decoding happens under the
// read lock beside the aggregate queries).
func TestLazyUsersConcurrentFirstUse(t *testing.T) {
	ctx := context.Background()
	want, s := lazyFixture(t)
	from, to := DateOf(lazyStart, time.UTC), DateOf(lazyStart.AddDate(0, 0, 35), time.UTC)
	qs := []Query{
		{Metric: NewUsers, Granularity: Week},
		{Metric: ActiveUsers, Granularity: Day},
		{Metric: InactiveUsers, Granularity: Day, Days: 7},
		{Metric: TotalUsers, Granularity: Week},
		{Metric: InactiveUsers, Granularity: Week},
		{Metric: Retention, Granularity: Week},
	}
	for round := range 3 {
		e, err := Open(ctx, s, lazyOptions())
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, len(qs)+1)
		for _, q := range qs {
			go func() {
				q.From, q.To = from, to
				if err := lazySame(e, want, q); err != nil {
					errs <- fmt.Errorf("round %d: %w", round, err)
					return
				}
				errs <- nil
			}()
		}
		go func() {
			info, ok, err := e.User(ctx, "u010")
			exp, _, _ := want.User(ctx, "u010")
			if err == nil && (!ok || info != exp) {
				err = fmt.Errorf("round %d: User %+v, want %+v", round, info, exp)
			}
			errs <- err
		}()
		for range len(qs) + 1 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		e.Close()
	}
}

// BenchmarkCatalogUsers decodes the catalog of a million users with
// 36-character keys, a tenth of them deleted, as a writer's Open does
// (open), then with its users at their first use (loadUsers, their frame
// read from a memory store; a read-only engine does both at Open); and
// the same catalog as written before frame.CatalogVersion (v2: the users inside,
// read past at Open).
func BenchmarkCatalogUsers(b *testing.B) {
	ctx := context.Background()
	src := millionUsers(b)
	src.mu.Lock()
	cat, uf, v2 := testCatalog(b, src, 1)
	src.mu.Unlock()
	for _, c := range []struct {
		name       string
		cat, users []byte
		load       bool
	}{{"open", cat, uf, false}, {"open+loadUsers", cat, uf, true}, {"v2/open", v2, nil, false}, {"v2/open+loadUsers", v2, nil, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.cat) + len(c.users)))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				e, err := Open(ctx, store.NewMemory(), nil)
				if err != nil {
					b.Fatal(err)
				}
				key := putCatalog(b, e.store, 1, c.cat, c.users)
				b.StartTimer()
				if err := e.decodeCatalog(key, c.cat); err != nil {
					b.Fatal(err)
				}
				if c.load {
					if err := e.loadUsers(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				e.Close()
				b.StartTimer()
			}
		})
	}
}

// millionUsers returns an engine of a million users with 36-character
// keys, a tenth of them deleted, closed at the end of b.
func millionUsers(b *testing.B) *Engine {
	const users = 1_000_000
	e, err := Open(context.Background(), store.NewMemory(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	for u := range users {
		uid := e.userID(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff))
		n := int32(20000 + u%90)
		e.first[uid], e.last[uid], e.joined[uid] = n, n+int32(u%7), n
		if u%10 == 0 {
			e.deleted[uid] = n + 3
		}
	}
	return e
}

// TestLazyUsersStaleSketch: on a writer that has not decoded its users, a
// catalog's day sketch that does not decode is rebuilt from the day's
// exact set by the first approximate query, which hashes the users' keys:
// it decodes them first (it indexed the empty key list, and panicked
// holding the write lock, before), and answers as an engine that had.
func TestLazyUsersStaleSketch(t *testing.T) {
	ctx := context.Background()
	_, s := lazyFixture(t)
	from, to := DateOf(lazyStart, time.UTC), DateOf(lazyStart.AddDate(0, 0, 35), time.UTC)
	q := Query{Metric: ActiveUsers, From: from, To: to, Granularity: Week, Approximate: true}
	var answers [2][]Row
	for i, decodeFirst := range []bool{true, false} {
		e, err := Open(ctx, s, lazyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if decodeFirst {
			if _, err := e.Users(ctx, Query{Metric: NewUsers, From: from, To: to}); err != nil {
				t.Fatal(err)
			}
		} else if lazyDecoded(t, e) {
			t.Fatal("decoded at Open")
		}
		e.mu.Lock()
		for n := range e.sketches.raw {
			e.sketches.raw[n] = []byte{0xff, 0xff, 0xff} // a sketch that does not decode
		}
		e.mu.Unlock()
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 0 {
			t.Fatal("no rows")
		}
		answers[i] = res.Rows
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(answers[0], answers[1]) {
		t.Errorf("users decoded first: %v; decoded by the rebuild: %v", answers[0], answers[1])
	}
}
