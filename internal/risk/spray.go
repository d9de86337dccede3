package risk

import (
	"fmt"
	"maps"
	"slices"
)

// sprayRule is passwordSpray over one source's user sign-ins.
type sprayRule struct {
	names    *names // the detector's user keys (newRules)
	users    int
	share    float64
	window   int64
	followUp int64
	text     string
}

// target is one user's part in a spray episode.
type target struct {
	evidence []Ref
	first    int64 // time of the user's first evidence
	last     int64 // time of the user's latest evidence
	raised   bool  // the user's high detection was made
}

type sprayEpisode struct {
	episode
	opener  Ref                // the event that opened it
	targets map[uint32]*target // by user number; users without a key are not targets
}

type sprayState struct {
	r       *sprayRule
	source  key            // spelled (name) only in the detections it makes
	win     window         // the source's user sign-ins in (t-window, t]
	failed  int            // failures in win
	users   map[uint32]int // first-factor failures in win by user number
	keyless int            // first-factor failures in win without a user key
	open    *sprayEpisode
	await   []*sprayEpisode // episodes whose targets may still succeed
}

func (r *sprayRule) newState(k key) state {
	return &sprayState{r: r, source: k, users: map[uint32]int{}}
}

func (s *sprayState) reset(k key) state {
	clear(s.users)
	clear(s.await)
	*s = sprayState{r: s.r, source: k, win: window{evs: s.win.evs[:0]}, users: s.users, await: s.await[:0]}
	return s
}

func (s *sprayState) copyTo(dst state) state {
	c, _ := dst.(*sprayState)
	if c == nil {
		c = &sprayState{users: map[uint32]int{}}
	}
	c.r, c.source, c.failed, c.keyless = s.r, s.source, s.failed, s.keyless
	s.win.copyTo(&c.win)
	clear(c.users)
	maps.Copy(c.users, s.users)
	copyEp := func(e *sprayEpisode) *sprayEpisode {
		n := &sprayEpisode{episode: e.episode, opener: e.opener, targets: make(map[uint32]*target, len(e.targets))}
		n.d.Evidence = slices.Clone(e.d.Evidence)
		for u, t := range e.targets {
			tc := *t
			tc.evidence = slices.Clone(t.evidence)
			n.targets[u] = &tc
		}
		return n
	}
	c.open, c.await = cloneEpisodes(s.open, s.await, c.await[:0], copyEp)
	return c
}

func (s *sprayState) idle(cut int64) bool { return cut >= s.idleFrom() }

func (s *sprayState) idleFrom() int64 {
	return windowIdleFrom(s.win.all(), s.r.window, s.open, s.await, s.r.followUp)
}

func (s *sprayState) fold(o *rec, out sink) {
	r := s.r
	s.await = raisable(s.await, o.Time, r.followUp)
	if o.Status == StatusSuccess && o.user != 0 {
		for _, e := range s.await {
			s.raise(e, o, out)
		}
	}
	// Slide the window.
	s.win.push(o)
	s.count(o.user, o.Status, o.FirstFactorFailure, 1)
	s.win.expire(o.Time-r.window, func(w *wev) { s.count(w.user, w.Status, w.FirstFactorFailure, -1) })
	win := s.win.all()
	if !o.FirstFactorFailure || len(s.users)+s.keyless < r.users || float64(s.failed) < r.share*float64(len(win)) {
		return
	}
	b := floorDiv(o.Time, r.window)
	if e := s.open; e != nil && e.bucket == b {
		e.d.Evidence = append(e.d.Evidence, o.Ref)
		e.d.End, e.last = o.Time, o.Time
		e.addTarget(o.user, o.Time, o.Ref)
		out.emit(&e.d)
		return
	}
	e := &sprayEpisode{targets: map[uint32]*target{}}
	e.bucket, e.last, e.opener = b, o.Time, o.Ref
	source := s.source.name()
	e.d = Detection{ID: detectionID(PasswordSpray, source, o.Ref), Type: PasswordSpray, Level: LevelMedium, Time: o.Time, Opener: o.Ref, End: o.Time, Source: source, Rule: r.text}
	for _, w := range win {
		if w.FirstFactorFailure {
			if e.d.Evidence == nil {
				e.d.Start = w.Time
			}
			e.d.Evidence = append(e.d.Evidence, w.Ref)
			e.addTarget(w.user, w.Time, w.Ref)
		}
	}
	s.open = e
	s.await = append(s.await, e)
	out.emit(&e.d)
}

// count adds (d 1) or removes (d -1) an event of user, status st and
// first-factor failure ff from the window's counters.
func (s *sprayState) count(user uint32, st Status, ff bool, d int) {
	if st == StatusFailure {
		s.failed += d
	}
	switch {
	case !ff:
	case user == 0:
		s.keyless += d
	default:
		if s.users[user] += d; s.users[user] == 0 {
			delete(s.users, user)
		}
	}
}

// addTarget adds a first-factor failure of user at t, ref to the episode.
func (e *sprayEpisode) addTarget(user uint32, t int64, ref Ref) {
	if user == 0 {
		return
	}
	u := e.targets[user]
	if u == nil {
		u = &target{first: t}
		e.targets[user] = u
	}
	u.evidence = append(u.evidence, ref)
	u.last = t
}

// raise makes the high detection of a targeted user who succeeded from
// the source within the follow-up of their latest evidence.
func (s *sprayState) raise(e *sprayEpisode, o *rec, out sink) {
	t := e.targets[o.user]
	if t == nil || t.raised || o.Time-t.last > s.r.followUp {
		return
	}
	t.raised = true
	user := s.r.names.name(o.user)
	source := s.source.name()
	d := Detection{ID: detectionID(PasswordSpray, source+"|"+user, e.opener), Type: PasswordSpray,
		Level: LevelHigh, Time: o.Time, Opener: o.Ref, User: user, Source: source, Rule: s.r.text,
		Evidence: append(slices.Clone(t.evidence), o.Ref)}
	d.Start, d.End = t.first, o.Time
	out.emit(&d)
}

func sprayRuleOf(o Options) *sprayRule {
	return &sprayRule{users: o.SprayUsers, share: o.SprayFailureShare, window: int64(o.SprayWindow), followUp: int64(o.SprayFollowUp),
		text: fmt.Sprintf("failed first-factor sign-ins (bad password or unknown user) against ≥ %d distinct users from one source (IPv4 /24, IPv6 /64) within %v, with ≥ %g%% of its user sign-ins in that window failing (episodes aligned on %v); high for each targeted user who then succeeds from that source within %v of their latest failure",
			o.SprayUsers, dur(o.SprayWindow), o.SprayFailureShare*100, dur(o.SprayWindow), dur(o.SprayFollowUp)),
	}
}
