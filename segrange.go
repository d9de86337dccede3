package insights

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// Ranged reads of format v3 segments, on a store that implements
// store.RangeGetter: the head (day, combinations, directory, checksums)
// and the active set laid out after it first, in one read, then only the
// sections a use needs, each checked against its checksum. A day's index
// is read without its event log (read whole, and checked by the frame's
// checksum, when first needed: day.events), and unfiltered activity reads
// only the day's active set. A read that comes back shorter than asked is
// continued until a read returns nothing (readRest). Segments of format
// v1 and v2 have no section checksums: they are read whole, at once after
// the first read of a day finds one (dayState.wholeKey).

// headProbe is the bytes of a segment a ranged read takes first: more
// than any head (day, combinations and flag at most 16 bytes, each
// section's entry at most 24, the head's checksum 4), and, right after it,
// the active set of a day whose active users' ids are below about half a
// million (a roaring bitmap takes at most 8 KiB per 65,536 user ids, a
// bitmap container, however many of them are active): one read holds
// both. A larger set is read by a second range.
const headProbe = 64 << 10

// errNotRanged reports a segment of a format without section checksums:
// the caller reads it whole.
var errNotRanged = errors.New("segment of format v1 or v2")

// rangedHead reads the head of the segment under key, which must be of
// day n: its directory, the frame offset of its first section, and the
// segment's first headProbe bytes (fewer if it is shorter).
func rangedHead(ctx context.Context, rg store.RangeGetter, key string, n int32) (segmentDir, int, []byte, error) {
	head, err := rg.GetRange(ctx, key, 0, headProbe)
	if err != nil {
		return segmentDir{}, 0, nil, err
	}
	if len(head) < frame.Header || string(head[:len(frame.Magic)]) != frame.Magic || head[len(frame.Magic)] != frame.KindSegment {
		return segmentDir{}, 0, nil, fmt.Errorf("%w: %s: not a %q frame", ErrCorrupt, key, frame.KindSegment)
	}
	if v := head[len(frame.Magic)+1]; v != frame.SegmentVersion {
		return segmentDir{}, 0, nil, errNotRanged // the whole read checks the version
	}
	r := &frame.Reader{Key: key, Body: head[frame.Header:], Version: frame.SegmentVersion}
	if got := r.Day32(); r.Err == nil && got != n {
		r.Fail("holds day %s, expected %s", dateOfNum(got), dateOfNum(n))
	}
	dir := readDirectory(r, maxFrameBytes, head)
	return dir, frame.Header + r.Off, head, r.Err
}

// rangedSections returns the sections of the segment under key laid out
// at positions [from, to) of its layout (sectionLayout), whose directory
// dir says they start at frame offset off, checked against their
// checksums: taken from head, the segment's first bytes, when it holds
// them, else read. The slices share one buffer.
func rangedSections(ctx context.Context, rg store.RangeGetter, key string, dir *segmentDir, off int, head []byte, from, to int) ([segmentSections][]byte, error) {
	var secs [segmentSections][]byte
	layout := sectionLayout(frame.SegmentVersion)
	for _, s := range layout[:from] {
		off += dir.lens[s]
	}
	n := 0
	for _, s := range layout[from:to] {
		n += dir.lens[s]
	}
	b := head[min(off, len(head)):min(off+n, len(head))]
	if len(b) < n { // past head: the segment goes on, or is truncated
		var err error
		if b, err = readRest(ctx, rg, key, off, n, b); err != nil {
			return secs, err
		}
	}
	r := &frame.Reader{Key: key, Body: b, Version: frame.SegmentVersion}
	if len(b) != n {
		r.Fail("the segment ends %d bytes into its %d bytes of sections", len(b), n)
	}
	for _, s := range layout[from:to] {
		secs[s] = r.Bytes(dir.lens[s])
		checkSection(r, dir, s, secs[s])
	}
	return secs, r.Err
}

// readRestFirst is the most bytes readRest allocates before any arrive.
const readRestFirst = 1 << 20

// readRest returns the n bytes of the value under key from offset off,
// of which b holds the first: it reads the rest, again while a read
// returns fewer bytes than asked but some (a store may return less than
// asked before the value ends), and stops short at a read returning
// none, the value's end. Its buffer starts at most readRestFirst bytes
// long and grows as bytes arrive: n comes from a segment's head, which
// may claim more than the value holds.
func readRest(ctx context.Context, rg store.RangeGetter, key string, off, n int, b []byte) ([]byte, error) {
	b = append(make([]byte, 0, max(min(n, readRestFirst), len(b))), b...)
	for len(b) < n {
		more, err := rg.GetRange(ctx, key, int64(off+len(b)), int64(n-len(b)))
		if err != nil || len(more) == 0 {
			return b, err
		}
		b = append(b, more[:min(len(more), n-len(b))]...)
	}
	return b, nil
}

// rangedIndex reads the index of day n from its format v3 segment under
// key, without the event log, within lim: its active set and request ids,
// then the sections of need (daysections.go); the others are read when
// first needed. The day's log is read from the segment when first needed
// (its logGet left to the caller to set). errNotRanged for a segment of an
// earlier format.
func rangedIndex(ctx context.Context, rg store.RangeGetter, key string, n int32, lim limits, dec *zstd.Decoder, need sectionSet) (*day, error) {
	dir, off, head, err := rangedHead(ctx, rg, key, n)
	if err != nil {
		return nil, err
	}
	active, err := rangedSections(ctx, rg, key, &dir, off, head, 0, 1) // laid out first
	if err != nil {
		return nil, err
	}
	ids, err := rangedSections(ctx, rg, key, &dir, off, head, segmentSections-1, segmentSections) // laid out last
	if err != nil {
		return nil, err
	}
	r := &frame.Reader{Key: key, Version: frame.SegmentVersion}
	d := &day{combos: dir.combos, fullIDs: dir.fullIDs, active: readActive(r, active[secActive], lim.users)}
	d.requestIDs = requestIDSection(r, ids[secRequestIDs])
	if r.Err != nil {
		return nil, r.Err
	}
	z := &sectionReader{key: key, dir: dir, lim: lim, dec: dec, get: func(ctx context.Context, off, n int) ([]byte, error) {
		return readRest(ctx, rg, key, off, n, nil)
	}}
	for _, s := range sectionLayout(frame.SegmentVersion) {
		z.at[s] = off
		off += dir.lens[s]
	}
	d.lazy = z
	d.pending.Store(uint32(lazySections))
	d.index.Store(d.headBytes())
	d.logKey, d.logOff, d.logUsers, d.logDec = key, off, lim.users, dec
	if err := d.need(ctx, need); err != nil {
		return nil, err
	}
	return d, nil
}

// rangedActive reads the active set of day n from its format v3 segment
// under key, users below users. errNotRanged for a segment of an earlier
// format.
func rangedActive(ctx context.Context, rg store.RangeGetter, key string, n int32, users int) (*roaring.Bitmap, error) {
	dir, off, head, err := rangedHead(ctx, rg, key, n)
	if err != nil {
		return nil, err
	}
	secs, err := rangedSections(ctx, rg, key, &dir, off, head, 0, 1) // the active set, laid out first
	if err != nil {
		return nil, err
	}
	r := &frame.Reader{Key: key, Version: frame.SegmentVersion}
	s := readActive(r, secs[secActive], users)
	return s, r.Err
}

// segmentLoads counts an engine's segment reads, for tests: indexes, and
// active sets read alone, of them prefetched those prefetchActive read,
// and the indexes and sections prefetchDays read.
type segmentLoads struct{ index, active, prefetched, prefetchedDays atomic.Int64 }

// activeSet returns the active users of day n (shared: do not modify),
// nil if it has no data: the sealed day's, or, for a day whose index is
// not in memory, the set alone from its segment (storedActive). The read
// lock is held.
func (ev *evaluation) activeSet(n int32) *roaring.Bitmap {
	if ev.err != nil {
		return nil
	}
	s, err := ev.e.storedActive(ev.ctx, n)
	if err == nil && s == nil {
		if d := ev.day(n); d != nil {
			s = d.active
		}
	}
	if err != nil {
		ev.err = err
	}
	return s
}

// storedActive returns the active set of day n read alone from its
// segment, when sealedDay would load the day from there (its index is
// not in memory and it has no change since), the store reads ranges and
// the segment is of format v3; else nil. The set is kept on the day,
// counted in Options.MemoryLimit, until it is evicted or its index loads.
// The read lock is held; sealMu serializes concurrent queries.
func (e *Engine) storedActive(ctx context.Context, n int32) (*roaring.Bitmap, error) {
	rg, ok := e.store.(store.RangeGetter)
	if !ok {
		return nil, nil
	}
	e.sealMu.Lock()
	defer e.sealMu.Unlock()
	ds := e.days[n]
	if !ds.activeStored() {
		return nil, nil
	}
	if ds.activeOnly == nil {
		s, err := rangedActive(ctx, rg, ds.segKey, n, e.userCount())
		switch {
		case errors.Is(err, errNotRanged):
			ds.wholeKey = ds.segKey
			return nil, nil
		case errors.Is(err, store.ErrNotFound):
			return nil, e.missing(ctx, ds.segKey, err)
		case err != nil:
			return nil, err
		}
		ds.activeOnly = s
		e.loads.active.Add(1)
	}
	e.hold(ds)
	return ds.activeOnly, nil
}

// activeStored reports whether the day's active set is read from its
// segment alone (storedActive): it has data, no change since its segment,
// no index in memory, and a segment not known to be of format v1 or v2.
// The read lock is held, and sealMu.
func (ds *dayState) activeStored() bool {
	return ds != nil && !ds.dirty && ds.sealed == nil && ds.segKey != "" && ds.wholeKey != ds.segKey
}
