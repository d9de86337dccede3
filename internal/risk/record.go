package risk

import "strings"

// rec is what the detector keeps of an observation for the rules: the
// fields they read, strings as numbers (names), 64 bytes with no pointer,
// so that buffers of them are copied by value and cost the garbage
// collector nothing.
type rec struct {
	Time     int64
	Ref      Ref
	Lat, Lon float64
	net      uint64 // networkID of the address
	// user numbers the user key in Detector.users (0: none); country, os
	// and browser number the values in Detector.values (0: "").
	user, country, os, browser uint32
	Kind                       Kind
	Status                     Status
	MFA                        MFA
	Principal                  bool
	FirstFactorFailure         bool
}

// located reports whether r has coordinates.
func (r *rec) located() bool { return r.Lat != 0 || r.Lon != 0 }

// userSignIn reports whether r is a sign-in of a user (not a principal).
func (r *rec) userSignIn() bool { return r.Kind == KindSignIn && !r.Principal }

// before reports whether r comes before o in the canonical order: by
// time, then by reference.
func (r *rec) before(o *rec) bool { return earlier(r.Time, r.Ref, o.Time, o.Ref) }

// earlier reports whether time t and reference r come before time u and
// reference s in the canonical order.
func earlier(t int64, r Ref, u int64, s Ref) bool { return t < u || t == u && r < s }

// names numbers strings densely from 1, "" being 0. Numbers are never
// reused: a detector's users and property values are few next to its
// events.
type names struct {
	ids  map[string]uint32
	list []string // list[n] is the string numbered n; list[0] is ""
}

func newNames() names { return names{ids: map[string]uint32{}, list: []string{""}} }

// number returns s's number, numbering it if new. s is copied then, so
// that a key sliced from a larger buffer does not keep it.
func (n *names) number(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := n.ids[s]; ok {
		return i
	}
	s = strings.Clone(s)
	n.list = append(n.list, s)
	i := uint32(len(n.list) - 1)
	n.ids[s] = i
	return i
}

// name returns the string numbered i.
func (n *names) name(i uint32) string { return n.list[i] }

// valueCache remembers the last value of a property and its number:
// consecutive events mostly share them (the engine passes the same
// dictionary strings), and comparing is cheaper than hashing.
type valueCache struct {
	s string
	n uint32
}

// record returns o's rec.
func (d *Detector) record(o *Observation) rec {
	r := rec{Time: o.Time, Ref: o.Ref, Lat: o.Lat, Lon: o.Lon, net: networkID(o.IP), user: d.userNumber(o),
		Kind: o.Kind, Status: o.Status, MFA: o.MFA, Principal: o.Principal, FirstFactorFailure: o.FirstFactorFailure}
	r.country = d.value(0, o.Country, o.ValueCodes[0])
	r.os = d.value(1, o.OSFamily, o.ValueCodes[1])
	r.browser = d.value(2, o.BrowserFamily, o.ValueCodes[2])
	return r
}

// value returns the number of value s of property p (0 country, 1 OS, 2
// browser): by an index in byCode when the caller coded it (code > 0),
// else by the last value's cache or the values' map.
func (d *Detector) value(p int, s string, code uint32) uint32 {
	if code > 0 {
		by := d.byCode[p]
		if int(code) < len(by) && by[code] != 0 {
			return by[code]
		}
		for int(code) >= len(d.byCode[p]) {
			d.byCode[p] = append(d.byCode[p], 0)
		}
		d.byCode[p][code] = d.values.number(s)
		return d.byCode[p][code]
	}
	c := &d.cache[p]
	if c.s != s {
		c.s, c.n = s, d.values.number(s)
	}
	return c.n
}

// userNumber returns the number of o's user in userKeys: by an index in
// byCaller when o has a UserNumber, else by its key.
func (d *Detector) userNumber(o *Observation) uint32 {
	c := o.UserNumber
	if c == 0 || o.User == "" {
		return d.userKeys.number(o.User)
	}
	if int(c) < len(d.byCaller) && d.byCaller[c] != 0 {
		return d.byCaller[c]
	}
	for int(c) >= len(d.byCaller) {
		d.byCaller = append(d.byCaller, 0)
	}
	d.byCaller[c] = d.userKeys.number(o.User)
	return d.byCaller[c]
}
