package main

// The brute-force comparator: a compact in-memory copy of every event
// (16 bytes each) and plain loops that evaluate SPEC §4 and §5's
// definitions on it, one event at a time.

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/insightslab/insights"
)

// rec is one event of the scan's copy: the raw values the queries read.
type rec struct {
	user    uint32 // math.MaxUint32 for principal sign-ins
	sec     int32  // second of the day
	app     uint8
	os      uint8
	country uint8
	kind    insights.Kind
	sit     insights.SignInType
	status  insights.Status
	mfaM    uint8
	mfaR    uint8
}

const noUser = math.MaxUint32

// scanDB holds the copy, one slice per day.
type scanDB struct {
	users int
	days  [][]rec
}

func newScanDB(users, days int) *scanDB {
	return &scanDB{users: users, days: make([][]rec, days)}
}

// addDay copies day d's generated events.
func (s *scanDB) addDay(d int, evs []ev) {
	out := make([]rec, len(evs))
	for i := range evs {
		e := &evs[i]
		r := rec{user: noUser, sec: e.sec, app: e.app, os: e.os, country: e.country, kind: e.kind, sit: e.sit, status: e.status, mfaM: e.mfaM, mfaR: e.mfaR}
		if e.user >= 0 {
			r.user = uint32(e.user)
		}
		out[i] = r
	}
	s.days[d] = out
}

// bytes is the size of the copy.
func (s *scanDB) bytes() int64 {
	var n int64
	for _, d := range s.days {
		n += int64(cap(d)) * int64(unsafe.Sizeof(rec{}))
	}
	return n
}

// activity is SPEC §4's activity: a successful interactive or
// non-interactive user sign-in, or a successful sign-up.
func (r *rec) activity() bool {
	if r.status != insights.StatusSuccess || r.user == noUser {
		return false
	}
	switch r.kind {
	case insights.KindSignUp:
		return true
	case insights.KindSignIn:
		return r.sit == insights.SignInInteractiveUser || r.sit == insights.SignInNonInteractiveUser
	}
	return false
}

// bitset is a set of user indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, n/64+1) }

// add inserts u and reports whether it was new.
func (b bitset) add(u uint32) bool {
	w, m := u>>6, uint64(1)<<(u&63)
	if b[w]&m != 0 {
		return false
	}
	b[w] |= m
	return true
}

func (b bitset) clear() { clear(b) }

func (b bitset) count() int64 {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// activeByDay: DAU for each day of the window.
func (s *scanDB) activeByDay(w window) answer {
	a := answer{}
	set := newBitset(s.users)
	for d := w.from; d < w.to; d++ {
		set.clear()
		var n int64
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.activity() && set.add(r.user) {
				n++
			}
		}
		a.add(dayKey(d), n)
	}
	return a
}

// activeTotal: distinct users with an activity matching pred in the window.
func (s *scanDB) activeTotal(w window, pred func(*rec) bool) answer {
	set := newBitset(s.users)
	var n int64
	for d := w.from; d < w.to; d++ {
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.activity() && (pred == nil || pred(r)) && set.add(r.user) {
				n++
			}
		}
	}
	a := answer{}
	a.add("", n)
	return a
}

// newUsers: per day, users whose first activity ever is that day.
func (s *scanDB) newUsers(w window) answer {
	first := make([]int32, s.users)
	for u := range first {
		first[u] = -1
	}
	for d := 0; d < w.to; d++ {
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.activity() && first[r.user] < 0 {
				first[r.user] = int32(d)
			}
		}
	}
	per := make([]int64, w.to)
	for _, f := range first {
		if f >= int32(w.from) {
			per[f]++
		}
	}
	a := answer{}
	for d := w.from; d < w.to; d++ {
		a.add(dayKey(d), per[d])
	}
	return a
}

// inactive: as of each day d of the window, users with an activity on or
// before d and none in the n days ending on d (the generator deletes no one).
func (s *scanDB) inactive(w window, n int) answer {
	last := make([]int32, s.users)
	for u := range last {
		last[u] = -1
	}
	a := answer{}
	for d := 0; d < w.to; d++ {
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.activity() {
				last[r.user] = int32(d)
			}
		}
		if d < w.from {
			continue
		}
		cut := int32(d - n)
		var c int64
		for _, l := range last {
			if l >= 0 && l <= cut {
				c++
			}
		}
		a.add(dayKey(d), c)
	}
	return a
}

// authByOS: sign-ins per day and OS: attempts, successes, failures, interrupts.
func (s *scanDB) authByOS(w window) answer {
	a := answer{}
	for d := w.from; d < w.to; d++ {
		var c [256][4]int64
		for i := range s.days[d] {
			r := &s.days[d][i]
			if r.kind != insights.KindSignIn {
				continue
			}
			c[r.os][0]++
			switch r.status {
			case insights.StatusSuccess:
				c[r.os][1]++
			case insights.StatusFailure:
				c[r.os][2]++
			case insights.StatusInterrupted:
				c[r.os][3]++
			}
		}
		for os := range osNames {
			for j, series := range authSeries {
				a.add(dayKey(d)+"|"+osNames[os]+"|"+series, c[os][j])
			}
		}
	}
	return a
}

// mfaFailures: MFA challenges (MFA events, sign-ins that performed a
// step) whose result is not success, per day and result.
func (s *scanDB) mfaFailures(w window) answer {
	a := answer{}
	for d := w.from; d < w.to; d++ {
		var c [256]int64
		for i := range s.days[d] {
			r := &s.days[d][i]
			challenge := r.kind == insights.KindMFA || r.kind == insights.KindSignIn && r.mfaM != 0
			if challenge && r.mfaR != mfaResSuccess {
				c[r.mfaR]++
			}
		}
		for m := range mfaResults {
			a.add(dayKey(d)+"|"+mfaResults[m], c[m])
		}
	}
	return a
}

// activeByCountryTop: the top distinct-user counts per country in the
// window, ties broken by country code.
func (s *scanDB) activeByCountryTop(w window, top int) answer {
	sets := make([]bitset, len(countryCodes))
	counts := make([]int64, len(countryCodes))
	for d := w.from; d < w.to; d++ {
		for i := range s.days[d] {
			r := &s.days[d][i]
			if !r.activity() {
				continue
			}
			if sets[r.country] == nil {
				sets[r.country] = newBitset(s.users)
			}
			if sets[r.country].add(r.user) {
				counts[r.country]++
			}
		}
	}
	idx := make([]int, 0, len(countryCodes))
	for c := range countryCodes {
		if counts[c] > 0 {
			idx = append(idx, c)
		}
	}
	slices.SortFunc(idx, func(x, y int) int {
		if c := cmp.Compare(counts[y], counts[x]); c != 0 {
			return c
		}
		return cmp.Compare(countryCodes[x], countryCodes[y])
	})
	a := answer{}
	for _, c := range idx[:min(top, len(idx))] {
		a.add(countryCodes[c], counts[c])
	}
	return a
}
