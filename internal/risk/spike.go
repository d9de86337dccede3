package risk

import (
	"fmt"
	"math"
	"slices"
	"time"
)

const hourNs = int64(time.Hour)

// spikeRule is failureSpike over one application's failed sign-ins.
type spikeRule struct {
	minimum int
	factor  float64
	weeks   int
	text    string
}

// spikeState is one application's state. counts is a ring of the
// failures of the current hour and the weeks×168 hours before it, hour h
// at h mod len(counts): one array, so that a copy (made when a read
// settles the app) is a memmove and moving to a new hour clears
// only the hours skipped, where a map by hour cost a walk of every hour
// kept (a profile of the bench's risk phase, #18). It is made at the
// first failure, of 4 bytes per hour (2.7 KB with 4 weeks): a count
// never nears 2^32 in an hour.
type spikeState struct {
	r      *spikeRule
	app    string
	counts []uint32 // by hour, a ring: see above; nil before the first failure
	hour   int64    // the current hour (math.MinInt64 before the first failure)
	refs   []Ref    // its failures, until it fires
	thr    float64  // the failures it must exceed
	start  int64    // time of its first failure
	fired  bool
}

func (r *spikeRule) newState(k key) state {
	return &spikeState{r: r, app: k.s, hour: math.MinInt64}
}

func (s *spikeState) reset(k key) state {
	*s = spikeState{r: s.r, app: k.s, counts: s.counts, hour: math.MinInt64, refs: s.refs[:0]} // counts unread: see copyTo
	return s
}

// hours is the length of the ring: the current hour and the weeks before.
func (r *spikeRule) hours() int64 { return int64(r.weeks)*168 + 1 }

// count returns the failures of hour h, one of the ring's hours.
func (s *spikeState) count(h int64) uint32 { return s.counts[floorMod(h, int64(len(s.counts)))] }

func (s *spikeState) copyTo(dst state) state {
	c, _ := dst.(*spikeState)
	if c == nil {
		c = new(spikeState)
	}
	counts, refs := c.counts, c.refs
	*c = *s
	if s.counts != nil { // else c's ring, if any, is unread: its first failure clears it (advance)
		counts = append(counts[:0], s.counts...)
	}
	c.counts, c.refs = counts, append(refs[:0], s.refs...)
	return c
}

func (s *spikeState) idle(cut int64) bool { return cut >= s.idleFrom() }

// idleFrom is the start of the first hour whose weeks before no longer
// reach the current hour.
func (s *spikeState) idleFrom() int64 {
	if s.hour == math.MinInt64 {
		return math.MinInt64
	}
	return (s.hour + int64(s.r.weeks)*168 + 1) * hourNs
}

// threshold is the failures hour h must exceed: max(minimum, factor × the
// median of the same hour of the previous weeks).
func (s *spikeState) threshold(h int64) float64 {
	prev := make([]int, s.r.weeks)
	for k := range prev {
		prev[k] = int(s.count(h - int64(k+1)*168))
	}
	return max(float64(s.r.minimum), s.r.factor*median(prev))
}

func median(v []int) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	return float64(v[n/2-1]+v[n/2]) / 2
}

func (s *spikeState) fold(o *rec, out sink) {
	h := floorDiv(o.Time, hourNs)
	if h != s.hour {
		s.advance(h)
		s.hour, s.refs, s.start, s.fired = h, s.refs[:0], o.Time, false
		s.thr = s.threshold(h)
	}
	s.counts[floorMod(h, int64(len(s.counts)))]++
	if s.fired {
		return
	}
	s.refs = append(s.refs, o.Ref)
	if float64(s.count(h)) <= s.thr {
		return
	}
	s.fired = true
	out.emit(&Detection{ID: detectionID(FailureSpike, s.app, s.refs[0]), Type: FailureSpike, Level: LevelLow,
		Time: o.Time, Opener: o.Ref, Start: s.start, End: o.Time, Source: s.app, Rule: s.r.text, Evidence: slices.Clone(s.refs)})
	s.refs = nil
}

// advance moves the ring from the current hour to the later hour h: the
// hours after the current one up to h had no failure, and their slots
// held hours now older than the ring. Before the first failure, or after
// a gap of the ring's length, every slot is cleared.
func (s *spikeState) advance(h int64) {
	n := s.r.hours()
	if int64(len(s.counts)) != n {
		s.counts = make([]uint32, n)
	}
	if s.hour == math.MinInt64 || h-s.hour >= n {
		clear(s.counts)
		return
	}
	for x := s.hour + 1; x <= h; x++ {
		s.counts[floorMod(x, n)] = 0
	}
}

func spikeRuleOf(o Options) *spikeRule {
	return &spikeRule{minimum: o.SpikeMinimum, factor: o.SpikeFactor, weeks: o.SpikeWeeks,
		text: fmt.Sprintf("an application's failed sign-ins in one hour (UTC) exceed max(%d, %g × the median of the same hour of the week over the previous %d weeks)",
			o.SpikeMinimum, o.SpikeFactor, o.SpikeWeeks)}
}
