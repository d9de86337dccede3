package insights

import "github.com/insightslab/insights/internal/frame"

// policyGroups is how many leading group values a metric takes from the
// policies of the event log rather than from dimensions.
func policyGroups(m Metric) int {
	switch m {
	case MFAPolicyPrompts:
		return 1 // policy
	case ConditionalAccessPolicies:
		return 2 // policy, result
	case RiskDetections, RiskyUsers:
		return 2 // type and level; level and state (riskmetrics.go)
	}
	return 0
}

// runPolicies counts, per bucket, the events matching the query's filter
// and the metric's base by the policies of their log records: MFA
// challenges by requiring policy, or sign-ins by conditional-access policy
// and result. Cost: the matching entries' records are decoded.
func (ev *evaluation) runPolicies() {
	ca := ev.q.Metric == ConditionalAccessPolicies
	base := mfaChallenge
	if ca {
		base = signIn
	}
	f := And(ev.q.Filter, base)
	okCode, _ := ev.e.dims[DimMFAResult-1].lookup(MFASuccess)
	series := []string{"attempts", "successes", "failures"}
	if ca {
		series = []string{""}
	}
	for _, b := range ev.buckets {
		counts := map[string][]uint64{}
		for n := max(b.from, ev.minDay); n < b.to && n <= ev.maxDay; n++ {
			if !ev.check() {
				return
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
			match, err := ev.e.entriesMatching(d, l, f)
			if err != nil {
				ev.err = err
				return
			}
			it, cur := match.Iterator(), l.cursor()
			for it.HasNext() {
				i := it.Next()
				if l.users[i] == erasedUser {
					continue // an erased user's record, policies included, is gone
				}
				var rec Event
				raw, err := cur.record(int(i))
				if err == nil {
					err = decodeRecord(d.logKey, raw, &rec, ev.e.loc)
				}
				if err != nil {
					ev.err = err
					return
				}
				c := l.combos[i]
				k := 1 // successes, else failures
				if d.ix.Cols[DimMFAResult-1].At(c) != okCode {
					k = 2
				}
				count := func(values ...string) {
					key := ev.policyKey(d, c, values)
					if counts[key] == nil {
						counts[key] = make([]uint64, len(series))
					}
					counts[key][0]++
					if !ca {
						counts[key][k]++
					}
				}
				switch {
				case ca:
					for _, p := range rec.CAPolicies {
						count(p.Name, p.Result)
					}
				case len(rec.MFAPolicies) == 0:
					count("")
				default:
					for _, p := range rec.MFAPolicies {
						count(p)
					}
				}
			}
		}
		for key, cs := range counts {
			for order, name := range series {
				ev.emit(b, name, order, key, nil, float64(cs[order]))
			}
		}
	}
}

// policyKey is the group key of policy values followed by the codes of
// combination c in the group columns: each value length-prefixed.
func (ev *evaluation) policyKey(d *day, c uint32, values []string) string {
	var b []byte
	for _, v := range values {
		b = frame.AppendString(b, v)
	}
	return string(b) + ev.groupCodes(d, c)
}
