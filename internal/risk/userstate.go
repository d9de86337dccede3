package risk

// userRules are the rules keyed by the user: bruteForce, mfaFatigue,
// unfamiliarSignInProperties and atypicalTravel. The detector keeps one
// state for the four per user — one lookup, one buffer of the late
// horizon, one copy per horizon, where four keys cost four of each — and
// each part folds only the events its rule reads, so every part sees
// what it would see alone.
type userRules struct {
	brute, fatigue *countRule
	unf            *unfamiliarRule
	travel         *travelRule
}

// userState is the four rules' states of one user; fatigue is nil until
// the user's first MFA challenge, which most users never have.
type userState struct {
	r       *userRules
	brute   countState
	unf     unfamiliarState
	travel  travelState
	fatigue *countState
}

// routeUser reports whether o concerns a user-keyed rule.
func routeUser(o *Observation) bool {
	return o.User != "" && (forBrute(o) || forFatigue(o) || forUnfamiliar(o))
}

// The events each user-keyed rule reads, o's user being set; atypicalTravel
// reads the located ones of unfamiliarSignInProperties.
func forBrute(o *Observation) bool {
	return o.userSignIn() && (o.FirstFactorFailure || o.Status == StatusSuccess)
}
func forFatigue(o *Observation) bool    { return !o.Principal && o.MFA != MFANone }
func forUnfamiliar(o *Observation) bool { return o.userSignIn() && o.Status == StatusSuccess }

func (r *userRules) newState(user string) state {
	return &userState{r: r, brute: countState{r: r.brute, key: user},
		unf: unfamiliarState{r: r.unf, user: user}, travel: travelState{r: r.travel, user: user}}
}

func (s *userState) fold(o *Observation, out sink) {
	if forBrute(o) {
		s.brute.fold(o, out)
	}
	if forFatigue(o) {
		if s.fatigue == nil {
			s.fatigue = &countState{r: s.r.fatigue, key: s.brute.key}
		}
		s.fatigue.fold(o, out)
	}
	if forUnfamiliar(o) {
		s.unf.fold(o, out)
		if o.located() {
			s.travel.fold(o, out)
		}
	}
}

func (s *userState) fresh() state { return s.r.newState(s.brute.key) }

func (s *userState) clone() state {
	c := &userState{r: s.r, brute: s.brute.copy(), unf: s.unf.copy(), travel: s.travel}
	if s.fatigue != nil {
		f := s.fatigue.copy()
		c.fatigue = &f
	}
	return c
}

// idle reports whether no part can affect an event at or after cut. It
// empties the parts that cannot, which is the same to every later event,
// so that a user kept for one rule (travel keeps the latest sign-in for
// ever) holds nothing for the others.
func (s *userState) idle(cut int64) bool {
	all := true
	if s.brute.idle(cut) {
		s.brute = countState{r: s.brute.r, key: s.brute.key}
	} else {
		all = false
	}
	if s.fatigue != nil && s.fatigue.idle(cut) {
		s.fatigue = nil
	} else if s.fatigue != nil {
		all = false
	}
	if s.unf.idle(cut) {
		s.unf = unfamiliarState{r: s.unf.r, user: s.unf.user}
	} else {
		all = false
	}
	return s.travel.idle(cut) && all
}
