package pgstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/pgstore"
)

// Three replica processes add the stream of TestReplicasOnPostgres to one
// schema (every fourth batch through two of them), while the test kills
// one with SIGKILL at random moments and starts it again, resending from
// its first batch not acknowledged: every other kill, the lease holder
// (the process that last said it committed a checkpoint), during a
// checkpoint when it says one is running within two seconds; the others
// a random one (checkpoints run every 4 KiB of log, the lease lasts 200
// ms). The test logs each kill and fails if none hit the holder. A replica in the test's own process polls
// throughout. Once every batch is acknowledged, it and a replica opened
// then answer, within 20 s of polling, as an engine fed every batch once,
// and as brute force: nothing acknowledged lost, nothing counted twice.
// Each replica process, once done, compares its own answers with that
// engine's every 50 ms and says when they are equal: the test logs how
// long after the last acknowledgement (anywhere) each did, and with
// -replicas.strict fails if that is over a second (SPEC §12). Timings are
// not asserted by default: the host is shared.

var replicaStrict = flag.Bool("replicas.strict", false, "TestReplicasKilled: fail if a replica process answers with everything acknowledged more than 1 s after the last acknowledgement")

var replicaKills = flag.Int("replicas.kills", 4, "TestReplicasKilled: SIGKILLs delivered to the replica processes, at most (the stream lasts a few seconds: about 25 fit)")

// replicaChildEnv holds "<schema>|<replica>|<first batch index>|<hash of
// the reference answers>" in a replica process of TestReplicasKilled.
const replicaChildEnv = "INSIGHTS_TEST_REPLICA_CHILD"

const killReplicas = 3

// TestReplicaChild is a replica process of TestReplicasKilled; it does
// nothing unless started by it. It says "ack <i>" once Add of its i-th
// batch returned nil, "done" after the last; then it polls its answers
// until they equal the reference's, says "equal <Unix ns>" and exits
// without Close.
func TestReplicaChild(t *testing.T) {
	spec := os.Getenv(replicaChildEnv)
	if spec == "" {
		t.Skip("a replica process of TestReplicasKilled")
	}
	say := func(format string, args ...any) { os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n") }
	fail := func(format string, args ...any) {
		say("error "+format, args...)
		os.Exit(3)
	}
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		fail("bad spec %q", spec)
	}
	r, err1 := strconv.Atoi(parts[1])
	from, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		fail("bad spec %q", spec)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(addressEnv))
	if err != nil {
		fail("%v", err)
	}
	e, err := insights.Open(ctx, pgstore.New(pool, parts[0]), replicaOptions(200*time.Millisecond))
	if err != nil {
		fail("Open: %v", err)
	}
	go func() { // "holder" when it commits a checkpoint, "checkpointing" while it writes one
		var commits uint64
		for {
			st := e.Stats()
			if st.Checkpoints > commits {
				commits = st.Checkpoints
				say("holder")
			}
			if st.CheckpointRunning && commits > 0 {
				say("checkpointing")
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	mine := replicaBatches(r, killReplicas)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	for i := from; i < len(mine); i++ {
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond) // room for kills between and during Adds
		if err := e.Add(ctx, engBatch(mine[i])...); err != nil {
			fail("batch %d: %v", mine[i], err)
		}
		say("ack %d", i)
	}
	say("done")
	for {
		got, err := replicaAnswers(ctx, e)
		if err != nil {
			fail("answers: %v", err)
		}
		if answersHash(got) == parts[3] {
			say("equal %d", time.Now().UnixNano())
			os.Exit(0)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answersHash is what a replica process compares its answers by.
func answersHash(answers string) string {
	h := sha256.Sum256([]byte(answers))
	return hex.EncodeToString(h[:])
}

// killChild is a replica process and what it said.
type killChild struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	exited  chan struct{} // closed once its output ended
	mu      sync.Mutex
	acked   int       // batches acknowledged, in order
	lastAck time.Time // when it said its last "ack"
	done    bool      // said "done"
	equal   time.Time // when it said its answers were the reference's
	holder  time.Time // when it last said it committed a checkpoint
	ckpt    time.Time // when it last said a checkpoint was running
	err     string    // said "error …"
}

func startReplica(t *testing.T, schema, wantHash string, r, from int) *killChild {
	t.Helper()
	c := &killChild{acked: from, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1", "-test.timeout=5m")
	c.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d|%s", replicaChildEnv, schema, r, from, wantHash))
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			switch {
			case strings.HasPrefix(line, "ack "):
				if i, err := strconv.Atoi(line[4:]); err == nil && i == c.acked {
					c.acked++
					c.lastAck = time.Now()
				} else {
					c.err = "out of order: " + line
				}
			case line == "done":
				c.done = true
			case line == "holder":
				c.holder = time.Now()
			case line == "checkpointing":
				c.ckpt = time.Now()
			case strings.HasPrefix(line, "equal "):
				if ns, err := strconv.ParseInt(line[6:], 10, 64); err == nil {
					c.equal = time.Unix(0, ns)
				} else {
					c.err = "bad line: " + line
				}
			case strings.HasPrefix(line, "error "):
				c.err = line
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// state returns what the child said so far.
func (c *killChild) state() (acked int, done bool, err string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked, c.done, c.err
}

func TestReplicasKilled(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs SIGKILL and subprocesses")
	}
	ctx := context.Background()
	pool := testPool(t)
	schema := newSchema(t, pool)
	want := refAnswers(t, engBatches)
	wantHash := answersHash(want)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d kills", seed, *replicaKills)
	rng := rand.New(rand.NewPCG(seed, 15))

	watcher, err := insights.Open(ctx, pgstore.New(pool, schema), replicaOptions(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	var kids [killReplicas]*killChild
	for r := range kids {
		kids[r] = startReplica(t, schema, wantHash, r, 0)
	}
	defer func() {
		for _, c := range kids {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	}()
	// check fails the test if replica r said an error or exited before
	// "done", or if the race detector reported; stderr is read only once
	// the process has been waited for.
	check := func(r int) (done bool) {
		c := kids[r]
		_, done, cerr := c.state()
		exited := false
		select {
		case <-c.exited:
			exited = true
		default:
		}
		if cerr == "" && !exited {
			return done
		}
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		switch stderr := c.stderr.String(); {
		case cerr != "":
			t.Fatalf("replica %d: %s\nstderr:\n%s", r, cerr, stderr)
		case !done:
			t.Fatalf("replica %d exited before it was done:\n%s", r, stderr)
		case strings.Contains(stderr, "DATA RACE"):
			t.Fatalf("replica %d: the race detector reported:\n%s", r, stderr)
		}
		return done
	}
	kills, holderKills, holderSince := 0, 0, time.Now()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		all := true
		for r := range kids {
			all = check(r) && all
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas have not acknowledged every batch within 3 minutes (%d kills)", kills)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		if kills == *replicaKills {
			continue
		}
		r := rng.IntN(killReplicas)
		why := "at random"
		if kills%2 == 0 {
			h, inCkpt := holderOf(kids[:])
			if h < 0 { // no checkpoint committed yet
				continue
			}
			if !inCkpt && time.Since(holderSince) < 2*time.Second {
				continue // wait for one of its checkpoints
			}
			r, why = h, fmt.Sprintf("the lease holder, in a checkpoint: %t", inCkpt)
			holderKills++
		}
		if _, done, _ := kids[r].state(); done {
			continue
		}
		t.Logf("kill %d: replica %d, %s", kills, r, why)
		holderSince = time.Now()
		c := kids[r]
		_ = c.cmd.Process.Kill() // SIGKILL
		_ = c.cmd.Wait()
		<-c.exited
		acked, _, cerr := c.state()
		if stderr := c.stderr.String(); cerr != "" || strings.Contains(stderr, "DATA RACE") {
			t.Fatalf("replica %d before its kill: %s\nstderr:\n%s", r, cerr, stderr)
		}
		kills++
		kids[r] = startReplica(t, schema, wantHash, r, acked)
	}
	if kills < *replicaKills {
		t.Logf("the replicas were done after %d kills", kills)
	}
	if *replicaKills > 0 && holderKills == 0 {
		t.Errorf("no kill hit the lease holder (%d kills)", kills)
	}
	checkChildAnswers(t, kids[:], check)
	checkReplica(t, ctx, "the test's replica", watcher, want)
	late, err := insights.Open(ctx, pgstore.New(pool, schema), replicaOptions(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	checkReplica(t, ctx, "a replica opened at the end", late, want)
}

// holderOf returns the replica process that last said it committed a
// checkpoint (-1 if none did), and whether it said a checkpoint was
// running within the last 10 ms.
func holderOf(kids []*killChild) (int, bool) {
	h, at, running := -1, time.Time{}, false
	for r, c := range kids {
		c.mu.Lock()
		if c.holder.After(at) {
			h, at, running = r, c.holder, time.Since(c.ckpt) < 10*time.Millisecond
		}
		c.mu.Unlock()
	}
	return h, running
}

// checkChildAnswers waits (20 s at most) until every replica process,
// each done, has said that its own answers equal the reference's, and
// logs how long after the last acknowledgement (the last "ack" of any of
// them: a killed one acknowledged nothing after its successor started)
// each did; with -replicas.strict, over a second fails the test. check
// fails it if a process said an error or exited otherwise.
func checkChildAnswers(t *testing.T, kids []*killChild, check func(r int) bool) {
	t.Helper()
	var lastAck time.Time
	for _, c := range kids {
		c.mu.Lock()
		if c.lastAck.After(lastAck) {
			lastAck = c.lastAck
		}
		c.mu.Unlock()
	}
	deadline := time.Now().Add(20 * time.Second)
	for r, c := range kids {
		for {
			c.mu.Lock()
			equal := c.equal
			c.mu.Unlock()
			if !equal.IsZero() {
				delay := equal.Sub(lastAck)
				t.Logf("replica process %d answered with everything acknowledged %v after the last acknowledgement", r, delay.Round(time.Millisecond))
				if *replicaStrict && delay > time.Second {
					t.Errorf("replica process %d answered with everything acknowledged %v after the last acknowledgement, over 1 s", r, delay)
				}
				break
			}
			check(r)
			if time.Now().After(deadline) {
				t.Fatalf("replica process %d has not answered as the reference within 20 s", r)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
