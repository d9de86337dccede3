package insights

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// segmentPutFails fails the Put of day segments while failing is set.
type segmentPutFails struct {
	*store.Memory
	failing atomic.Bool
}

var errSegmentPut = errors.New("segment put refused")

func (s *segmentPutFails) Put(ctx context.Context, key string, value []byte) error {
	if s.failing.Load() && strings.HasPrefix(key, "days/") {
		return errSegmentPut
	}
	return s.Memory.Put(ctx, key, value)
}

// TestCheckpointRefusesSpoiledLog: a sealed day whose log's chunks
// disagree with its offsets (a bug) fails the checkpoint, its error
// wrapping ErrCorrupt and naming the day, and the manifest stays as it
// was: no segment of records read back shifted is committed (encodeDay
// fails on EncodeLog's check, not only on what it reads).
func TestCheckpointRefusesSpoiledLog(t *testing.T) {
	ctx := context.Background()
	st := &segmentPutFails{Memory: store.NewMemory()}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e, err := Open(ctx, st, &Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	day := Date{2025, 3, 1}
	add := func(id string) {
		t.Helper()
		if err := e.Add(ctx, Event{Time: at.Add(-time.Hour), Kind: KindSignIn, UserKey: "ann", RequestID: id, City: "Lyon"}); err != nil {
			t.Fatal(err)
		}
	}
	add("a1")
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	add("a2")
	st.failing.Store(true)
	if err := e.Flush(ctx); !errors.Is(err, errSegmentPut) { // the day is sealed, not saved
		t.Fatalf("a checkpoint whose segment cannot be written: %v", err)
	}
	st.failing.Store(false)
	e.mu.Lock()
	d := e.days[day.num()].sealed
	if d == nil || len(d.log.chunks) == 0 {
		e.mu.Unlock()
		t.Fatal("the day is not sealed with its log at hand: nothing to spoil")
	}
	d.log.chunks[0] = d.log.chunks[0][:len(d.log.chunks[0])-1]
	e.mu.Unlock()
	before, err := st.Get(ctx, manifestKey)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Flush(ctx)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), day.String()) {
		t.Errorf("a checkpoint of a spoiled log: %v, want ErrCorrupt naming %s", err, day)
	}
	if after, gerr := st.Get(ctx, manifestKey); gerr != nil || !bytes.Equal(after, before) {
		t.Errorf("the manifest changed (%v)", gerr)
	}
}
