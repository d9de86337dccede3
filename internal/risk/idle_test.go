package risk

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// idleAt is idle as the package doc defines it, written apart from
// idleFrom: whether at cut the sweep forgets s (all) or empties a part
// of a user's state (some).
func idleAt(s state, cut int64) (all, some bool) {
	window := func(win []wev, window int64, bucket int64, open bool, latest []int64, followUp int64) bool {
		if n := len(win); n > 0 && win[n-1].Time > cut-window {
			return false
		}
		if open && bucket >= floorDiv(cut, window) {
			return false
		}
		for _, l := range latest {
			if l+followUp >= cut {
				return false
			}
		}
		return true
	}
	count := func(c *countState) bool {
		var latest []int64
		for _, e := range c.await {
			latest = append(latest, e.last)
		}
		return window(c.win.all(), c.r.window, c.open.bucketOrZero(), c.open != nil, latest, c.r.followUp)
	}
	switch s := s.(type) {
	case *countState:
		return count(s), false
	case *sprayState:
		var latest []int64
		for _, e := range s.await {
			latest = append(latest, e.last)
		}
		open := s.open != nil
		var bucket int64
		if open {
			bucket = s.open.bucket
		}
		return window(s.win.all(), s.r.window, bucket, open, latest, s.r.followUp), false
	case *spikeState:
		return s.hour < floorDiv(cut, hourNs)-int64(s.r.weeks)*168, false
	case *userState:
		brute := s.brute != nil && count(s.brute)
		fatigue := s.fatigue != nil && count(s.fatigue)
		unf := s.unf.n > 0 && s.unf.data[s.unf.n-1] < cut-s.r.unf.history
		all = (s.brute == nil || brute) && (s.fatigue == nil || fatigue) && (s.unf.n == 0 || unf) && !s.travel.has
		return all, brute || fatigue || unf
	}
	panic(fmt.Sprintf("a state of type %T", s))
}

// bucketOrZero is e's bucket, 0 for no episode.
func (e *episode) bucketOrZero() int64 {
	if e == nil {
		return 0
	}
	return e.bucket
}

// TestIdleFromIsTheFirstIdleCut checks every state's idleFrom, at points
// of 35 days of traffic with its attacks, against idle as defined: at the
// cut before it, nothing is idle; at it, the state or a part of a user's
// is (none, for idleFrom math.MaxInt64: a user kept for travel with no
// part left: with traffic's users, who sign in daily, none is); and idle agrees, on copies (it empties a user's idle
// parts).
func TestIdleFromIsTheFirstIdleCut(t *testing.T) {
	obs := traffic(2, 300, 35)
	slices.SortFunc(obs, func(a, b Observation) int { return compare(&a, &b) })
	d := New(Options{})
	checked := map[string]int{}
	for i := range obs {
		if err := d.Add(&obs[i]); err != nil {
			t.Fatal(err)
		}
		if i%2000 != 0 && i != len(obs)-1 {
			continue
		}
		for r := range d.tables {
			tb := &d.tables[r]
			for n := range tb.slots.n {
				s := tb.slots.at(n).lag
				if s == nil {
					continue
				}
				from := s.idleFrom()
				kind := fmt.Sprintf("%T", s)
				switch from {
				case math.MinInt64:
					if all, _ := idleAt(s, d.cut); !all || !s.copyTo(nil).idle(d.cut) {
						t.Fatalf("event %d: %s idle from any cut, but not at %d", i, kind, d.cut)
					}
					kind += "/any"
				case math.MaxInt64:
					if all, some := idleAt(s, d.cut+int64(100*365*24*time.Hour)); all || some {
						t.Fatalf("event %d: %s never idle, but idle a century on", i, kind)
					}
					kind += "/never"
				default:
					if all, some := idleAt(s, from-1); all || some || s.copyTo(nil).idle(from-1) {
						t.Fatalf("event %d: %s idle from %d, but idle at the cut before", i, kind, from)
					}
					all, some := idleAt(s, from)
					if c := s.copyTo(nil); !all && !some || c.idle(from) != all {
						t.Fatalf("event %d: %s idle from %d, but at it: all %v, some %v", i, kind, from, all, some)
					}
				}
				checked[kind]++
			}
		}
	}
	for _, k := range []string{"*risk.userState", "*risk.userState/any", "*risk.sprayState", "*risk.spikeState"} {
		if checked[k] == 0 {
			t.Errorf("no %s checked: %v", k, checked)
		}
	}
}

// TestSweepEmptiesIdlePartsOfKeptUsers: a user whose located sign-in
// keeps them for travel, and who failed once, has their bruteForce part
// (a 12-hour window here) emptied by the first sweep after it is idle,
// though they have no event since a sweep that found the part not idle.
func TestSweepEmptiesIdlePartsOfKeptUsers(t *testing.T) {
	opt := Options{BruteWindow: 12 * time.Hour}
	d := New(opt)
	var es events
	o := success("kept", at(0))
	o.Lat, o.Lon = 48.85, 2.35
	es.add(o)
	es.add(failure("kept", at(time.Minute)))
	for h := range 24 * 4 { // another user, hourly, four days on
		es.add(success("other", at(time.Duration(h+1)*time.Hour)))
	}
	part := func() *countState {
		u, _ := d.tables[ruleUser].slots.at(d.userKeys.ids["kept"]).lag.(*userState)
		if u == nil || !u.travel.has {
			t.Fatalf("the user's state is gone: %+v", u)
		}
		return u.brute
	}
	for i := range es {
		if err := d.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
		if i == 6 { // the failure folded, its window not over
			if d.Compact(); part() == nil {
				t.Fatal("a compaction 5 hours on emptied the bruteForce part of a 12-hour window")
			}
		}
	}
	if p := part(); p != nil {
		t.Fatalf("the bruteForce part, idle for days, is kept: %+v", p)
	}
}
