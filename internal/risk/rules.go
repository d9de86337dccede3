package risk

import (
	"fmt"
	"net/netip"
)

// newRules returns the stateful rules, in SPEC §9's order, the user-keyed
// ones as one (userRules).
func (d *Detector) newRules() []rule {
	o := d.opt
	spray, signUp, spike := sprayRuleOf(o), signUpRule(o), spikeRuleOf(o)
	spray.names = &d.userKeys
	users := &userRules{brute: bruteRule(o), fatigue: fatigueRule(o), unf: unfamiliarRuleOf(o), travel: travelRuleOf(o)}
	return []rule{
		{route: func(o *Observation, src netip.Prefix) (key, bool) {
			return key{p: src}, src.IsValid() && o.userSignIn()
		}, newState: spray.newState},
		{route: func(o *Observation, _ netip.Prefix) (key, bool) { return key{}, routeUser(o) }, newState: users.newState, byUser: true},
		{route: func(o *Observation, src netip.Prefix) (key, bool) {
			return key{p: src}, src.IsValid() && o.Kind == KindSignUp
		}, newState: signUp.newState},
		{route: func(o *Observation, _ netip.Prefix) (key, bool) {
			return key{s: o.App}, o.Kind == KindSignIn && o.Status == StatusFailure
		}, newState: spike.newState},
	}
}

// listDetections makes o's anonymizedIP and maliciousIP detections: a
// sign-in from an address in a list. They need no state, so they are
// made for good whatever o's order.
func (d *Detector) listDetections(o *Observation) {
	if o.Kind != KindSignIn || !o.IP.IsValid() || len(d.opt.Anonymized)+len(d.opt.Malicious) == 0 {
		return
	}
	for _, l := range []struct {
		t     Type
		level Level
		list  []netip.Prefix
	}{{AnonymizedIP, LevelMedium, d.opt.Anonymized}, {MaliciousIP, LevelHigh, d.opt.Malicious}} {
		if !contains(l.list, o.IP) {
			continue
		}
		ip := o.IP.Unmap().String()
		d.emit(&Detection{ID: detectionID(l.t, ip, o.Ref), Type: l.t, Level: l.level, Time: o.Time, Opener: o.Ref, Start: o.Time, End: o.Time,
			User: o.User, Source: ip, Rule: fmt.Sprintf("a sign-in from an address in the host's %s list", l.t),
			Evidence: []Ref{o.Ref}})
	}
}

func contains(list []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
