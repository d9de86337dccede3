package segment

import (
	"context"
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// HeadProbe is the bytes of a segment a ranged read takes first: more
// than any head (day, combinations and flag at most 16 bytes, each
// section's entry at most 24, the head's checksum 4), and, right after it,
// the active set of a day whose active users' ids are below about half a
// million (a roaring bitmap takes at most 8 KiB per 65,536 user ids, a
// bitmap container, however many of them are active): one read holds
// both. A larger set is read by a second range.
const HeadProbe = 64 << 10

// ErrNotRanged reports a segment of a format without section checksums
// (v1 or v2): the caller reads it whole.
var ErrNotRanged = errors.New("segment of format v1 or v2")

// Ranged is the start of a format v3 segment read by ranges (ReadRanged):
// its head and where its sections and log lie.
type Ranged struct {
	Dir    Dir
	At     [NumSections]int // frame offset of each section
	LogOff int              // frame offset of the log section
}

// ReadRanged reads the start of the format v3 segment under key, which
// must be of day n, within lim: its head, active set and request ids
// (two reads, or one when the request ids lie within HeadProbe; then
// their checksums). The index it returns has Combos, FullIDs, Active and
// RequestIDs set; its zstd sections are read apart (Ranged.At,
// Index.DecodeSection). ErrNotRanged for a segment of an earlier format;
// other errors are the store's or wrap frame.ErrCorrupt naming key.
func ReadRanged(ctx context.Context, rg store.RangeGetter, key string, n int32, lim *Limits) (*Index, *Ranged, error) {
	dir, off, head, err := rangedHead(ctx, rg, key, n)
	if err != nil {
		return nil, nil, err
	}
	active, err := rangedSections(ctx, rg, key, &dir, off, head, 0, 1) // laid out first
	if err != nil {
		return nil, nil, err
	}
	ids, err := rangedSections(ctx, rg, key, &dir, off, head, NumSections-1, NumSections) // laid out last
	if err != nil {
		return nil, nil, err
	}
	r := &frame.Reader{Key: key, Version: frame.SegmentVersion}
	x := &Index{Combos: dir.Combos, FullIDs: dir.FullIDs, Active: readActive(r, active[SecActive], lim.Users)}
	x.RequestIDs = requestIDSection(r, ids[SecRequestIDs])
	if r.Err != nil {
		return nil, nil, r.Err
	}
	g := &Ranged{Dir: dir}
	for _, s := range Layout(frame.SegmentVersion) {
		g.At[s] = off
		off += dir.Lens[s]
	}
	g.LogOff = off
	return x, g, nil
}

// RangedActive reads the active set of day n from its format v3 segment
// under key, users below users: one read when the set lies within
// HeadProbe. ErrNotRanged for a segment of an earlier format.
func RangedActive(ctx context.Context, rg store.RangeGetter, key string, n int32, users int) (*roaring.Bitmap, error) {
	dir, off, head, err := rangedHead(ctx, rg, key, n)
	if err != nil {
		return nil, err
	}
	secs, err := rangedSections(ctx, rg, key, &dir, off, head, 0, 1) // the active set, laid out first
	if err != nil {
		return nil, err
	}
	r := &frame.Reader{Key: key, Version: frame.SegmentVersion}
	s := readActive(r, secs[SecActive], users)
	return s, r.Err
}

// rangedHead reads the head of the segment under key, which must be of
// day n: its directory, the frame offset of its first section, and the
// segment's first HeadProbe bytes (fewer if it is shorter).
func rangedHead(ctx context.Context, rg store.RangeGetter, key string, n int32) (Dir, int, []byte, error) {
	head, err := rg.GetRange(ctx, key, 0, HeadProbe)
	if err != nil {
		return Dir{}, 0, nil, err
	}
	if len(head) < frame.Header || string(head[:len(frame.Magic)]) != frame.Magic || head[len(frame.Magic)] != frame.KindSegment {
		return Dir{}, 0, nil, fmt.Errorf("%w: %s: not a %q frame", frame.ErrCorrupt, key, frame.KindSegment)
	}
	if v := head[len(frame.Magic)+1]; v != frame.SegmentVersion {
		return Dir{}, 0, nil, ErrNotRanged // the whole read checks the version
	}
	r := &frame.Reader{Key: key, Body: head[frame.Header:], Version: frame.SegmentVersion}
	checkDay(r, n)
	dir := readDirectory(r, MaxFrameBytes, head)
	return dir, frame.Header + r.Off, head, r.Err
}

// rangedSections returns the sections of the segment under key laid out
// at positions [from, to) of its layout (Layout), whose directory dir
// says they start at frame offset off, checked against their checksums:
// taken from head, the segment's first bytes, when it holds them, else
// read. The slices share one buffer.
func rangedSections(ctx context.Context, rg store.RangeGetter, key string, dir *Dir, off int, head []byte, from, to int) ([NumSections][]byte, error) {
	var secs [NumSections][]byte
	layout := Layout(frame.SegmentVersion)
	for _, s := range layout[:from] {
		off += dir.Lens[s]
	}
	n := 0
	for _, s := range layout[from:to] {
		n += dir.Lens[s]
	}
	b := head[min(off, len(head)):min(off+n, len(head))]
	if len(b) < n { // past head: the segment goes on, or is truncated
		var err error
		if b, err = ReadRest(ctx, rg, key, off, n, b); err != nil {
			return secs, err
		}
	}
	r := &frame.Reader{Key: key, Body: b, Version: frame.SegmentVersion}
	if len(b) != n {
		r.Fail("the segment ends %d bytes into its %d bytes of sections", len(b), n)
	}
	for _, s := range layout[from:to] {
		secs[s] = r.Bytes(dir.Lens[s])
		checkSection(r, dir, s, secs[s])
	}
	return secs, r.Err
}

// readRestFirst is the most bytes ReadRest allocates before any arrive.
const readRestFirst = 1 << 20

// ReadRest returns the n bytes of the value under key from offset off,
// of which b holds the first: it reads the rest, again while a read
// returns fewer bytes than asked but some (a store may return less than
// asked before the value ends), and stops short at a read returning
// none, the value's end. Its buffer starts at most readRestFirst bytes
// long and grows as bytes arrive: n comes from a segment's head, which
// may claim more than the value holds. It does not modify b.
func ReadRest(ctx context.Context, rg store.RangeGetter, key string, off, n int, b []byte) ([]byte, error) {
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
