package store_test

import (
	"os/exec"
	"sync"
	"testing"

	"github.com/insightslab/insights/store"
)

// TestDirReopenBesideChildProcesses closes and reopens one store while
// another goroutine starts child processes: a child forked while the
// store held its lock has a copy of the lock's descriptor until it execs,
// and a Dir in that moment failed with ErrLocked though the store was
// closed (seen as a flake of TestEquivalenceOfStoresAndReopening beside
// TestCrash's children, session 12).
func TestDirReopenBesideChildProcesses(t *testing.T) {
	if _, err := exec.LookPath("true"); err != nil {
		t.Skip("no true(1) to start")
	}
	dir := t.TempDir()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = exec.Command("true").Run()
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for i := range 1000 {
		s, err := store.Dir(dir, nil)
		if err != nil {
			t.Fatalf("reopen %d of a closed store: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
