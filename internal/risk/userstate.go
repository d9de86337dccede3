package risk

import "math"

// userRules are the rules keyed by the user: bruteForce, mfaFatigue,
// unfamiliarSignInProperties and atypicalTravel. The detector keeps one
// state for the four per user — one slot, one buffer of the late
// horizon, one copy when a read settles it, where four keys cost four of
// each — and
// each part folds only the events its rule reads, so every part sees
// what it would see alone.
type userRules struct {
	brute, fatigue *countRule
	unf            *unfamiliarRule
	travel         *travelRule
	// parts keeps the bruteForce and mfaFatigue parts nothing uses any
	// more, emptied but with their arrays, for the next users' failures
	// and copies (dropPart): a part is made at a user's failure, and
	// dropped when the daily sweep finds it idle, when the user's state is
	// reset for another user, or when a read's copy of the user no longer
	// has it (copyPart); made anew, parts were a quarter of the detector's
	// allocations in BenchmarkAddRisk (#18, session 11). The detector's
	// sweep trims it (pool).
	parts pool[*countState]
}

// userState is the four rules' states of one user. brute and fatigue are
// nil while they hold nothing (no window event, no episode): most users
// never fail their password or an MFA challenge.
type userState struct {
	r       *userRules
	user    string
	unf     unfamiliarState
	travel  travelState
	brute   *countState
	fatigue *countState
}

// routeUser reports whether o concerns a user-keyed rule.
func routeUser(o *Observation) bool {
	return o.User != "" && (o.userSignIn() && (o.FirstFactorFailure || o.Status == StatusSuccess) ||
		!o.Principal && o.MFA != MFANone)
}

// The events each user-keyed rule reads, o's user being set; atypicalTravel
// reads the located ones of unfamiliarSignInProperties.
func forBrute(o *rec) bool {
	return o.userSignIn() && (o.FirstFactorFailure || o.Status == StatusSuccess)
}
func forFatigue(o *rec) bool    { return !o.Principal && o.MFA != MFANone }
func forUnfamiliar(o *rec) bool { return o.userSignIn() && o.Status == StatusSuccess }

func (r *userRules) newState(k key) state { return &userState{r: r, user: k.s} }

func (s *userState) reset(k key) state {
	s.r.dropPart(s.brute)
	s.r.dropPart(s.fatigue)
	*s = userState{r: s.r, user: k.s}
	return s
}

// keptPart is the largest window or follow-up array a part kept for reuse
// may have: a user who failed 20,000 times within a window does not give
// the next user a part with room for 24,576 events.
const keptPart = 32

// dropPart keeps p, which nothing uses any more (nil: none), for a later
// user's part or copy, emptied: an idle part in the pool holds no event
// and no episode, hence no evidence. A part with a larger array than
// keptPart is left to the collector.
func (r *userRules) dropPart(p *countState) {
	if p == nil || cap(p.win.evs) > keptPart || cap(p.await) > keptPart {
		return
	}
	p.reset(key{})
	r.parts.put(p)
}

func (s *userState) fold(o *rec, out sink) {
	if forBrute(o) {
		s.brute = s.r.foldPart(s.brute, s.r.brute, s.user, o, out)
	}
	if forFatigue(o) {
		s.fatigue = s.r.foldPart(s.fatigue, s.r.fatigue, s.user, o, out)
	}
	if forUnfamiliar(o) {
		s.unf.fold(s.r.unf, s.user, o, out)
		if o.located() {
			s.travel.fold(s.r.travel, s.user, o, out)
		}
	}
}

// foldPart folds o into a window rule's part p, made (from parts when it
// has one) when o qualifies (a follow-up alone changes nothing of an
// empty part).
func (u *userRules) foldPart(p *countState, r *countRule, user string, o *rec, out sink) *countState {
	if p == nil {
		if !r.qualifies(o) {
			return nil
		}
		// A part from the pool may have served another user, not idle (a
		// state reset for a new user drops its parts as they are): it is
		// empty only because dropPart's p.reset clears everything a part
		// holds, window, open episode and follow-ups alike.
		if p = u.parts.take(); p == nil {
			p = new(countState)
		}
		p.r, p.key = r, key{s: user}
	}
	p.fold(o, out)
	return p
}

func (s *userState) copyTo(dst state) state {
	c, _ := dst.(*userState)
	if c == nil {
		c = new(userState)
	}
	c.r, c.user, c.travel = s.r, s.user, s.travel
	s.unf.copyTo(&c.unf)
	c.brute, c.fatigue = s.r.copyPart(s.brute, c.brute), s.r.copyPart(s.fatigue, c.fatigue)
	return c
}

// copyPart returns a deep copy of p, in dst's memory when it has some,
// else in a part from parts (dst is kept in parts when p is nil).
func (u *userRules) copyPart(p, dst *countState) *countState {
	if p == nil {
		u.dropPart(dst)
		return nil
	}
	if dst == nil {
		if dst = u.parts.take(); dst == nil {
			dst = new(countState)
		}
	}
	p.copyInto(dst)
	return dst
}

// idle reports whether no part can affect an event at or after cut. It
// empties the parts that cannot, which is the same to every later event,
// so that a user kept for one rule (travel keeps the latest sign-in for
// ever) holds nothing for the others.
func (s *userState) idle(cut int64) bool {
	if s.brute != nil && s.brute.idle(cut) {
		s.r.dropPart(s.brute)
		s.brute = nil
	}
	if s.fatigue != nil && s.fatigue.idle(cut) {
		s.r.dropPart(s.fatigue)
		s.fatigue = nil
	}
	if s.unf.idle(s.r.unf, cut) {
		s.unf = unfamiliarState{}
	}
	return s.brute == nil && s.fatigue == nil && s.unf.n == 0 && s.travel.idle()
}

// idleFrom is the least cut at which a part is idle (idle empties it),
// or the state is: a user kept for travel for ever still has their parts
// emptied when they are idle.
func (s *userState) idleFrom() int64 {
	if s.brute == nil && s.fatigue == nil && s.unf.n == 0 && s.travel.idle() {
		return math.MinInt64
	}
	from := int64(math.MaxInt64)
	if s.brute != nil {
		from = min(from, s.brute.idleFrom())
	}
	if s.fatigue != nil {
		from = min(from, s.fatigue.idleFrom())
	}
	if s.unf.n > 0 {
		from = min(from, s.unf.idleFrom(s.r.unf))
	}
	return from
}
