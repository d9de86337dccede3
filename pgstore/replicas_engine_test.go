package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/internal/replicatest"
	"github.com/insightslab/insights/pgstore"
	"github.com/insightslab/insights/store"
)

// Three replicas on one schema add the stream of engBatch concurrently,
// every fourth batch sent to two of them (a client retrying at another
// replica: the same request ids); checkpoints are small and the lease
// short, so that it passes between replicas; one replica (the first
// lease holder, mostly) dies (its store
// fails every call from then on, and it is dropped, not closed) and is
// replaced by a new one, and a fourth starts at the end. Every replica
// then answers, by its own polling and after a Refresh, as an engine on
// Memory fed each batch once, and as brute force over the batches:
// every event once in the event log, the authentications per day, and
// AddCount's counts adding up to the events.

// errDead is what a dead replica's store returns.
var errDead = errors.New("test: the replica's process is dead")

// dyingStore is a pgstore.Store whose every call fails once its replica
// is dead.
type dyingStore struct {
	*pgstore.Store
	dead atomic.Bool
}

func (d *dyingStore) alive() error {
	if d.dead.Load() {
		return errDead
	}
	return nil
}

func (d *dyingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := d.alive(); err != nil {
		return nil, err
	}
	return d.Store.Get(ctx, key)
}

func (d *dyingStore) Put(ctx context.Context, key string, value []byte) error {
	if err := d.alive(); err != nil {
		return err
	}
	return d.Store.Put(ctx, key, value)
}

func (d *dyingStore) Delete(ctx context.Context, key string) error {
	if err := d.alive(); err != nil {
		return err
	}
	return d.Store.Delete(ctx, key)
}

func (d *dyingStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := d.alive(); err != nil {
		return nil, err
	}
	return d.Store.List(ctx, prefix)
}

func (d *dyingStore) Create(ctx context.Context, key string, value []byte) error {
	if err := d.alive(); err != nil {
		return err
	}
	return d.Store.Create(ctx, key, value)
}

func (d *dyingStore) TakeLease(ctx context.Context, holder string, ttl time.Duration, above uint64) (uint64, error) {
	if err := d.alive(); err != nil {
		return 0, err
	}
	return d.Store.TakeLease(ctx, holder, ttl, above)
}

func (d *dyingStore) PutLeased(ctx context.Context, holder, key string, value []byte, ttl time.Duration) error {
	if err := d.alive(); err != nil {
		return err
	}
	return d.Store.PutLeased(ctx, holder, key, value, ttl)
}

// replicaOptions checkpoint every 4 KiB of log, pass the lease on after
// ttl and poll every 20 ms.
func replicaOptions(ttl time.Duration) *insights.Options {
	return &insights.Options{Now: engClock, Replica: true, CheckpointBytes: 4 << 10,
		LeaseTTL: ttl, RefreshInterval: 20 * time.Millisecond}
}

// replicaBatches are the batches replica r of n sends: batch b goes to
// replica b%n, and every fourth also to the next replica.
func replicaBatches(r, n int) []int {
	var mine []int
	for b := range engBatches {
		if b%n == r || b%4 == 0 && (b+1)%n == r {
			mine = append(mine, b)
		}
	}
	return mine
}

// replicaAnswers is what the test compares: every metric by day and by
// month, and every entry of the event log (time, user, request id,
// kind), sorted.
func replicaAnswers(ctx context.Context, e *insights.Engine) (string, error) {
	var b strings.Builder
	for _, m := range insights.Metrics() {
		for _, g := range []insights.Granularity{insights.Day, insights.Month} {
			res, err := e.Query(ctx, insights.Query{Metric: m, From: insights.NewDate(2025, time.January, 1),
				To: insights.NewDate(2025, time.January, 1+engDays), Granularity: g, Days: 7})
			if err != nil {
				return "", fmt.Errorf("%s %s: %w", m, g, err)
			}
			fmt.Fprintf(&b, "%s %s %v\n", m, g, res.Rows)
		}
	}
	entries, err := replicatest.LogEntries(ctx, e)
	if err != nil {
		return "", err
	}
	fmt.Fprintln(&b, strings.Join(entries, "\n"))
	return b.String(), nil
}

// bruteForce checks e against the events of batches [0, n), each once:
// the event log holds each exactly once, and the authentications per day
// (attempts, successes, failures) are theirs.
func bruteForce(t *testing.T, ctx context.Context, name string, e *insights.Engine, n int) {
	t.Helper()
	var want []string
	auth := map[string]float64{} // "<day> <series>"
	for b := range n {
		for _, ev := range engBatch(b) {
			want = append(want, fmt.Sprintf("%s|%d|%s|%s", ev.RequestID, ev.Time.UnixNano(), ev.UserKey, ev.Kind))
			if ev.Kind != insights.KindSignIn {
				continue
			}
			day := insights.NewDate(ev.Time.Year(), ev.Time.Month(), ev.Time.Day()).String()
			auth[day+" attempts"]++
			if ev.ErrorCode == 0 {
				auth[day+" successes"]++
			} else {
				auth[day+" failures"]++
			}
		}
	}
	slices.Sort(want)
	got, err := replicatest.LogEntries(ctx, e)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the event log holds %d entries, want each of the %d events once", name, len(got), len(want))
	}
	res, err := e.Query(ctx, insights.Query{Metric: insights.Authentications, From: insights.NewDate(2025, time.January, 1),
		To: insights.NewDate(2025, time.January, 1+engDays)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	gotAuth := map[string]float64{}
	for _, r := range res.Rows {
		if r.Value != 0 {
			gotAuth[r.Start.String()+" "+r.Series] = r.Value
		}
	}
	if fmt.Sprint(gotAuth) != fmt.Sprint(auth) {
		t.Fatalf("%s: authentications\n got %v\nwant %v", name, gotAuth, auth)
	}
}

// The lease lasts 300 ms, so that the first replica to take it keeps
// it, and dies with it, or 1 ms, so that every replica checkpoints and
// many lose the lease before they commit.
func TestReplicasOnPostgres(t *testing.T) {
	for _, ttl := range []time.Duration{300 * time.Millisecond, time.Millisecond} {
		t.Run(ttl.String(), func(t *testing.T) { testReplicas(t, ttl) })
	}
}

func testReplicas(t *testing.T, ttl time.Duration) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	want := refAnswers(t, engBatches)

	open := func() (*insights.Engine, *dyingStore, error) {
		s := &dyingStore{Store: pgstore.New(pool, schema)}
		e, err := insights.Open(ctx, s, replicaOptions(ttl))
		return e, s, err
	}
	const n = 3
	var reps [n]*insights.Engine
	var stores [n]*dyingStore
	var mu sync.Mutex // guards dropped and reps[0], replaced
	for r := range reps {
		var err error
		if reps[r], stores[r], err = open(); err != nil {
			t.Fatal(err)
		}
	}
	var dropped *insights.Engine
	defer func() {
		for _, e := range reps {
			if err := e.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		if dropped != nil {
			_ = dropped.Close() // stops its polling; its store is dead
		}
	}()

	var added, sent atomic.Int64
	var wg sync.WaitGroup
	for r := range n {
		mine := replicaBatches(r, n)
		wg.Go(func() {
			e, s := reps[r], stores[r]
			for i, b := range mine {
				if r == 0 && i == len(mine)/2 {
					// The replica dies between two Adds, perhaps holding the
					// lease or checkpointing; a new one takes its place.
					mu.Lock()
					dropped = e
					mu.Unlock()
					s.dead.Store(true)
					var err error
					if e, s, err = open(); err != nil {
						t.Errorf("replica %d: reopening: %v", r, err)
						return
					}
					mu.Lock()
					reps[r] = e
					mu.Unlock()
				}
				k, err := e.AddCount(ctx, engBatch(b)...)
				if err != nil {
					t.Errorf("replica %d: batch %d: %v", r, b, err)
					return
				}
				added.Add(int64(k))
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	late, _, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	all := append(reps[:], late)

	events := 0
	for b := range engBatches {
		events += len(engBatch(b))
	}
	if added.Load() != int64(events) {
		t.Errorf("the replicas' AddCounts add up to %d, want the %d events of the %d batches (%d sent)", added.Load(), events, engBatches, sent.Load())
	}

	for i, e := range all {
		checkReplica(t, ctx, fmt.Sprintf("replica %d", i), e, want)
	}
	for i, e := range all {
		st := e.Stats()
		t.Logf("replica %d: %d checkpoints, %d failed, %d background refreshes failed", i, st.Checkpoints, st.CheckpointFailures, st.RefreshFailures)
	}
	if rec := late.Recovery(); rec.Checkpoint == 0 {
		t.Errorf("the late replica found no checkpoint: %+v", rec)
	}
}

// refAnswers are the replicaAnswers of an engine on Memory fed batches
// [0, n) once each.
func refAnswers(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	ref, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: engClock})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for b := range n {
		if err := ref.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
	}
	want, err := replicaAnswers(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// checkReplica waits until polling alone brings e to answer want (for
// at most 20 s), then refreshes it and checks its answers again, and
// against brute force.
func checkReplica(t *testing.T, ctx context.Context, name string, e *insights.Engine, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := replicaAnswers(ctx, e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has not answered as the reference within 20 s of polling:\n%s", name, replicatest.FirstDiff(got, want))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatalf("%s: Refresh: %v", name, err)
	}
	got, err := replicaAnswers(ctx, e)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got != want {
		t.Fatalf("%s after Refresh:\n%s", name, replicatest.FirstDiff(got, want))
	}
	bruteForce(t, ctx, name, e, engBatches)
}

// A replica checkpoints what the store holds, not only what it applied:
// one that never refreshed, taking the lease after another committed a
// checkpoint and deleted the log it covers, writes a checkpoint that
// holds the other's events. A replica that cannot take the lease has
// Flush fail with store.ErrLeaseHeld, and Close succeed; the holder's
// Close releases it.
func TestReplicaCheckpointCatchesUp(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	open := func(ttl time.Duration) *insights.Engine {
		t.Helper()
		o := replicaOptions(ttl)
		o.RefreshInterval = -1
		e, err := insights.Open(ctx, pgstore.New(pool, schema), o)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	const n = 20
	behind, ahead := open(time.Nanosecond), open(time.Nanosecond)
	for b := range n {
		if err := ahead.Add(ctx, engBatch(b)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := ahead.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := behind.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(ahead.Close(), behind.Close()); err != nil {
		t.Fatal(err)
	}
	holder, other := open(time.Hour), open(time.Hour)
	defer other.Close()
	if err := holder.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Flush(ctx); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("Flush while another replica holds the lease = %v, want ErrLeaseHeld", err)
	}
	want := refAnswers(t, n)
	for i, e := range []*insights.Engine{holder, other} {
		got, err := replicaAnswers(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("replica %d opened after the checkpoints:\n%s", i, replicatest.FirstDiff(got, want))
		}
		bruteForce(t, ctx, fmt.Sprintf("replica %d", i), e, n)
	}
	// The holder's Close releases the lease: the other takes it at once.
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Flush(ctx); err != nil {
		t.Fatalf("Flush after the holder's Close: %v", err)
	}
}

// lostReplyStore is a pgstore.Store whose Creates of the keys in lost
// are committed but reported failed, as when the connection drops before
// the server's reply.
type lostReplyStore struct {
	*pgstore.Store
	lost map[string]bool
}

func (s *lostReplyStore) Create(ctx context.Context, key string, value []byte) error {
	if err := s.Store.Create(ctx, key, value); err != nil || !s.lost[key] {
		return err
	}
	return errors.New("test: the connection dropped before the reply")
}

// A batch whose log record was committed but whose Add failed (the reply
// lost) is not deleted: every replica applies it, the one that added it
// too, once it meets the record; the answers are those of every batch.
func TestReplicaLostReply(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	o := replicaOptions(time.Hour)
	o.RefreshInterval = -1
	a, err := insights.Open(ctx, &lostReplyStore{Store: pgstore.New(pool, schema), lost: map[string]bool{"wal/0000000000000001": true}}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := insights.Open(ctx, pgstore.New(pool, schema), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 10
	for i := range n {
		err := a.Add(ctx, engBatch(i)...)
		if (err != nil) != (i == 1) {
			t.Fatalf("Add of batch %d: %v", i, err)
		}
	}
	want := refAnswers(t, n)
	for i, e := range []*insights.Engine{a, b} {
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := replicaAnswers(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("replica %d:\n%s", i, replicatest.FirstDiff(got, want))
		}
	}
}
