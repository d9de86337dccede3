package insights

import (
	"fmt"
	"math"

	"github.com/axiomhq/hyperloglog"
	"github.com/dgryski/go-metro"
)

// sketches are the approximate-mode HyperLogLog sketches of active users,
// per day and pre-merged per ISO week (keyed by its Monday) and month
// (keyed by its first day).
//
// A catalog's day sketches are decoded lazily: Open keeps their bytes
// (raw) and the first approximate query decodes them and builds the week
// and month sketches (load), so that an engine that never asks an
// approximate query never pays for them (decoding them was most of Open's
// time: 0.8 s for 365 days). Until then (lazy), insertions go to the day
// sketches alone, and a day's sketch is its raw bytes' decoded sketch
// merged with day[n].
type sketches struct {
	precision uint8
	day       map[int32]*hyperloglog.Sketch
	week      map[int32]*hyperloglog.Sketch
	month     map[int32]*hyperloglog.Sketch
	raw       map[int32][]byte // day sketches as the catalog stored them, not yet decoded
	rawKey    string           // the catalog they were read from, for errors
	lazy      bool             // week and month sketches are not built: load first
	// rehashed is set when Open rebuilt the day sketches of a catalog
	// written with the hash of dense ids (sketchHashID): the next
	// checkpoint must write a catalog, even with nothing else changed.
	rehashed bool
	// stale holds the days whose sketch may hold a user deleted before
	// the day: a deletion applied after the user's later activity, which a
	// sketch cannot forget. freshenSketches rebuilds them before an
	// approximate query reads them or a checkpoint saves them.
	stale map[int32]bool
}

func newSketches(p uint8) sketches {
	return sketches{precision: p, day: map[int32]*hyperloglog.Sketch{},
		week: map[int32]*hyperloglog.Sketch{}, month: map[int32]*hyperloglog.Sketch{}}
}

// The hashes by which users have gone into a catalog's sketches (its
// sketch hash field, store/FORMAT.md).
const (
	sketchHashID  = 0 // the SplitMix64 finalizer of the dense id: catalogs before the field
	sketchHashKey = 1 // userHash of the user key
)

// userHash is the 64-bit hash by which a user goes into the sketches:
// MetroHash64 of the user key with the seed of the sketch library's own
// Insert, so the same as Sketch.Insert([]byte(key)). It hashes the key,
// not the dense id: every store of n users numbers them 0 to n-1, so a
// hash of the id gave every such store the same sketch error (+1% to
// +2.3% for n from 700,000 to 2 million, at precision 14), while keys
// differ from store to store and so do the errors
// (TestSketchHashIndependentErrors). One hash serves the day, week and
// month sketches of an activity. Cost: about 10 ns for a 36-byte key.
func userHash(key string) uint64 { return metro.Hash64Str(key, 1337) }

// add inserts the user of key key into the sketches of day n, its ISO
// week and month (only the day's while lazy).
func (s *sketches) add(n int32, key string) {
	h := userHash(key)
	if s.lazy {
		sk := s.day[n]
		if sk == nil {
			sk, _ = hyperloglog.NewSketch(s.precision, true) // precision validated by Open
			s.day[n] = sk
		}
		sk.InsertHash(h)
		return
	}
	wk, _ := bucketBounds(n, Week, 1)
	mo, _ := bucketBounds(n, Month, 1)
	for _, m := range []struct {
		sk     map[int32]*hyperloglog.Sketch
		key    int32
		sparse bool
	}{{s.day, n, true}, {s.week, wk, false}, {s.month, mo, false}} {
		// Week and month sketches are dense (2^p bytes): merging them is a
		// pass over their registers, which makes long ranges cheap.
		sk := m.sk[m.key]
		if sk == nil {
			sk, _ = hyperloglog.NewSketch(s.precision, m.sparse) // precision validated by Open
			m.sk[m.key] = sk
		}
		sk.InsertHash(h)
	}
}

// defer keeps a catalog's day sketch bytes, from the catalog key, to decode
// at load.
func (s *sketches) deferDay(n int32, raw []byte, key string) {
	if s.raw == nil {
		s.raw = map[int32][]byte{}
	}
	s.raw[n], s.rawKey, s.lazy = raw, key, true
}

// decodeDay makes day[n] the whole sketch of day n: its raw bytes decoded
// and merged with the insertions since. Undecodable bytes wrap ErrCorrupt
// and name the catalog.
func (s *sketches) decodeDay(n int32) error {
	raw, ok := s.raw[n]
	if !ok {
		return nil
	}
	sk, err := readSketch(raw, s.precision)
	if err != nil {
		return fmt.Errorf("%w: %s: sketch of %s: %v", ErrCorrupt, s.rawKey, dateOfNum(n), err)
	}
	if d := s.day[n]; d != nil {
		_ = sk.Merge(d) // same precision by construction
	}
	s.day[n] = sk
	delete(s.raw, n)
	return nil
}

// load decodes every deferred day sketch and builds the week and month
// sketches: what estimate needs. The write lock is held. Cost: nothing
// once loaded; else a decode per day and a merge per day into its week
// and month.
func (s *sketches) load() error {
	if !s.lazy {
		return nil
	}
	for n := range s.raw {
		if err := s.decodeDay(n); err != nil {
			return err
		}
	}
	s.mergeAll()
	s.lazy = false
	return nil
}

// setDay replaces day n's sketch by sk, a whole one (rebuilt from the
// day's active set).
func (s *sketches) setDay(n int32, sk *hyperloglog.Sketch) {
	s.day[n] = sk
	delete(s.raw, n)
}

// hasDay reports whether day n has a sketch, decoded or not.
func (s *sketches) hasDay(n int32) bool {
	_, ok := s.raw[n]
	return ok || s.day[n] != nil
}

// dropBefore forgets the sketches of the days before horizon, and of the
// weeks and months that end by it (retention).
func (s *sketches) dropBefore(horizon int32) {
	for n := range s.day {
		if n < horizon {
			delete(s.day, n)
		}
	}
	for n := range s.raw {
		if n < horizon {
			delete(s.raw, n)
		}
	}
	for _, g := range []Granularity{Week, Month} {
		m := s.week
		if g == Month {
			m = s.month
		}
		for n := range m {
			if _, end := bucketBounds(n, g, 1); end <= horizon {
				delete(m, n)
			}
		}
	}
}

// estimate returns the approximate number of distinct active users in
// days [from, to), merging the registers of month and week sketches where
// whole ones fit (hllestimate.go). It only reads the shared sketches: safe
// under the read lock, once loaded (load). Cost: a copy and a pass per dense sketch merged,
// and one pass to estimate (BenchmarkSketchesEstimate).
func (s *sketches) estimate(from, to int32) uint64 {
	acc := make([]byte, 1<<s.precision)
	var rest *hyperloglog.Sketch // the sparse sketches, merged by the library
	var buf []byte
	merge := func(sk *hyperloglog.Sketch) {
		if sk == nil {
			return
		}
		var regs []byte
		var ok bool
		if regs, buf, ok = denseRegisters(sk, buf); ok {
			maxRegisters(acc, regs)
			return
		}
		if rest == nil {
			rest, _ = hyperloglog.NewSketch(s.precision, false) // precision validated by Open
		}
		_ = rest.Merge(sk) // same precision by construction
	}
	s.cover(from, to, merge)
	if rest != nil { // dense: a sparse sketch merged into a dense one stays dense
		regs, _, _ := denseRegisters(rest, buf)
		maxRegisters(acc, regs)
	}
	return registersEstimate(acc, s.precision)
}

// cover calls f with the sketches whose union is days [from, to): whole
// months and ISO weeks where they fit, single days elsewhere (nil where a
// day, week or month has no sketch).
func (s *sketches) cover(from, to int32, f func(*hyperloglog.Sketch)) {
	for n := from; n < to; {
		if mf, mt := bucketBounds(n, Month, 1); mf == n && mt <= to {
			f(s.month[n])
			n = mt
			continue
		}
		if wf, wt := bucketBounds(n, Week, 1); wf == n && wt <= to {
			f(s.week[n])
			n = wt
			continue
		}
		f(s.day[n])
		n++
	}
}

// mergeDays rebuilds the sketches of the given weeks and months (keyed by
// their first day) from the day sketches, and returns how many it built.
func (s *sketches) mergeDays(weeks, months map[int32]bool) int {
	built := 0
	for g, starts := range map[Granularity]map[int32]bool{Week: weeks, Month: months} {
		target := s.week
		if g == Month {
			target = s.month
		}
		for start := range starts {
			sk, _ := hyperloglog.NewSketch(s.precision, false)
			_, end := bucketBounds(start, g, 1)
			for n := start; n < end; n++ {
				_ = sk.Merge(s.day[n]) // same precision by construction
			}
			target[start] = sk
			built++
		}
	}
	return built
}

// mergeAll rebuilds every week and month sketch from the day sketches.
func (s *sketches) mergeAll() {
	weeks, months := map[int32]bool{}, map[int32]bool{}
	for n := range s.day {
		w, _ := bucketBounds(n, Week, 1)
		m, _ := bucketBounds(n, Month, 1)
		weeks[w], months[m] = true, true
	}
	s.mergeDays(weeks, months)
}

// relativeError is the relative standard error of a sketch of precision p.
func relativeError(p uint8) float64 { return 1.04 / math.Sqrt(float64(uint64(1)<<p)) }
