package insights

import (
	"context"
	"fmt"

	"github.com/insightslab/insights/internal/dayindex"
	"github.com/insightslab/insights/internal/segment"
	"github.com/klauspost/compress/zstd"
)

// A segment holds one sealed day: its index and event log, in the format
// of internal/segment, which encodes and decodes it. The day converts to
// and from the package's Index by copying slice headers (indexOf,
// setIndex); what to write (which request ids, the log at hand or read
// back) and where (segmentKey) is the engine's.

// The sections of a segment (internal/segment), as the day's lazy
// decoding names them.
const (
	secCounts = segment.SecCounts
	secUsers  = segment.SecUsers
	secActive = segment.SecActive
)

// A segment, and a day's index, has one code column per indexed
// dimension: the format fixes their number, which this constant fails to
// compile unless equal.
const _ = uint(numIndexed-segment.NumColumns) + uint(segment.NumColumns-numIndexed)

// encodeDay returns the segment frame of day d, number n, and the offset
// of its log section. allIDs keeps every request id of the day (a day
// inside the dedupe horizon), else only those its log cannot give back.
// It fails only if what it reads of d's earlier segment (sections not yet
// decoded, the log) fails to read or is corrupt.
func encodeDay(ctx context.Context, n int32, d *day, enc encoders, allIDs bool) ([]byte, int, error) {
	if err := d.need(ctx, lazySections); err != nil {
		return nil, 0, err
	}
	l, err := d.events()
	if err != nil {
		return nil, 0, err
	}
	ids, err := d.allRequestIDs()
	if err == nil && !allIDs {
		ids, err = idsBesideLog(ids, l)
	}
	if err != nil {
		return nil, 0, err
	}
	log, err := encodeLog(l, enc.log)
	if err != nil {
		return nil, 0, fmt.Errorf("day %s: %w", dateOfNum(n), err)
	}
	x := d.indexOf()
	x.RequestIDs, x.FullIDs = ids, allIDs
	b, off := segment.Encode(n, &x, log, enc.index)
	return b, off, nil
}

// indexOf returns d's index as a segment holds it, sharing d's slices.
// Every section of d is decoded.
func (d *day) indexOf() segment.Index {
	return segment.Index{Combos: d.ix.Combos, Cols: d.ix.Cols, Counts: d.ix.Counts, Offs: d.ix.Offs, Users: d.ix.Users,
		Active: d.ix.Active, RequestIDs: d.requestIDs, FullIDs: d.fullIDs}
}

// dayOfIndex returns a day of index x, sharing its slices.
func dayOfIndex(x *segment.Index) *day {
	d := &day{ix: dayindex.Day{Index: dayindex.Index{Combos: x.Combos, Active: x.Active}}, requestIDs: x.RequestIDs, fullIDs: x.FullIDs}
	for s := range secActive {
		d.setSection(s, x)
	}
	return d
}

// setSection sets zstd section s of d (a code column, the event counts,
// or the users) from x's.
func (d *day) setSection(s int, x *segment.Index) {
	switch s {
	case secCounts:
		d.ix.Counts = x.Counts
	case secUsers:
		d.ix.Offs, d.ix.Users = x.Offs, x.Users
	default:
		d.ix.Cols[s] = x.Cols[s]
	}
}

// limits bounds what a decoded segment may reference: the dictionaries'
// sizes and the number of users of the catalog it belongs to.
type limits struct {
	dictSizes [numIndexed]int
	users     int
}

// segment returns lim as the segment package takes it, naming each
// column by its dimension.
func (lim limits) segment() *segment.Limits {
	l := &segment.Limits{DictSizes: lim.dictSizes, Users: lim.users}
	for k := range l.Names {
		l.Names[k] = Dimension(k + 1).String()
	}
	return l
}

// decodeDay decodes the segment stored under key, of format v1, v2 or
// v3, which must be of day n and reference only codes and users within
// lim. The day's log stays in b until first needed (day.events): a caller
// that does not want b kept sets the day's logGet to read it again.
func decodeDay(key string, b []byte, n int32, lim limits, dec *zstd.Decoder) (*day, error) {
	x, off, err := segment.Decode(key, b, n, lim.segment(), dec)
	if err != nil {
		return nil, err
	}
	d := dayOfIndex(x)
	d.logKey, d.logOff, d.logUsers, d.logDec = key, off, lim.users, dec
	d.logGet = func() ([]byte, error) { return b, nil }
	return d, nil
}

// segmentKey names version gen of day n's segment.
func segmentKey(n int32, gen uint64) string {
	return fmt.Sprintf("days/%s/%016x", dateOfNum(n), gen)
}
