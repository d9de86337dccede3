package risk

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// countRule is a threshold over a sliding window of one key's qualifying
// events (bruteForce, mfaFatigue, signUpFlood), with an optional follow-up
// event that raises an episode to high.
type countRule struct {
	typ       Type
	threshold int
	window    int64 // ns
	followUp  int64 // ns; 0: none
	level     Level
	text      string
	qualifies func(o *rec) bool
	follows   func(o *rec) bool // nil: no follow-up
	user      bool              // the key is the detection's user (else its source)
}

// episode is one detection being built: the key's detection of one
// window-aligned bucket.
type episode struct {
	d      Detection
	bucket int64
	last   int64 // time of the latest evidence
}

type countState struct {
	r     *countRule
	key   key        // spelled (name) only in the detections it makes
	win   window     // qualifying events in (t-window, t]
	open  *episode   // the episode of the latest bucket that fired
	await []*episode // episodes a follow-up may still raise
}

func (r *countRule) newState(k key) state { return &countState{r: r, key: k} }

func (s *countState) reset(k key) state {
	clear(s.await[:cap(s.await)]) // a raise leaves its episodes past await's end
	*s = countState{r: s.r, key: k, win: window{evs: s.win.evs[:0]}, await: s.await[:0]}
	return s
}

func (s *countState) copyTo(dst state) state {
	c, _ := dst.(*countState)
	if c == nil {
		c = new(countState)
	}
	s.copyInto(c)
	return c
}

// copyInto makes c a deep copy of s, reusing c's arrays.
func (s *countState) copyInto(c *countState) {
	c.r, c.key = s.r, s.key
	s.win.copyTo(&c.win)
	copyEp := func(e *episode) *episode {
		n := *e
		n.d.Evidence = append([]Ref(nil), e.d.Evidence...)
		return &n
	}
	c.open, c.await = cloneEpisodes(s.open, s.await, c.await[:0], copyEp)
}

func (s *countState) idle(cut int64) bool { return cut >= s.idleFrom() }

func (s *countState) idleFrom() int64 {
	return windowIdleFrom(s.win.all(), s.r.window, s.open, s.await, s.r.followUp)
}

func (s *countState) fold(o *rec, out sink) {
	r := s.r
	s.await = raisable(s.await, o.Time, r.followUp)
	if r.follows != nil && r.follows(o) && len(s.await) > 0 {
		for _, e := range s.await {
			e.d.Level = LevelHigh
			e.d.Evidence = append(e.d.Evidence, o.Ref)
			e.d.End, e.last = o.Time, o.Time
			out.emit(&e.d)
		}
		s.await = s.await[:0]
	}
	if !r.qualifies(o) {
		return
	}
	s.win.push(o)
	s.win.expire(o.Time-r.window, nil)
	win := s.win.all()
	if len(win) < r.threshold {
		return
	}
	b := floorDiv(o.Time, r.window)
	if s.open != nil && s.open.bucket == b {
		e := s.open
		e.d.Evidence = append(e.d.Evidence, o.Ref)
		e.d.End, e.last = o.Time, o.Time
		out.emit(&e.d)
		return
	}
	name := s.key.name()
	e := &episode{bucket: b, last: o.Time, d: Detection{
		ID: detectionID(r.typ, name, o.Ref), Type: r.typ, Level: r.level, Time: o.Time, Opener: o.Ref,
		Start: win[0].Time, End: o.Time, Rule: r.text,
	}}
	if r.user {
		e.d.User = name
	} else {
		e.d.Source = name
	}
	for _, w := range win {
		e.d.Evidence = append(e.d.Evidence, w.Ref)
	}
	s.open = e
	if r.follows != nil {
		s.await = append(s.await, e)
	}
	out.emit(&e.d)
}

// latest is the time of the episode's latest evidence.
func (e *episode) latest() int64 { return e.last }

// bucketOf is the episode's window-aligned bucket.
func (e *episode) bucketOf() int64 { return e.bucket }

// ongoing is an episode of a window rule.
type ongoing interface {
	comparable
	latest() int64
	bucketOf() int64
}

// raisable drops from await the episodes whose latest evidence is more
// than followUp before t: a follow-up can no longer raise them.
func raisable[E ongoing](await []E, t, followUp int64) []E {
	return slices.DeleteFunc(await, func(e E) bool { return t-e.latest() > followUp })
}

// windowIdleFrom returns the least cut from which nothing of a window
// rule's state can affect an event at or after the cut: no event in the
// window (the latest at or before cut-window), no episode open in the
// cut's bucket, none a follow-up may raise (each latest evidence more
// than followUp before the cut). The window is in time order: its latest
// event tells.
func windowIdleFrom[E ongoing](win []wev, window int64, open E, await []E, followUp int64) int64 {
	var none E
	from := int64(math.MinInt64)
	if n := len(win); n > 0 {
		from = win[n-1].Time + window
	}
	if open != none {
		from = max(from, (open.bucketOf()+1)*window)
	}
	for _, e := range await {
		from = max(from, e.latest()+followUp+1)
	}
	return from
}

// cloneEpisodes copies the open episode and those awaiting a follow-up
// with cp, keeping open among await when it was; the copies of await are
// appended to out.
func cloneEpisodes[E ongoing](open E, await []E, out []E, cp func(E) E) (E, []E) {
	var none, o E
	clear(out[:cap(out)])
	for _, e := range await {
		n := cp(e)
		if e == open {
			o = n
		}
		out = append(out, n)
	}
	if open != none && o == none {
		o = cp(open)
	}
	return o, out
}

// floorDiv is a / b rounded down (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// floorMod is a mod b in [0, b) (b > 0).
func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func bruteRule(o Options) *countRule {
	return &countRule{typ: BruteForce, threshold: o.BruteFailures, window: int64(o.BruteWindow),
		followUp: int64(o.BruteFollowUp), level: LevelMedium, user: true,
		text: fmt.Sprintf("≥ %d failed first-factor sign-ins of one user within %v (episodes aligned on %v); high if a successful sign-in follows within %v of the latest",
			o.BruteFailures, dur(o.BruteWindow), dur(o.BruteWindow), dur(o.BruteFollowUp)),
		qualifies: func(o *rec) bool { return o.userSignIn() && o.FirstFactorFailure },
		follows:   func(o *rec) bool { return o.userSignIn() && o.Status == StatusSuccess },
	}
}

func fatigueRule(o Options) *countRule {
	return &countRule{typ: MFAFatigue, threshold: o.FatigueDenials, window: int64(o.FatigueWindow),
		followUp: int64(o.FatigueFollowUp), level: LevelMedium, user: true,
		text: fmt.Sprintf("≥ %d MFA challenges of one user denied or not completed within %v (episodes aligned on %v); high if an approval follows within %v of the latest",
			o.FatigueDenials, dur(o.FatigueWindow), dur(o.FatigueWindow), dur(o.FatigueFollowUp)),
		qualifies: func(o *rec) bool { return o.MFA == MFADenied && !o.Principal },
		follows:   func(o *rec) bool { return o.MFA == MFAApproved && !o.Principal },
	}
}

func signUpRule(o Options) *countRule {
	return &countRule{typ: SignUpFlood, threshold: o.SignUpFlood, window: int64(o.SignUpWindow), level: LevelMedium,
		text: fmt.Sprintf("≥ %d sign-ups from one source (IPv4 /24, IPv6 /64) within %v (episodes aligned on %v)",
			o.SignUpFlood, dur(o.SignUpWindow), dur(o.SignUpWindow)),
		qualifies: func(o *rec) bool { return o.Kind == KindSignUp },
	}
}

// dur spells a duration without its zero parts ("1h", "10m", "24h").
func dur(d time.Duration) string {
	s := d.String()
	for _, z := range []string{"m0s", "h0m"} {
		if len(s) > len(z) && s[len(s)-len(z):] == z {
			s = s[:len(s)-len(z)+1]
		}
	}
	return s
}

// window holds the events of a sliding window, oldest first, as the
// rules read them.
type window struct {
	evs  []wev
	head int // evs[:head] have left the window
}

// wev is what a window keeps of an event: its time and reference, and for
// passwordSpray its user, status and first-factor failure.
type wev struct {
	Time               int64
	Ref                Ref
	user               uint32
	Status             Status
	FirstFactorFailure bool
}

// all returns the events in the window.
func (w *window) all() []wev { return w.evs[w.head:] }

func (w *window) push(o *rec) {
	w.evs = append(w.evs, wev{o.Time, o.Ref, o.user, o.Status, o.FirstFactorFailure})
}

// expire drops the events at or before t, calling gone (if not nil) for each.
func (w *window) expire(t int64, gone func(*wev)) {
	for w.head < len(w.evs) && w.evs[w.head].Time <= t {
		if gone != nil {
			gone(&w.evs[w.head])
		}
		w.head++
	}
	if w.head > 0 && 2*w.head >= len(w.evs) { // a copy of at most head events: amortized
		n := copy(w.evs, w.evs[w.head:])
		w.evs, w.head = w.evs[:n], 0
	}
}

// copyTo makes c a copy of w, reusing c's array.
func (w *window) copyTo(c *window) { c.evs, c.head = append(c.evs[:0], w.all()...), 0 }
