package insights

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/store"
)

// segmentFixture returns the fuzz engine's segment seed (fuzzEngine), its
// day, the limits of the engine's catalog and the segment decoded whole.
func segmentFixture(t *testing.T) (e *Engine, seg []byte, n int32, lim limits, whole *day) {
	t.Helper()
	e, seeds := fuzzEngine(t)
	seg, lim = seeds[frame.KindSegment], rangedLimits(e)
	r, err := frame.Open("seg", frame.KindSegment, seg)
	if err != nil {
		t.Fatal(err)
	}
	n = r.Day32()
	if whole, err = decodeDay("seg", seg, n, lim, e.zdec); err != nil {
		t.Fatal(err)
	}
	return e, seg, n, lim, whole
}

// rangedLimits returns the limits of e's catalog.
func rangedLimits(e *Engine) limits {
	var lim limits
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = len(e.userKeys)
	return lim
}

// sameIndex reports whether two days hold the same index.
func sameIndex(a, b *day) bool {
	return reflect.DeepEqual(a.ix.Cols, b.ix.Cols) && reflect.DeepEqual(a.ix.Counts, b.ix.Counts) && slices.Equal(a.ix.Offs, b.ix.Offs) &&
		slices.Equal(a.ix.Users, b.ix.Users) && a.fullIDs == b.fullIDs && a.ix.Active.Equals(b.ix.Active) && slices.Equal(a.requestIDs, b.requestIDs)
}

// TestRangedSegment: a format v3 segment read by ranges decodes as read
// whole; every flipped byte of its head and sections, and every
// truncation, is refused (ErrCorrupt naming the key), or read whole for a
// flipped version; a flipped byte outside the head and the active set
// leaves the active set readable, and equal.
func TestRangedSegment(t *testing.T) {
	ctx := context.Background()
	e, seg, n, lim, whole := segmentFixture(t)
	s := store.NewMemory()
	get := func(b []byte) (*day, error, error) {
		if err := s.Put(ctx, "seg", b); err != nil {
			t.Fatal(err)
		}
		d, err := rangedIndex(ctx, s, "seg", n, lim, e.zdec, lazySections)
		active, aerr := segment.RangedActive(ctx, s, "seg", n, lim.users)
		if aerr == nil && !active.Equals(whole.ix.Active) {
			t.Fatalf("an active set of %v, want %v", active, whole.ix.Active)
		}
		return d, err, aerr
	}
	d, err, aerr := get(seg)
	if err != nil || aerr != nil {
		t.Fatal(err, aerr)
	}
	if !sameIndex(d, whole) || d.logOff != whole.logOff {
		t.Fatal("the ranged index differs from the whole one")
	}
	if d, err := rangedIndex(ctx, storetest.Capped{Memory: s}, "seg", n, lim, e.zdec, lazySections); err != nil || !sameIndex(d, whole) {
		t.Fatalf("read from a store returning at most %d bytes a range: %v", storetest.CappedRange, err)
	}
	_, g, err := segment.ReadRanged(ctx, s, "seg", n, lim.segment())
	if err != nil {
		t.Fatal(err)
	}
	off := g.At[secActive] // the head's end: the active set is laid out first
	activeFrom, activeTo := off, off+g.Dir.Lens[secActive]
	refused := func(err error) bool {
		return errors.Is(err, ErrCorrupt) && strings.Contains(err.Error(), "seg")
	}
	for i := range d.logOff {
		b := bytes.Clone(seg)
		b[i] ^= 0x10
		_, err, aerr := get(b)
		if i == len(frame.Magic)+1 {
			if !errors.Is(err, errNotRanged) || !errors.Is(aerr, errNotRanged) {
				t.Fatalf("version flipped: %v, %v", err, aerr)
			}
			continue
		}
		if !refused(err) {
			t.Fatalf("byte %d of %d flipped: index read with %v", i, d.logOff, err)
		}
		if inActive := i < off || i >= activeFrom && i < activeTo; inActive != refused(aerr) || !inActive && aerr != nil {
			t.Fatalf("byte %d flipped (head ends at %d, active set at [%d, %d)): active set read with %v", i, off, activeFrom, activeTo, aerr)
		}
	}
	for i := range d.logOff {
		if _, err, aerr := get(seg[:i]); !refused(err) || i < activeTo && !refused(aerr) {
			t.Fatalf("cut at %d: %v, %v", i, err, aerr)
		}
	}
}

// TestRangedSegmentPastHead: a segment longer than the first read
// (segment.HeadProbe) reads its index by a second range, equal to the whole
// read's; a flipped byte past the first read, or a cut there, is refused.
func TestRangedSegmentPastHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.NewMemory()
	at := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	e, err := Open(ctx, s, &Options{Now: func() time.Time { return at.AddDate(0, 0, 7) }})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	evs := make([]Event, 30000) // of many combinations: an index past segment.HeadProbe
	for i := range evs {
		evs[i] = Event{Time: at.Add(time.Duration(r.IntN(86400)) * time.Second), Kind: KindSignIn,
			UserKey: fmt.Sprintf("user-%05d", r.IntN(60000)), AppID: fmt.Sprintf("app-%d", r.IntN(500)),
			OS: fmt.Sprintf("os-%d", r.IntN(20)), Country: fmt.Sprintf("c%d", r.IntN(50))}
	}
	if err := e.Add(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n := dayOf(at, time.UTC)
	keys, _ := s.List(ctx, "days/")
	seg, _ := s.Get(ctx, keys[0])
	lim := rangedLimits(e)
	whole, err := decodeDay("seg", seg, n, lim, e.zdec)
	if err != nil {
		t.Fatal(err)
	}
	if whole.logOff < segment.HeadProbe+100 {
		t.Fatalf("an index of %d bytes, want more than %d", whole.logOff, segment.HeadProbe)
	}
	m := store.NewMemory()
	read := func(b []byte) (*day, error) {
		if err := m.Put(ctx, "seg", b); err != nil {
			t.Fatal(err)
		}
		return rangedIndex(ctx, m, "seg", n, lim, e.zdec, lazySections)
	}
	d, err := read(seg)
	if err != nil || !sameIndex(d, whole) {
		t.Fatalf("the ranged index differs from the whole one (%v)", err)
	}
	active, err := segment.RangedActive(ctx, m, "seg", n, lim.users)
	if err != nil || !active.Equals(whole.ix.Active) {
		t.Fatalf("the ranged active set differs from the whole one (%v)", err)
	}
	capped := storetest.Capped{Memory: m}
	if d, err := rangedIndex(ctx, capped, "seg", n, lim, e.zdec, lazySections); err != nil || !sameIndex(d, whole) {
		t.Fatalf("read from a store returning at most %d bytes a range: %v", storetest.CappedRange, err)
	}
	if active, err := segment.RangedActive(ctx, capped, "seg", n, lim.users); err != nil || !active.Equals(whole.ix.Active) {
		t.Fatalf("active set read from a store returning at most %d bytes a range: %v", storetest.CappedRange, err)
	}
	flipped := bytes.Clone(seg)
	flipped[segment.HeadProbe+50] ^= 0x10
	if _, err := read(flipped); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a byte flipped past the first read: %v", err)
	}
	for _, cut := range []int{segment.HeadProbe + 50, 2 * storetest.CappedRange, 2*storetest.CappedRange + 7} {
		if _, err := read(seg[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if _, err := rangedIndex(ctx, capped, "seg", n, lim, e.zdec, lazySections); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut at %d, from a store returning at most %d bytes a range: %v", cut, storetest.CappedRange, err)
		}
	}
}
