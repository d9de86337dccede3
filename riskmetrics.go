package insights

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/risk"
)

// errRiskStale stops a risk metric whose detections must be rebuilt: Query
// rebuilds them and evaluates again.
var errRiskStale = errors.New("insights: risk detections to rebuild")

// runRisk answers RiskDetections and RiskyUsers from the detections, under
// the read lock and the detector's lock, once the detector has folded
// every event applied (or errRiskStale while it is rebuilt: Query waits
// for the rebuild, without the read lock it needs, and evaluates again). A detection is matched and
// grouped by the event that opened it (Detection.Opener). Cost: a pass
// over the detections per bucket, and with a filter or GroupBy the
// filter's entries of each opening event's day (once per day).
func (ev *evaluation) runRisk() {
	rs := &ev.e.risk
	if rs.disabled {
		ev.warnings = append(ev.warnings, "risk detections are disabled (Options.Risk.Disabled)")
		return
	}
	det, err := rs.feed.await(ev.ctx, rs.feed.queued(), true)
	if err != nil {
		ev.err = err
		return
	}
	defer rs.feed.dmu.Unlock()
	dets := det.Detections()
	// The group key of each detection's opening event, without the
	// leading values; absent: it does not match the filter.
	codes := make(map[risk.Ref]string, len(dets))
	matches := map[int32]*roaring.Bitmap{}
	filtered := !ev.q.Filter.IsAll()
	for i := range dets {
		if !ev.check() {
			return
		}
		n, seq := refEntry(dets[i].Opener)
		if !filtered && len(ev.groupCols) == 0 {
			codes[dets[i].Opener] = ""
			continue
		}
		d := ev.day(n)
		if d == nil {
			continue
		}
		l, err := d.events()
		if err != nil {
			ev.err = err
			return
		}
		if int(seq) >= l.len() {
			continue
		}
		if filtered {
			m, ok := matches[n]
			if !ok {
				if m, err = ev.e.entriesMatching(d, l, ev.q.Filter); err != nil {
					ev.err = err
					return
				}
				matches[n] = m
			}
			if !m.Contains(seq) {
				continue
			}
		}
		codes[dets[i].Opener] = ev.groupCodes(d, l.combos[seq])
	}
	if ev.q.Metric == RiskDetections {
		ev.riskDetections(dets, codes)
		return
	}
	groups := map[string]bool{}
	for _, c := range codes {
		groups[c] = true
	}
	if !filtered && len(ev.groupCols) == 0 {
		groups = map[string]bool{"": true}
	}
	now := ev.e.now().UnixNano()
	for _, b := range ev.buckets {
		asOf := min(now, dateOfNum(b.to).Start(ev.e.loc).UnixNano()-1)
		for _, g := range slices.Sorted(maps.Keys(groups)) {
			if !ev.check() {
				return
			}
			var keep func(*risk.Detection) bool
			if filtered || len(ev.groupCols) > 0 {
				keep = func(d *risk.Detection) bool { c, ok := codes[d.Opener]; return ok && c == g }
			}
			counts := map[string]int{}
			for _, u := range det.RiskyUsers(asOf, rs.window, keep) {
				counts[string(frame.AppendString(frame.AppendString(nil, u.Level.String()), u.State.String()))+g]++
			}
			for k, c := range counts {
				ev.emit(b, "", 0, k, nil, float64(c))
			}
		}
	}
}

// riskDetections counts the detections matching (in codes) by bucket,
// type, level and group.
func (ev *evaluation) riskDetections(dets []risk.Detection, codes map[risk.Ref]string) {
	for _, b := range ev.buckets {
		counts := map[string]int{}
		for i := range dets {
			d := &dets[i]
			n, _ := refEntry(d.Opener)
			c, ok := codes[d.Opener]
			if !ok || n < b.from || n >= b.to {
				continue
			}
			counts[string(frame.AppendString(frame.AppendString(nil, string(d.Type)), d.Level.String()))+c]++
		}
		for k, c := range counts {
			ev.emit(b, "", 0, k, nil, float64(c))
		}
	}
}

// entriesMatching is matchEntries with every entry for nil (no filter).
func (e *Engine) entriesMatching(d *day, l *eventLog, f Filter) (*roaring.Bitmap, error) {
	m, err := e.matchEntries(d, l, f)
	if m == nil && err == nil {
		m = roaring.New()
		m.AddRange(0, uint64(l.len()))
	}
	return m, err
}

// groupCodes is the part of a group key (policyKey) that the group
// columns of combination c of day d make: their codes, 4 bytes each.
func (ev *evaluation) groupCodes(d *day, c uint32) string {
	var b []byte
	for _, col := range ev.groupCols {
		b = binary.LittleEndian.AppendUint32(b, d.ix.Cols[col].At(c))
	}
	return string(b)
}
