package main

// The sign-in log's bytes on disk. The engine keeps each day's log as the
// last section of the day's segment (store/FORMAT.md, internal/segment in
// the library); no public call reports its size, so this
// file walks the documented segment layout of the segments a directory
// store holds and adds up the parts. The walk must land exactly on the
// frame's checksum, or the measure fails: a layout change cannot go
// unnoticed.

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// segmentParts are byte counts over every day segment.
type segmentParts struct {
	segments int
	total    int64 // whole frames
	columns  int64 // the combination count, the request-id flag, the section directory and the code columns
	index    int64 // event counts, users per combination, active users, request-id hashes
	counts   int64 // of index: the event counts
	users    int64 // of index: the users per combination
	active   int64 // of index: the active users
	ids      int64 // of index: the request-id hashes
	log      int64 // the event log section, its length prefix included
	frame    int64 // magic, kind, version, day, checksum
}

// indexedDimensions counts the indexed dimensions: the segment has one
// code column each (Dimension order, kind … action).
func indexedDimensions() int {
	n := 0
	for _, d := range insights.Dimensions() {
		if d.Indexed() {
			n++
		}
	}
	return n
}

// measureSegments adds up the parts of every segment under days/ in st.
func measureSegments(ctx context.Context, st store.Store) (segmentParts, error) {
	var p segmentParts
	keys, err := st.List(ctx, "days/")
	if err != nil {
		return p, err
	}
	for _, k := range keys {
		b, err := st.Get(ctx, k)
		if err != nil {
			return p, err
		}
		if err := p.add(b); err != nil {
			return p, fmt.Errorf("segment %s: %w", k, err)
		}
	}
	return p, nil
}

func (p *segmentParts) add(b []byte) error {
	if len(b) < 10 || string(b[:4]) != "INSI" || b[4] != 'S' || b[5] != 3 && b[5] != 4 {
		return fmt.Errorf("not a segment frame of format v2 or v3 (frame version 3 or 4)")
	}
	v3 := b[5] == 4 // a CRC-32C per section and over the head; the active users laid first
	body := b[6 : len(b)-4]
	pos := 0
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(body[pos:])
		if n <= 0 {
			bad = true
			return 0
		}
		pos += n
		return v
	}
	skip := func(n uint64) {
		if n > uint64(len(body)-pos) {
			bad = true
			return
		}
		pos += int(n)
	}
	uv() // day (zig-zag varint: same length as a uvarint)
	head := pos
	uv()    // combinations
	skip(1) // request ids complete
	// The directory: per section its length, and for the zstd frames (the
	// code columns, the counts and the users) the length they hold; in
	// format v3 each section's checksum, then the head's.
	dims := indexedDimensions()
	lens := make([]uint64, dims+4)
	for s := range lens {
		lens[s] = uv()
		if s < dims+2 {
			uv()
		}
		if v3 {
			skip(4)
		}
	}
	if v3 {
		skip(4)
	}
	cols, idx := pos-head, 0 // the columns' part counts the directory
	for s, n := range lens {
		skip(n)
		if s < dims {
			cols += int(n)
		} else {
			idx += int(n)
		}
	}
	logStart := pos
	skip(uv())
	if bad || pos != len(body) {
		return fmt.Errorf("layout not as documented (walked %d of %d body bytes)", pos, len(body))
	}
	p.counts += int64(lens[dims])
	p.users += int64(lens[dims+1])
	p.active += int64(lens[dims+2])
	p.ids += int64(lens[dims+3])
	p.segments++
	p.total += int64(len(b))
	p.columns += int64(cols)
	p.index += int64(idx)
	p.log += int64(pos - logStart)
	p.frame += int64(len(b) - len(body) + head)
	return nil
}
