package risk

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
)

// oracle computes the detections of obs by the package doc's definitions,
// with plain loops over the raw events: no windows, no state, no order of
// arrival.
func oracle(opt Options, obs []Observation) []Detection {
	opt = opt.WithDefaults()
	ev := slices.Clone(obs)
	slices.SortFunc(ev, func(a, b Observation) int { return compare(&a, &b) })
	var out []Detection
	groups := func(key func(o *Observation) (string, bool)) map[string][]*Observation {
		g := map[string][]*Observation{}
		for i := range ev {
			if k, ok := key(&ev[i]); ok {
				g[k] = append(g[k], &ev[i])
			}
		}
		return g
	}
	user := func(o *Observation) (string, bool) { return o.User, o.User != "" && !o.Principal }
	source := func(o *Observation) (string, bool) { return Source(o.IP), o.IP.IsValid() }

	for _, r := range []struct {
		rule      *countRule
		key       func(o *Observation) (string, bool)
		isUser    bool
		qualifies func(o *Observation) bool
		follows   func(o *Observation) bool
	}{
		{bruteRule(opt), user, true, func(o *Observation) bool { return o.userSignIn() && o.FirstFactorFailure },
			func(o *Observation) bool { return o.userSignIn() && o.Status == StatusSuccess }},
		{fatigueRule(opt), user, true, func(o *Observation) bool { return o.MFA == MFADenied },
			func(o *Observation) bool { return o.MFA == MFAApproved }},
		{signUpRule(opt), source, false, func(o *Observation) bool { return o.Kind == KindSignUp }, nil},
	} {
		for k, es := range groups(r.key) {
			var q []*Observation
			for _, o := range es {
				if r.qualifies(o) {
					q = append(q, o)
				}
			}
			fires := func(i int) bool {
				n := 0
				for j := 0; j <= i; j++ {
					if q[j].Time > q[i].Time-r.rule.window {
						n++
					}
				}
				return n >= r.rule.threshold
			}
			for i := range q {
				if !fires(i) || firedInBucketBefore(q, i, r.rule.window, fires) {
					continue
				}
				var evid []*Observation
				for j := 0; j <= i; j++ {
					if q[j].Time > q[i].Time-r.rule.window {
						evid = append(evid, q[j])
					}
				}
				for j := i + 1; j < len(q); j++ {
					if floorDiv(q[j].Time, r.rule.window) == floorDiv(q[i].Time, r.rule.window) && fires(j) {
						evid = append(evid, q[j])
					}
				}
				d := Detection{ID: detectionID(r.rule.typ, k, q[i].Ref), Type: r.rule.typ, Level: r.rule.level,
					Time: q[i].Time, Opener: q[i].Ref, Rule: r.rule.text}
				if r.isUser {
					d.User = k
				} else {
					d.Source = k
				}
				if r.follows != nil {
					for _, f := range es {
						if !r.follows(f) || !before(q[i], f) {
							continue
						}
						var latest *Observation
						for _, e := range evid {
							if before(e, f) {
								latest = e
							}
						}
						if f.Time-latest.Time <= r.rule.followUp {
							d.Level = LevelHigh
							evid = append(evid, f)
							slices.SortFunc(evid, func(a, b *Observation) int { return compare(a, b) })
							break
						}
					}
				}
				finish(&d, evid)
				out = append(out, d)
			}
		}
	}

	spray := sprayRuleOf(opt)
	for src, es := range groups(func(o *Observation) (string, bool) { return Source(o.IP), o.IP.IsValid() && o.userSignIn() }) {
		win := func(i int) []*Observation {
			var w []*Observation
			for j := 0; j <= i; j++ {
				if es[j].Time > es[i].Time-spray.window {
					w = append(w, es[j])
				}
			}
			return w
		}
		fires := func(i int) bool {
			if !es[i].FirstFactorFailure {
				return false
			}
			users, failed := map[string]bool{}, 0
			keyless := 0
			w := win(i)
			for _, o := range w {
				if o.Status == StatusFailure {
					failed++
				}
				if o.FirstFactorFailure {
					if o.User == "" {
						keyless++
					} else {
						users[o.User] = true
					}
				}
			}
			return len(users)+keyless >= spray.users && float64(failed) >= spray.share*float64(len(w))
		}
		for i := range es {
			if !fires(i) || firedInBucketBefore(es, i, spray.window, fires) {
				continue
			}
			var evid []*Observation
			for _, o := range win(i) {
				if o.FirstFactorFailure {
					evid = append(evid, o)
				}
			}
			for j := i + 1; j < len(es); j++ {
				if floorDiv(es[j].Time, spray.window) == floorDiv(es[i].Time, spray.window) && fires(j) {
					evid = append(evid, es[j])
				}
			}
			d := Detection{ID: detectionID(PasswordSpray, src, es[i].Ref), Type: PasswordSpray, Level: LevelMedium,
				Time: es[i].Time, Opener: es[i].Ref, Source: src, Rule: spray.text}
			finish(&d, evid)
			out = append(out, d)
			targets := map[string]bool{}
			for _, e := range evid {
				if e.User != "" {
					targets[e.User] = true
				}
			}
			for u := range targets {
				for _, s := range es {
					if s.User != u || s.Status != StatusSuccess || !before(es[i], s) {
						continue
					}
					var mine []*Observation
					for _, e := range evid {
						if e.User == u && before(e, s) {
							mine = append(mine, e)
						}
					}
					if len(mine) == 0 || s.Time-mine[len(mine)-1].Time > spray.followUp {
						continue
					}
					h := Detection{ID: detectionID(PasswordSpray, src+"|"+u, es[i].Ref), Type: PasswordSpray,
						Level: LevelHigh, Time: s.Time, Opener: s.Ref, User: u, Source: src, Rule: spray.text}
					finish(&h, append(mine, s))
					out = append(out, h)
					break
				}
			}
		}
	}

	unf := unfamiliarRuleOf(opt)
	travel := travelRuleOf(opt)
	for u, es := range groups(func(o *Observation) (string, bool) {
		return o.User, o.User != "" && o.userSignIn() && o.Status == StatusSuccess
	}) {
		for i, s := range es {
			var hist []*Observation
			for j := 0; j < i; j++ {
				if es[j].Time >= s.Time-unf.history {
					hist = append(hist, es[j])
				}
			}
			isNew := func(p int) bool {
				v := oracleProps(s)[p]
				if v == "" {
					return false
				}
				for _, h := range hist {
					if oracleProps(h)[p] == v {
						return false
					}
				}
				return true
			}
			if len(hist) >= unf.minimum && isNew(propCountry) && (isNew(propOS) || isNew(propBrowser) || isNew(propNetwork)) {
				d := Detection{ID: detectionID(Unfamiliar, u, s.Ref), Type: Unfamiliar, Level: LevelLow, Time: s.Time, Opener: s.Ref, User: u, Rule: unf.text}
				finish(&d, []*Observation{s})
				out = append(out, d)
			}
		}
		var located []*Observation
		for _, s := range es {
			if s.Lat != 0 || s.Lon != 0 {
				located = append(located, s)
			}
		}
		for i := 1; i < len(located); i++ {
			p, s := located[i-1], located[i]
			km := distanceKm(p.Lat, p.Lon, s.Lat, s.Lon)
			hours := float64(s.Time-p.Time) / 3.6e12
			if km > travel.km && (hours == 0 || km/hours > travel.kmh) {
				d := Detection{ID: detectionID(AtypicalTravel, u, p.Ref), Type: AtypicalTravel, Level: LevelMedium,
					Time: s.Time, Opener: s.Ref, User: u, Rule: travel.text}
				finish(&d, []*Observation{p, s})
				out = append(out, d)
			}
		}
	}

	for i := range ev {
		o := &ev[i]
		if o.Kind != KindSignIn || !o.IP.IsValid() {
			continue
		}
		for _, l := range []struct {
			t     Type
			level Level
			list  []netip.Prefix
		}{{AnonymizedIP, LevelMedium, opt.Anonymized}, {MaliciousIP, LevelHigh, opt.Malicious}} {
			in := false
			for _, p := range l.list {
				in = in || p.Contains(o.IP.Unmap())
			}
			if in {
				ip := o.IP.Unmap().String()
				d := Detection{ID: detectionID(l.t, ip, o.Ref), Type: l.t, Level: l.level, Time: o.Time, Opener: o.Ref, User: o.User,
					Source: ip, Rule: "a sign-in from an address in the host's " + string(l.t) + " list"}
				finish(&d, []*Observation{o})
				out = append(out, d)
			}
		}
	}

	spike := spikeRuleOf(opt)
	for app, es := range groups(func(o *Observation) (string, bool) { return o.App, o.Kind == KindSignIn && o.Status == StatusFailure }) {
		count := func(h int64) int {
			n := 0
			for _, o := range es {
				if floorDiv(o.Time, hourNs) == h {
					n++
				}
			}
			return n
		}
		done := map[int64]bool{}
		for _, o := range es {
			h := floorDiv(o.Time, hourNs)
			if done[h] {
				continue
			}
			done[h] = true
			var prev []float64
			for k := 1; k <= spike.weeks; k++ {
				prev = append(prev, float64(count(h-int64(k)*168)))
			}
			slices.Sort(prev)
			med := prev[len(prev)/2]
			if len(prev)%2 == 0 {
				med = (prev[len(prev)/2-1] + prev[len(prev)/2]) / 2
			}
			thr := math.Max(float64(spike.minimum), spike.factor*med)
			if float64(count(h)) <= thr {
				continue
			}
			var evid []*Observation
			for _, f := range es {
				if floorDiv(f.Time, hourNs) == h && len(evid) < int(math.Floor(thr))+1 {
					evid = append(evid, f)
				}
			}
			d := Detection{ID: detectionID(FailureSpike, app, evid[0].Ref), Type: FailureSpike, Level: LevelLow,
				Time: evid[len(evid)-1].Time, Opener: evid[len(evid)-1].Ref, Source: app, Rule: spike.text}
			finish(&d, evid)
			out = append(out, d)
		}
	}
	for i := range out {
		for _, o := range ev {
			if o.User != "" && o.User == out[i].User && o.Time > out[i].End && o.Remedy &&
				(o.Kind == KindRemedy || o.userSignIn() && o.Status == StatusSuccess) {
				out[i].Remediated = earliest(out[i].Remediated, o.Time)
			}
		}
	}
	slices.SortFunc(out, func(a, b Detection) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.ID, b.ID)) })
	return out
}

// firedInBucketBefore reports whether an event before q[i] in its bucket fires.
func firedInBucketBefore(q []*Observation, i int, window int64, fires func(int) bool) bool {
	for j := 0; j < i; j++ {
		if floorDiv(q[j].Time, window) == floorDiv(q[i].Time, window) && fires(j) {
			return true
		}
	}
	return false
}

// finish sets d's evidence, start and end from evid, in canonical order.
func finish(d *Detection, evid []*Observation) {
	d.Evidence = nil
	d.Start, d.End = evid[0].Time, evid[0].Time
	for _, e := range evid {
		d.Evidence = append(d.Evidence, e.Ref)
		d.Start, d.End = min(d.Start, e.Time), max(d.End, e.Time)
	}
}

// oracleProps are the values unfamiliarSignInProperties compares, as
// SPEC §9 spells them.
func oracleProps(o *Observation) [numProps]string {
	return [numProps]string{o.Country, o.OSFamily, o.BrowserFamily, Network(o.IP)}
}
