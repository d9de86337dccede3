package risk

import (
	"fmt"
	"maps"
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

type spikeState struct {
	r      *spikeRule
	app    string
	counts map[int64]int // failures by hour (Unix hours) of the last weeks and the current hour
	hour   int64         // the current hour
	refs   []Ref         // its failures, until it fires
	thr    float64       // the failures it must exceed
	start  int64         // time of its first failure
	fired  bool
}

func (r *spikeRule) newState(key string) state {
	return &spikeState{r: r, app: key, counts: map[int64]int{}, hour: math.MinInt64}
}

func (s *spikeState) fresh() state { return s.r.newState(s.app) }

func (s *spikeState) copyTo(dst state) state {
	c, _ := dst.(*spikeState)
	if c == nil {
		c = &spikeState{counts: map[int64]int{}}
	}
	counts, refs := c.counts, c.refs
	*c = *s
	clear(counts)
	maps.Copy(counts, s.counts)
	c.counts, c.refs = counts, append(refs[:0], s.refs...)
	return c
}

func (s *spikeState) idle(cut int64) bool {
	return s.hour < floorDiv(cut, hourNs)-int64(s.r.weeks)*168
}

// threshold is the failures hour h must exceed: max(minimum, factor × the
// median of the same hour of the previous weeks).
func (s *spikeState) threshold(h int64) float64 {
	prev := make([]int, s.r.weeks)
	for k := range prev {
		prev[k] = s.counts[h-int64(k+1)*168]
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
		s.hour, s.refs, s.start, s.fired = h, s.refs[:0], o.Time, false
		maps.DeleteFunc(s.counts, func(k int64, _ int) bool { return k < h-int64(s.r.weeks)*168 })
		s.thr = s.threshold(h)
	}
	s.counts[h]++
	if s.fired {
		return
	}
	s.refs = append(s.refs, o.Ref)
	if float64(s.counts[h]) <= s.thr {
		return
	}
	s.fired = true
	out.emit(&Detection{ID: detectionID(FailureSpike, s.app, s.refs[0]), Type: FailureSpike, Level: LevelLow,
		Time: o.Time, Opener: o.Ref, Start: s.start, End: o.Time, Source: s.app, Rule: s.r.text, Evidence: slices.Clone(s.refs)})
	s.refs = nil
}

func spikeRuleOf(o Options) *spikeRule {
	return &spikeRule{minimum: o.SpikeMinimum, factor: o.SpikeFactor, weeks: o.SpikeWeeks,
		text: fmt.Sprintf("an application's failed sign-ins in one hour (UTC) exceed max(%d, %g × the median of the same hour of the week over the previous %d weeks)",
			o.SpikeMinimum, o.SpikeFactor, o.SpikeWeeks)}
}
