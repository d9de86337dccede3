package insights_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// orFed is the oracle's traffic of one seed, its users named by
// orDisplayNames, fed in its batches to an engine on a memory store with
// the zone's default options: the engine, still open, and the oracle of
// what it was fed (today 0). Callers only read the engine (every reader is
// safe for concurrent use) and the oracle.
type orFed struct {
	eng *insights.Engine
	o   *orOracle
}

// orFedOnce feeds each seed once per test binary, for TestLogOracle and
// TestRegistrationOracle: the feeding is most of their time, above all
// under the race detector. The engines stay open until the binary exits.
var orFedOnce = [...]func() (*orFed, error){1: orFeedOnce(1), 2: orFeedOnce(2), 3: orFeedOnce(3)}

func orFeedOnce(seed uint64) func() (*orFed, error) {
	return sync.OnceValues(func() (*orFed, error) {
		ctx := context.Background()
		loc, err := time.LoadLocation(orZone)
		if err != nil {
			return nil, err
		}
		now := time.Date(2025, time.March, 25, 15, 0, 0, 0, loc)
		eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: orZone, Now: func() time.Time { return now }})
		if err != nil {
			return nil, err
		}
		evs := orGenerate(seed, loc)
		orDisplayNames(evs)
		var fed []insights.Event
		for i, b := range orBatches(seed, evs) {
			if err := eng.Add(ctx, b...); err != nil {
				eng.Close()
				return nil, fmt.Errorf("seed %d, Add batch %d: %w", seed, i, err)
			}
			fed = append(fed, b...)
		}
		return &orFed{eng: eng, o: orBuild(fed, loc, 0)}, nil
	})
}

// orFedSeed returns seed's orFed, feeding it on first use.
func orFedSeed(t *testing.T, seed uint64) *orFed {
	t.Helper()
	if seed >= uint64(len(orFedOnce)) || orFedOnce[seed] == nil {
		t.Fatalf("orFedSeed: no fixture for seed %d", seed)
	}
	f, err := orFedOnce[seed]()
	if err != nil {
		t.Fatal(err)
	}
	return f
}
