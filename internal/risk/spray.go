package risk

import (
	"fmt"
	"maps"
	"slices"
)

// sprayRule is passwordSpray over one source's user sign-ins.
type sprayRule struct {
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
	targets map[string]*target // by user key; users without a key are not targets
}

type sprayState struct {
	r       *sprayRule
	source  string
	win     window         // the source's user sign-ins in (t-window, t]
	failed  int            // failures in win
	users   map[string]int // first-factor failures in win by user key
	keyless int            // first-factor failures in win without a user key
	open    *sprayEpisode
	await   []*sprayEpisode // episodes whose targets may still succeed
}

func (r *sprayRule) newState(key string) state {
	return &sprayState{r: r, source: key, users: map[string]int{}}
}

func (s *sprayState) fresh() state { return s.r.newState(s.source) }

func (s *sprayState) clone() state {
	c := &sprayState{r: s.r, source: s.source, win: s.win.clone(), failed: s.failed,
		users: maps.Clone(s.users), keyless: s.keyless}
	copyEp := func(e *sprayEpisode) *sprayEpisode {
		n := &sprayEpisode{episode: e.episode, opener: e.opener, targets: make(map[string]*target, len(e.targets))}
		n.d.Evidence = slices.Clone(e.d.Evidence)
		for u, t := range e.targets {
			tc := *t
			tc.evidence = slices.Clone(t.evidence)
			n.targets[u] = &tc
		}
		return n
	}
	c.open, c.await = cloneEpisodes(s.open, s.await, copyEp)
	return c
}

func (s *sprayState) idle(cut int64) bool {
	return windowIdle(s.win.all(), s.r.window, s.open, s.await, s.r.followUp, cut)
}

func (s *sprayState) fold(o *Observation, out sink) {
	r := s.r
	s.await = raisable(s.await, o.Time, r.followUp)
	if o.Status == StatusSuccess && o.User != "" {
		for _, e := range s.await {
			s.raise(e, o, out)
		}
	}
	// Slide the window.
	s.win.push(o)
	s.count(o, 1)
	s.win.expire(o.Time-r.window, func(w *Observation) { s.count(w, -1) })
	win := s.win.all()
	if !o.FirstFactorFailure || len(s.users)+s.keyless < r.users || float64(s.failed) < r.share*float64(len(win)) {
		return
	}
	b := floorDiv(o.Time, r.window)
	if e := s.open; e != nil && e.bucket == b {
		e.d.Evidence = append(e.d.Evidence, o.Ref)
		e.d.End, e.last = o.Time, o.Time
		e.addTarget(o)
		out.emit(&e.d)
		return
	}
	e := &sprayEpisode{targets: map[string]*target{}}
	e.bucket, e.last, e.opener = b, o.Time, o.Ref
	e.d = Detection{ID: detectionID(PasswordSpray, s.source, o.Ref), Type: PasswordSpray, Level: LevelMedium, Time: o.Time, Opener: o.Ref, End: o.Time, Source: s.source, Rule: r.text}
	for _, w := range win {
		if w.FirstFactorFailure {
			if e.d.Evidence == nil {
				e.d.Start = w.Time
			}
			e.d.Evidence = append(e.d.Evidence, w.Ref)
			e.addTarget(w)
		}
	}
	s.open = e
	s.await = append(s.await, e)
	out.emit(&e.d)
}

// count adds (d 1) or removes (d -1) o from the window's counters.
func (s *sprayState) count(o *Observation, d int) {
	if o.Status == StatusFailure {
		s.failed += d
	}
	switch {
	case !o.FirstFactorFailure:
	case o.User == "":
		s.keyless += d
	default:
		if s.users[o.User] += d; s.users[o.User] == 0 {
			delete(s.users, o.User)
		}
	}
}

func (e *sprayEpisode) addTarget(o *Observation) {
	if o.User == "" {
		return
	}
	t := e.targets[o.User]
	if t == nil {
		t = &target{first: o.Time}
		e.targets[o.User] = t
	}
	t.evidence = append(t.evidence, o.Ref)
	t.last = o.Time
}

// raise makes the high detection of a targeted user who succeeded from
// the source within the follow-up of their latest evidence.
func (s *sprayState) raise(e *sprayEpisode, o *Observation, out sink) {
	t := e.targets[o.User]
	if t == nil || t.raised || o.Time-t.last > s.r.followUp {
		return
	}
	t.raised = true
	d := Detection{ID: detectionID(PasswordSpray, s.source+"|"+o.User, e.opener), Type: PasswordSpray,
		Level: LevelHigh, Time: o.Time, Opener: o.Ref, User: o.User, Source: s.source, Rule: s.r.text,
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
