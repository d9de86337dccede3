package risk

import (
	"fmt"
	"net/netip"
)

// The stateful rules, in SPEC §9's order, the user-keyed ones as one
// (userRules): indexes of Detector.rules and Detector.tables.
const (
	ruleSpray = iota
	ruleUser
	ruleSignUp
	ruleSpike
	numRules
)

// newRules returns the stateful rules' states, by index, for d's options
// and user keys, and the user-keyed rules (whose pool of parts the sweep
// trims). It changes nothing of d.
func (d *Detector) newRules() ([numRules]func(key) state, *userRules) {
	o := d.opt
	spray, signUp, spike := sprayRuleOf(o), signUpRule(o), spikeRuleOf(o)
	spray.names = &d.userKeys
	users := &userRules{brute: bruteRule(o), fatigue: fatigueRule(o), unf: unfamiliarRuleOf(o), travel: travelRuleOf(o)}
	return [numRules]func(key) state{spray.newState, users.newState, signUp.newState, spike.newState}, users
}

// route returns the id of rule i's state that o concerns, if any; src is
// o's source (sourceID), if hasSrc. The user-keyed rule's key is o's
// user (numbered by the detector). A switch rather than a function per
// rule: o, not passed to an unknown function, stays on the caller's
// stack.
func (d *Detector) route(i int, o *Observation, src keyID, hasSrc bool) (keyID, bool) {
	switch i {
	case ruleSpray:
		return src, hasSrc && o.userSignIn()
	case ruleUser:
		return keyID{}, routeUser(o)
	case ruleSignUp:
		return src, hasSrc && o.Kind == KindSignUp
	}
	if o.Kind != KindSignIn || o.Status != StatusFailure {
		return keyID{}, false
	}
	return d.appID(o.App), true
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
