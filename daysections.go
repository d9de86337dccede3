package insights

import (
	"context"
	"errors"
	"sync"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// A day's index read by ranges from a format v3 segment (rangedIndex)
// starts with its active set and request ids only: its code columns, event
// counts and users (the zstd sections) are each read and decoded on first
// need, so that a filtered query decodes the columns its filter and
// group-by name, not the 27. Whoever reads a section of a day calls
// day.need for it first: queries with the sections their query needs
// (queryNeeds, through sealedDay), everything that reads a day whole
// (thaw, encodeDay, restrict, a user's rows, the risk and policy metrics)
// with lazySections. need is fallible (a store read, a checksum) and
// goroutine-safe: a day's sectionReader serializes the decoding, and the
// pending bits, cleared atomically once a section is in the day, publish
// it to the readers that find the bit clear. A section decoded stays until
// the day is evicted (Options.MemoryLimit counts it: memBytes). Days sealed
// in memory, or read whole (a store without ranges, formats v1 and v2),
// have every section from the start.

// sectionSet is a set of a segment's sections, bit s for section s.
type sectionSet uint32

// lazySections are the sections a day may leave undecoded: the code
// columns, the event counts and the users.
const lazySections sectionSet = 1<<secActive - 1

// sectionGap is the most bytes of sections not needed that one read
// spans between two needed ones, rather than reading them apart.
const sectionGap = 16 << 10

// sectionReader reads and decodes the sections a day left undecoded.
type sectionReader struct {
	mu     sync.Mutex                                            // serializes decoding
	get    func(ctx context.Context, off, n int) ([]byte, error) // n bytes of the segment from frame offset off (fewer at its end)
	key    string                                                // the segment's, in errors
	ranged *segment.Ranged                                       // its head, and where each section lies
	lim    *segment.Limits                                       // what its codes and users may reference
	dec    *zstd.Decoder                                         // for its zstd sections
}

// whole reports whether d has decoded every section. Safe for concurrent
// use.
func (d *day) whole() bool { return d.pending.Load() == 0 }

// need is day.need, with a segment its writer deleted reported as for
// any read of this engine (missing: a follower refreshes).
func (e *Engine) need(ctx context.Context, d *day, s sectionSet) error {
	err := d.need(ctx, s)
	if errors.Is(err, store.ErrNotFound) {
		err = e.missing(ctx, d.lazy.key, err)
	}
	return err
}

// need decodes the sections of s that d has not yet, reading them from
// the store: one read per run of sections no further apart than
// sectionGap. A section that fails its checksum or its decoding is
// ErrCorrupt naming the segment, and stays undecoded (the next need tries
// again). Safe for concurrent use.
func (d *day) need(ctx context.Context, s sectionSet) error {
	if s&sectionSet(d.pending.Load()) == 0 {
		return nil
	}
	z := d.lazy
	z.mu.Lock()
	defer z.mu.Unlock()
	at, lens := &z.ranged.At, &z.ranged.Dir.Lens
	s &= sectionSet(d.pending.Load())
	for first := 0; first < secActive; first++ {
		if s&(1<<first) == 0 {
			continue
		}
		last := first // the run's last needed section
		for next := first + 1; next < secActive && at[next]-(at[last]+lens[last]) <= sectionGap; next++ {
			if s&(1<<next) != 0 {
				last = next
			}
		}
		if err := d.readSections(ctx, s, first, last); err != nil {
			return err
		}
		first = last
	}
	return nil
}

// readSections reads the sections of d's segment from first to last, and
// decodes those of s among them. z.mu is held.
func (d *day) readSections(ctx context.Context, s sectionSet, first, last int) error {
	z := d.lazy
	at, lens := &z.ranged.At, &z.ranged.Dir.Lens
	from, n := at[first], at[last]+lens[last]-at[first]
	b, err := z.get(ctx, from, n)
	if err != nil {
		return err
	}
	if len(b) != n {
		r := &frame.Reader{Key: z.key, Off: from - frame.Header}
		r.Fail("the segment ends %d bytes into its %d bytes of sections", len(b), n)
		return r.Err
	}
	for k := first; k <= last; k++ {
		if s&(1<<k) == 0 {
			continue
		}
		x := segment.Index{Combos: d.ix.Combos}
		if err := x.DecodeSection(z.key, at[k], &z.ranged.Dir, k, b[at[k]-from:at[k]-from+lens[k]], z.lim, z.dec); err != nil {
			return err
		}
		d.setSection(k, &x)
		d.index.Add(d.sectionBytes(k))
		d.pending.And(^uint32(1 << k))
	}
	return nil
}

// queryNeeds returns the sections of each day that a query of metric m
// reads, whose filter the index answers is f, grouped by groupCols: the
// columns its filter, its group-by and the metric's own predicates name,
// the event counts and the users; every section for a metric that reads
// the event log (a log-field filter, logged, the risk and policy
// metrics), which reads a day whole.
func queryNeeds(m Metric, f Filter, groupCols []int, logged bool) sectionSet {
	if logged || m == RiskDetections || m == RiskyUsers || policyGroups(m) > 0 {
		return lazySections
	}
	need := sectionSet(1<<secCounts | 1<<secUsers)
	for _, c := range groupCols {
		need |= 1 << c
	}
	fs := []Filter{f, activityFilter, userSignInFilter, createdFilter}
	for _, d := range seriesDefs[m] {
		fs = append(fs, d.base)
	}
	for _, f := range fs {
		need |= filterColumns(f)
	}
	return need
}

// filterColumns returns the code columns the leaves of f name.
func filterColumns(f Filter) sectionSet {
	var s sectionSet
	if f.op >= OpEq && f.dim.Indexed() {
		s |= 1 << (f.dim - 1)
	}
	for _, a := range f.args {
		s |= filterColumns(a)
	}
	return s
}
