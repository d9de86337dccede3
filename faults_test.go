package insights_test

// Durability tests, part 2: faults injected under a directory store
// (internal/faultfs, plus a hook for the manifest's own rename and fsync):
// failing creates, writes, fsyncs, renames, directory fsyncs and a full
// disk, in the log write of an Add, in a checkpoint of Flush, and in an
// automatic checkpoint. Each must surface as an error from Add or Flush
// (the automatic checkpoint's excepted: its Add is durable, see
// TestFaultInAutomaticCheckpoint), lose nothing acknowledged before it,
// leave nothing a reopened engine reads as corrupt, and leave the engine
// working once the fault is gone.
//
// After a fault the directory is checked twice: at once, through a copy of
// it (what a crash at that moment would leave), and at the end, by
// reopening it with a new DirStore once the failed engine's is closed.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/internal/faultfs"
	"github.com/insightslab/insights/store"
)

// durFaulty is an engine on a directory store whose file system fails on
// demand, with the batches it acknowledged.
type durFaulty struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	ffs   *faultfs.FS
	ds    *store.DirStore
	e     *insights.Engine
	opts  *insights.Options
	g     *durGen
	acked map[int]bool // Add returned nil
	maybe map[int]bool // Add failed: wholly present or absent after a reopen
	next  int          // the next batch to add

	mu      sync.Mutex
	hook    func(op, name string) error // extra faults by name, nil for none
	written int                         // bytes written through the FS
}

func durFaultGen(seed uint64) *durGen {
	return &durGen{
		seed:    seed,
		prefix:  "user-",
		batches: func(int) int { return 1000 },
		focus:   func(_, b int) int { return min(b, durDays-3) },
		// From batch 20 on, the scenarios' batches after the set-up are late
		// events without request ids, for the days the set-up checkpointed.
		late: func(_, b int) bool { return b >= 20 },
	}
}

func newDurFaulty(t *testing.T, checkpointBytes int) *durFaulty {
	t.Helper()
	f := &durFaulty{t: t, ctx: context.Background(), dir: filepath.Join(t.TempDir(), "store"),
		ffs: faultfs.New(store.OSFS()), opts: &insights.Options{Now: durClock, CheckpointBytes: checkpointBytes},
		g: durFaultGen(7), acked: map[int]bool{}, maybe: map[int]bool{}}
	var err error
	f.ds, err = store.Dir(f.dir, &store.DirOptions{FS: &durHookFS{FS: f.ffs, hook: f.onOp}})
	if err != nil {
		t.Fatal(err)
	}
	if f.e, err = insights.Open(f.ctx, f.ds, f.opts); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *durFaulty) onOp(op, name string, size int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written += size
	if f.hook != nil {
		return f.hook(op, name)
	}
	return nil
}

func (f *durFaulty) setHook(h func(op, name string) error) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// add adds the next batch and records its fate.
func (f *durFaulty) add() error {
	b := f.next
	f.next++
	err := f.e.Add(f.ctx, f.g.events(0, b)...)
	if err != nil {
		f.maybe[b] = true
	} else {
		f.acked[b] = true
	}
	return err
}

func (f *durFaulty) mustAdd(n int) {
	f.t.Helper()
	for range n {
		if err := f.add(); err != nil {
			f.t.Fatalf("Add batch %d: %v", f.next-1, err)
		}
	}
}

// durVerify checks that e holds every batch of acked exactly once, any of
// maybe, no other, and answers as the oracle over the batches it holds.
func durVerify(ctx context.Context, e *insights.Engine, g *durGen, acked, maybe map[int]bool) error {
	held, err := durHeld(ctx, e, acked, maybe)
	if err != nil {
		return err
	}
	o := newDurOracle()
	for _, b := range held {
		o.add(g.batch(0, b)...)
	}
	return durCheck(ctx, e, o)
}

// durHeld returns the batches of run 0 that e holds, ascending, checking
// that they are every batch of acked, once each, and some of maybe.
func durHeld(ctx context.Context, e *insights.Engine, acked, maybe map[int]bool) ([]int, error) {
	markers, err := durMarkers(ctx, e)
	if err != nil {
		return nil, err
	}
	var held []int
	for m, n := range markers {
		var r, b int
		if _, err := fmt.Sscanf(m, "m-%d-%d", &r, &b); err != nil || r != 0 || !acked[b] && !maybe[b] {
			return nil, fmt.Errorf("holds batch %s, which was never added or not acknowledged", m)
		}
		if n != 1 {
			return nil, fmt.Errorf("batch %s applied %v times", m, n)
		}
		held = append(held, b)
	}
	for b := range acked {
		if markers[durMarker(0, b)] == 0 {
			return nil, fmt.Errorf("acknowledged batch %d is lost", b)
		}
	}
	slices.Sort(held)
	return held, nil
}

// checkEngine checks the engine in memory: a failed Add applied nothing,
// unless its log record reached the store (checkCopy checks that the
// engine holds what the store does).
func (f *durFaulty) checkEngine(when string) {
	f.t.Helper()
	if err := durVerify(f.ctx, f.e, f.g, f.acked, f.maybe); err != nil {
		f.t.Fatalf("%s: the engine: %v", when, err)
	}
}

// checkCopy checks what a crash now would leave: a copy of the directory,
// taken once no checkpoint runs (a file-by-file copy of a directory a
// checkpoint writes and deletes in is no state a crash could leave).
func (f *durFaulty) checkCopy(when string) {
	f.t.Helper()
	insights.AwaitCheckpoint(f.e)
	dst := filepath.Join(f.t.TempDir(), "copy")
	if err := durCopyDir(f.dir, dst); err != nil {
		f.t.Fatal(err)
	}
	stored := durCheckDir(f.t, when+": a copy of the directory", dst, f.opts, f.g, f.acked, f.maybe)
	held, err := durHeld(f.ctx, f.e, f.acked, f.maybe)
	if err != nil {
		f.t.Fatalf("%s: the engine: %v", when, err)
	}
	if !slices.Equal(held, stored) {
		f.t.Fatalf("%s: the engine holds batches %v, the store %v", when, held, stored)
	}
}

// reopen drops the engine, closes its DirStore, and checks the directory
// through a new one.
func (f *durFaulty) reopen(when string) {
	f.t.Helper()
	f.e = nil
	if err := f.ds.Close(); err != nil {
		f.t.Fatal(err)
	}
	durCheckDir(f.t, when+": reopened", f.dir, f.opts, f.g, f.acked, f.maybe)
}

// durCheckDir checks the store in dir, opened, and returns the batches it
// holds.
func durCheckDir(t *testing.T, what, dir string, opts *insights.Options, g *durGen, acked, maybe map[int]bool) []int {
	t.Helper()
	ctx := context.Background()
	ds, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatalf("%s: store.Dir: %v", what, err)
	}
	defer ds.Close()
	e, err := insights.Open(ctx, ds, opts)
	if err != nil {
		t.Fatalf("%s: Open: %v (corrupt: %t)", what, err, errors.Is(err, insights.ErrCorrupt))
	}
	if err := durVerify(ctx, e, g, acked, maybe); err != nil {
		t.Fatalf("%s: %v\nrecovery %+v", what, err, e.Recovery())
	}
	held, err := durHeld(ctx, e, acked, maybe)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return held
}

// durCopyDir copies the regular files and directories below src to dst.
func durCopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o700)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o600)
		}
		return nil
	})
}

// durInjected reports whether err comes from an injected fault.
func durInjected(err error) bool {
	return errors.Is(err, faultfs.ErrInjected) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, errDurHook)
}

var errDurHook = errors.New("durability test: injected by name")

// durFailManifest returns a hook failing the manifest's rename, or the
// directory fsync that follows it (the new manifest is then in place).
func durFailManifest(dir string, dirSync bool) func(op, name string) error {
	renamed := false
	return func(op, name string) error {
		switch {
		case op == "rename" && filepath.Base(name) == "MANIFEST":
			if !dirSync {
				return errDurHook
			}
			renamed = true
		case op == "dirsync" && renamed && name == dir:
			renamed = false
			return errDurHook
		}
		return nil
	}
}

var durOps = []faultfs.Op{faultfs.Create, faultfs.Write, faultfs.Sync, faultfs.Rename, faultfs.DirSync}

// durSetUp is the state every scenario starts from: a checkpoint, then
// more batches (late events included) in the log only.
func durSetUp(t *testing.T, checkpointBytes int) *durFaulty {
	f := newDurFaulty(t, checkpointBytes)
	f.mustAdd(10)
	if err := f.e.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.mustAdd(10)
	return f
}

// durPoints returns up to five spread points among 1..n; under the race
// detector three (the first, the middle and the last), and the README's
// second command runs all five without it.
func durPoints(n int) []int {
	points := []int{1, 2, (n + 1) / 2, n - 1, n}
	if insights.RaceEnabled {
		points = []int{1, (n + 1) / 2, n}
	}
	var ps []int
	for _, p := range points {
		if p >= 1 && p <= n && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestFaultInLogWrite(t *testing.T) {
	t.Parallel()
	type fault struct {
		name   string
		inject func(f *durFaulty)
	}
	var faults []fault
	for _, op := range append([]faultfs.Op{faultfs.Mkdir}, durOps...) {
		faults = append(faults, fault{"failing " + op.String(), func(f *durFaulty) { f.ffs.FailAt(op, 1) }})
	}
	for _, n := range []int64{0, 100} {
		faults = append(faults, fault{fmt.Sprintf("full disk, %d bytes free", n), func(f *durFaulty) { f.ffs.LimitSpace(n) }})
	}
	for _, point := range []string{"first write to a new store", "in the log", "after a checkpoint"} {
		for _, fl := range faults {
			if fl.name == "failing mkdir" && point != "first write to a new store" {
				continue // directories exist by then
			}
			t.Run(point+"/"+fl.name, func(t *testing.T) {
				f := newDurFaulty(t, 1<<30)
				switch point {
				case "in the log":
					f.mustAdd(10)
				case "after a checkpoint":
					f.mustAdd(10)
					if err := f.e.Flush(f.ctx); err != nil {
						t.Fatal(err)
					}
					f.mustAdd(1)
				}
				fl.inject(f)
				err := f.add()
				for _, op := range append(durOps, faultfs.Mkdir) {
					f.ffs.FailAt(op, 0)
				}
				f.ffs.LimitSpace(-1)
				if err == nil {
					t.Fatalf("Add succeeded despite the fault")
				}
				if !durInjected(err) {
					t.Errorf("Add's error does not wrap the injected fault: %v", err)
				}
				f.checkEngine("after the failed Add")
				f.checkCopy("after the failed Add")
				// The fault is gone: the engine keeps working.
				if err := f.add(); err != nil {
					t.Fatalf("Add after the fault: %v", err)
				}
				f.mustAdd(2)
				f.checkEngine("after more Adds")
				f.reopen("after more Adds")
			})
		}
	}
}

// TestFaultInConcurrentLogWrite fails the log write of a group commit: every
// Add of the group fails, and nothing of them is applied.
func TestFaultInConcurrentLogWrite(t *testing.T) {
	f := newDurFaulty(t, 1<<30)
	f.mustAdd(5)
	for round := range 3 {
		f.ffs.FailAt([]faultfs.Op{faultfs.Write, faultfs.Sync, faultfs.DirSync}[round], 1)
		first := f.next
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.e.Add(f.ctx, f.g.events(0, first+i)...)
			}()
		}
		wg.Wait()
		failed := 0
		for i, err := range errs {
			if err != nil {
				failed++
				f.maybe[first+i] = true
				if !durInjected(err) {
					t.Errorf("Add's error does not wrap the injected fault: %v", err)
				}
			} else {
				f.acked[first+i] = true
			}
		}
		f.next += len(errs)
		if failed == 0 {
			t.Errorf("round %d: no Add failed", round)
		}
		f.checkEngine(fmt.Sprintf("round %d", round))
		f.checkCopy(fmt.Sprintf("round %d", round))
		f.mustAdd(1)
	}
	f.reopen("after the rounds")
}

// TestFaultInFlush fails each kind of file operation at spread points of a
// checkpoint written by Flush, and fills the disk part-way through it.
// The engine goes on: one more Add, then a second checkpoint whose
// manifest's rename fails (every other file of it is written), or its
// catalog's, one more Add, and the directory must still hold exactly what
// was acknowledged.
func TestFaultInFlush(t *testing.T) {
	t.Parallel()
	// A run without faults counts the operations and bytes of the Flush.
	twin := durSetUp(t, 1<<30)
	var before [7]int
	for _, op := range durOps {
		before[op] = twin.ffs.Count(op)
	}
	twin.mu.Lock()
	written := twin.written
	twin.mu.Unlock()
	if err := twin.e.Flush(twin.ctx); err != nil {
		t.Fatal(err)
	}
	twin.mu.Lock()
	written = twin.written - written
	twin.mu.Unlock()

	type fault struct {
		name   string
		inject func(f *durFaulty)
	}
	var faults []fault
	for _, op := range durOps {
		n := twin.ffs.Count(op) - before[op]
		for _, k := range durPoints(n) {
			faults = append(faults, fault{fmt.Sprintf("failing %s %d of %d", op, k, n), func(f *durFaulty) { f.ffs.FailAt(op, k) }})
		}
	}
	faults = append(faults,
		fault{"failing the first remove after the commit", func(f *durFaulty) { f.ffs.FailAt(faultfs.Remove, 1) }},
		fault{"failing the manifest's rename", func(f *durFaulty) { f.setHook(durFailManifest(f.dir, false)) }},
		fault{"failing the directory fsync after the manifest's rename", func(f *durFaulty) { f.setHook(durFailManifest(f.dir, true)) }},
	)
	for _, n := range []int{0, written / 3, written * 2 / 3, written - 1} {
		faults = append(faults, fault{fmt.Sprintf("full disk, %d of %d bytes free", n, written), func(f *durFaulty) { f.ffs.LimitSpace(int64(n)) }})
	}
	t.Logf("a clean Flush writes %d bytes", written)

	// The second fault is the manifest's rename; after a first fault that
	// left a new manifest in place, also the catalog's rename (the segments
	// of the second checkpoint are written, not its catalog).
	type second struct {
		name string
		hook func(f *durFaulty) func(op, name string) error
	}
	manifestRename := second{"its manifest's rename", func(f *durFaulty) func(op, name string) error {
		return durFailManifest(f.dir, false)
	}}
	catalogRename := second{"its catalog's rename", func(f *durFaulty) func(op, name string) error {
		return func(op, name string) error {
			if op == "rename" && filepath.Base(filepath.Dir(name)) == "catalog" {
				return errDurHook
			}
			return nil
		}
	}}
	type scenario struct {
		first  fault
		second second
	}
	var scenarios []scenario
	for _, fl := range faults {
		scenarios = append(scenarios, scenario{fl, manifestRename})
		if fl.name == "failing the directory fsync after the manifest's rename" {
			scenarios = append(scenarios, scenario{fl, catalogRename})
		}
	}
	for _, sc := range scenarios {
		fl := sc.first
		t.Run(fl.name+", then "+sc.second.name, func(t *testing.T) {
			f := durSetUp(t, 1<<30)
			fl.inject(f)
			err := f.e.Flush(f.ctx)
			f.setHook(nil)
			for _, op := range append(durOps, faultfs.Remove) {
				f.ffs.FailAt(op, 0)
			}
			f.ffs.LimitSpace(-1)
			if err == nil {
				t.Fatalf("Flush succeeded despite the fault")
			}
			if !durInjected(err) {
				t.Errorf("Flush's error does not wrap the injected fault: %v", err)
			}
			f.checkEngine("after the failed Flush")
			f.checkCopy("after the failed Flush")

			// The fault is gone: the engine keeps working.
			if err := f.add(); err != nil {
				t.Fatalf("Add after the failed Flush: %v", err)
			}
			f.checkEngine("after an Add")
			f.checkCopy("after an Add")

			// A second checkpoint fails before its commit.
			f.setHook(sc.second.hook(f))
			err = f.e.Flush(f.ctx)
			f.setHook(nil)
			if err == nil {
				t.Fatalf("second Flush succeeded despite the fault")
			}
			f.checkEngine("after the second failed Flush")
			f.checkCopy("after the second failed Flush")
			f.mustAdd(1)
			f.reopen("at the end")
		})
	}
}

// TestFaultInAutomaticCheckpoint fails the checkpoint an Add starts when
// the log passes CheckpointBytes (here every Add). The batch is durable
// before the checkpoint starts, so such an Add may succeed; whatever it
// returns, nothing acknowledged may be lost and the next checkpoints work.
func TestFaultInAutomaticCheckpoint(t *testing.T) {
	t.Parallel()
	type fault struct {
		name   string
		inject func(f *durFaulty)
	}
	var faults []fault
	for _, op := range []faultfs.Op{faultfs.Write, faultfs.Sync, faultfs.Rename, faultfs.DirSync} {
		faults = append(faults, fault{fmt.Sprintf("failing %s 2", op), func(f *durFaulty) { f.ffs.FailAt(op, 2) }})
	}
	faults = append(faults,
		fault{"failing the manifest's rename", func(f *durFaulty) { f.setHook(durFailManifest(f.dir, false)) }},
		fault{"failing the directory fsync after the manifest's rename", func(f *durFaulty) { f.setHook(durFailManifest(f.dir, true)) }},
	)
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			f := durSetUp(t, 1)
			fl.inject(f)
			err := f.add()
			insights.AwaitCheckpoint(f.e) // the checkpoint the Add started, in the background
			f.setHook(nil)
			for _, op := range durOps {
				f.ffs.FailAt(op, 0)
			}
			t.Logf("Add whose checkpoint failed: %v", err)
			f.checkEngine("after the failed checkpoint")
			f.checkCopy("after the failed checkpoint")
			f.mustAdd(2)
			f.checkEngine("after more Adds")
			if err := f.e.Flush(f.ctx); err != nil {
				t.Fatalf("Flush after the fault: %v", err)
			}
			f.reopen("after a Flush")
		})
	}
}

// A log record's Put that fails after writing (the directory's fsync after
// the rename) leaves the record in the store, where a follower reads it
// before the writer's Add returns. The writer reads it back and applies it
// too, and gives the next group the next sequence: writer, follower and
// the store then hold the same batches (review F1: the writer used to
// delete the record and write the next group under its sequence, which
// the follower, past it, never read).
func TestFailedLogPutThatStoredIsApplied(t *testing.T) {
	f := newDurFaulty(t, 1<<30)
	f.mustAdd(5)
	fs, err := store.Dir(f.dir, &store.DirOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	fl, err := insights.Open(f.ctx, fs, &insights.Options{Now: durClock, Follow: true, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	var refreshErr error
	f.setHook(func(op, name string) error {
		if op != "dirsync" || filepath.Base(name) != "wal" {
			return nil
		}
		f.hook = nil // f.mu is held: clear it directly, once
		refreshErr = fl.Refresh(f.ctx)
		return errDurHook
	})
	if err := f.add(); !durInjected(err) {
		t.Fatalf("Add with the log's directory fsync failing = %v, want the injected fault", err)
	}
	if refreshErr != nil {
		t.Fatal(refreshErr)
	}
	f.mustAdd(2)
	if err := fl.Refresh(f.ctx); err != nil {
		t.Fatal(err)
	}
	writer, err := durHeld(f.ctx, f.e, f.acked, f.maybe)
	if err != nil {
		t.Fatalf("the writer: %v", err)
	}
	follower, err := durHeld(f.ctx, fl, f.acked, f.maybe)
	if err != nil {
		t.Fatalf("the follower: %v", err)
	}
	if !slices.Equal(writer, follower) || len(writer) != 8 {
		t.Fatalf("the writer holds batches %v, the follower %v; want the 8 added, the failed one included", writer, follower)
	}
	f.checkCopy("after the failed Add")
}
