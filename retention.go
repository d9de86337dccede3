package insights

// applyRetention drops the days before the retention horizon and the
// sketches that lie wholly before it, and returns the segment keys to
// delete once the next manifest no longer names them. Per-user first
// activity and deletion days stay. The write lock is held.
func (e *Engine) applyRetention() []string {
	if e.retentionDays == 0 {
		return nil
	}
	// The horizon never moves back; days before it are dropped at every
	// checkpoint, late events that arrived for them since included.
	e.horizon = max(e.horizon, dayOf(e.now(), e.loc)-int32(e.retentionDays))
	horizon := e.horizon
	var garbage []string
	for n, ds := range e.days {
		if n < horizon {
			if ds.segKey != "" {
				garbage = append(garbage, ds.segKey)
			}
			e.residents.unlist(ds)
			delete(e.days, n)
			e.risk.det = nil // the detections are those of the retained log: rebuilt on the next risk read
		}
	}
	e.sketches.dropBefore(horizon)
	return garbage
}
