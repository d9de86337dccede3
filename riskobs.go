package insights

import (
	"net/netip"
	"slices"

	"github.com/insightslab/insights/internal/risk"
)

// riskDims are the indexed dimensions the risk rules read (observation):
// a queued observation keeps their codes alone.
var riskDims = [...]Dimension{DimKind, DimAppID, DimOSFamily, DimBrowserFamily, DimCountry, DimSignInType,
	DimStatus, DimErrorCode, DimMFAResult, DimRiskState, DimAction}

// riskObs is an applied event as it waits for the detector: its time,
// reference, place, user id and the codes of the values the rules read,
// with no pointer, so that the queue and its copies cost the garbage
// collector nothing (no scan, no write barrier), where an observation's
// five strings and address did, and so that Add does not spell the
// observation: the detector's goroutine does (riskQueue.observation),
// with the dictionaries as they were when it was queued (riskNames).
// An item may instead stand for new address lists (the next extra).
type riskObs struct {
	time     int64
	ref      risk.Ref
	lat, lon float64
	ip       [16]byte // As16 of the address
	user     uint32   // the user's id plus one; 0 for none
	codes    [len(riskDims)]uint32
	ipKind   uint8 // ipNone, ipV4, ipV6, or ipExtra (the next extra's: it has a zone)
	lists    bool  // new address lists (the next extra's), not an event
}

// The kinds of address of a riskObs.
const (
	ipNone = iota
	ipV4
	ipV6
	ipExtra
)

// riskExtra is what a riskObs cannot hold without a pointer: new address
// lists, or an address with a zone. Rare; in the order of their items.
type riskExtra struct {
	lists *[2][]netip.Prefix // anonymized, malicious
	ip    netip.Addr
}

// riskNames spell the codes and user ids of queued observations: the
// values of riskDims' dictionaries and the user keys, as their slices
// were at the last flush. Dictionaries only grow, by append, and so do
// the user keys between two resets of the detector (Erase replaces
// their slice, and resets it), so the strings of what was queued before
// stay where they were, and reading them needs no lock.
type riskNames struct {
	values [len(riskDims)][]string
	keys   []string
}

// riskQueue is a run of queued items, in order, their extras beside them.
type riskQueue struct {
	obs    []riskObs
	extras []riskExtra
	names  riskNames // as of the last flush: spells every item queued
}

// riskNames returns the dictionaries' and user keys' slices now. The
// write lock is held.
func (e *Engine) riskNames() riskNames {
	var n riskNames
	for i, d := range riskDims {
		n.values[i] = e.dims[d-1].values
	}
	n.keys = e.userKeys
	return n
}

// add appends the observation o, of address ip.
func (q *riskQueue) add(o riskObs, ip netip.Addr) {
	switch {
	case !ip.IsValid():
	case ip.Zone() != "":
		o.ipKind = ipExtra
		q.extras = append(q.extras, riskExtra{ip: ip})
	case ip.Is4():
		o.ipKind, o.ip = ipV4, ip.As16()
	default:
		o.ipKind, o.ip = ipV6, ip.As16()
	}
	q.obs = append(q.obs, o)
}

// addLists appends new address lists.
func (q *riskQueue) addLists(anonymized, malicious []netip.Prefix) {
	q.obs = append(q.obs, riskObs{lists: true})
	q.extras = append(q.extras, riskExtra{lists: &[2][]netip.Prefix{anonymized, malicious}})
}

// append appends p's items to q.
func (q *riskQueue) append(p *riskQueue) {
	q.obs = append(q.obs, p.obs...)
	q.extras = append(q.extras, p.extras...)
}

// empty empties q, keeping its arrays, and releases what its extras and
// names point to.
func (q *riskQueue) empty() {
	clear(q.extras)
	*q = riskQueue{obs: q.obs[:0], extras: q.extras[:0]}
}

// addr returns the address of o, taking the next extra (at *x) if o's.
func (q *riskQueue) addr(o *riskObs, x *int) netip.Addr {
	switch o.ipKind {
	case ipV4:
		return netip.AddrFrom4([4]byte(o.ip[12:]))
	case ipV6:
		return netip.AddrFrom16(o.ip)
	case ipExtra:
		*x++
		return q.extras[*x-1].ip
	}
	return netip.Addr{}
}

// observation spells o, of address ip, for the detector: what
// observeRisk would have made at once (see observation).
func (q *riskQueue) observation(o *riskObs, ip netip.Addr) risk.Observation {
	code := func(d Dimension) uint32 { return o.codes[slices.Index(riskDims[:], d)] }
	val := func(d Dimension) string { return q.names.values[slices.Index(riskDims[:], d)][code(d)] }
	key := ""
	if o.user > 0 {
		key = q.names.keys[o.user-1]
	}
	r := observation(val, key, o.time, place{ip: ip, lat: o.lat, lon: o.lon}, o.ref)
	r.UserNumber = o.user
	r.ValueCodes = riskCodes(code)
	return r
}
