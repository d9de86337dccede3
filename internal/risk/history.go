package risk

import (
	"fmt"
	"math"
	"net/netip"
)

// unfamiliarRule is unfamiliarSignInProperties over one user's successful
// sign-ins.
type unfamiliarRule struct {
	history int64
	minimum int
	text    string
}

// The properties the rule compares.
const (
	propCountry = iota
	propOS
	propBrowser
	propNetwork
	numProps
)

// unfamiliarState is a user's history of successful sign-ins in one
// array, so that it is one allocation and one copy: data[:minimum] holds
// the times of the latest n (at most minimum) successful sign-ins, oldest
// first; data[minimum:] holds pairs of a property value (propValue) and
// its latest time among the sign-ins folded. Values older than the
// history are dropped from time to time. A user has few values: pairs
// searched linearly are smaller and cheaper to copy than maps.
type unfamiliarState struct {
	data   []int64
	n      int32 // recent times in data[:minimum]
	pruned int32 // values after the last pruning
	// inline holds data while it fits (the defaults' five times and four
	// values do): the history is then in the user's state, with no
	// allocation and no pointer to follow. Copying the struct would share
	// it: copyTo copies.
	inline [16]int64
}

// propValue tags value v of property p: its number in Detector.values, or
// for the network its networkID (below 2^50); v 0 is the missing value.
func propValue(p int, v uint64) uint64 { return uint64(p)<<56 | v }

// networkID packs an address's network (Network) in a number: the tag 1
// and the 16 bits of an IPv4 /16, or the tag 2 and the 48 bits of an
// IPv6 /48; 0 for the zero Addr. Two addresses have the same number when
// they have the same Network.
func networkID(ip netip.Addr) uint64 {
	p := prefix(ip, 16, 48)
	if !p.IsValid() {
		return 0
	}
	b := p.Addr().As16()
	if p.Addr().Is4() {
		return 1<<48 | uint64(b[12])<<8 | uint64(b[13])
	}
	return 2<<48 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

// copyTo makes c a deep copy of s, reusing c's array.
func (s *unfamiliarState) copyTo(c *unfamiliarState) {
	buf := c.data[:0]
	if len(s.data) <= len(c.inline) {
		buf = c.inline[:0]
	}
	c.data, c.n, c.pruned = append(buf, s.data...), s.n, s.pruned
}

func (s *unfamiliarState) idle(r *unfamiliarRule, cut int64) bool { return cut >= s.idleFrom(r) }

// idleFrom is the least cut at which the latest sign-in is older than
// the history.
func (s *unfamiliarState) idleFrom(r *unfamiliarRule) int64 {
	if s.n == 0 {
		return math.MinInt64
	}
	return s.data[s.n-1] + r.history + 1
}

func props(o *rec) [numProps]uint64 {
	return [numProps]uint64{uint64(o.country), uint64(o.os), uint64(o.browser), o.net}
}

// find returns the index in data of the pair of tagged value v, -1 if
// absent; m is the rule's minimum.
func (s *unfamiliarState) find(m int, v uint64) int {
	for j := m; j < len(s.data); j += 2 {
		if uint64(s.data[j]) == v {
			return j
		}
	}
	return -1
}

// fold folds user's successful sign-in o.
func (s *unfamiliarState) fold(r *unfamiliarRule, user string, o *rec, out sink) {
	m := r.minimum
	p := props(o)
	from := o.Time - r.history
	known := func(i int) bool {
		j := s.find(m, propValue(i, p[i]))
		return p[i] == 0 || j >= 0 && s.data[j+1] >= from
	}
	if int(s.n) == m && s.data[0] >= from && !known(propCountry) &&
		(!known(propOS) || !known(propBrowser) || !known(propNetwork)) {
		out.emit(&Detection{ID: detectionID(Unfamiliar, user, o.Ref), Type: Unfamiliar, Level: LevelLow,
			Time: o.Time, Opener: o.Ref, Start: o.Time, End: o.Time, User: user, Rule: r.text, Evidence: []Ref{o.Ref}})
	}
	if len(s.data) == 0 {
		if m+2*numProps <= len(s.inline) {
			s.data = s.inline[:m]
		} else {
			s.data = make([]int64, m, m+2*numProps)
		}
		clear(s.data)
	}
	for i, v := range p {
		if j := s.find(m, propValue(i, v)); j >= 0 {
			s.data[j+1] = o.Time
		} else {
			s.data = append(s.data, int64(propValue(i, v)), o.Time)
		}
	}
	if int(s.n) == m {
		copy(s.data[:m-1], s.data[1:m])
		s.data[m-1] = o.Time
	} else {
		s.data[s.n] = o.Time
		s.n++
	}
	if values := (len(s.data) - m) / 2; values > 2*int(s.pruned)+8 {
		kept := s.data[:m]
		for j := m; j < len(s.data); j += 2 {
			if s.data[j+1] >= from {
				kept = append(kept, s.data[j], s.data[j+1])
			}
		}
		s.data, s.pruned = kept, int32((len(kept)-m)/2)
	}
}

// travelRule is atypicalTravel over one user's successful located sign-ins.
type travelRule struct {
	km, kmh float64
	text    string
}

type travelState struct {
	prev fix  // the latest located successful sign-in
	has  bool // prev is set
}

// fix is where and when a sign-in was: what travel keeps of it.
type fix struct {
	Time     int64
	Ref      Ref
	Lat, Lon float64
}

// idle is false once the state holds a sign-in: the next one compares
// with it however late it comes.
func (s *travelState) idle() bool { return !s.has }

// fold folds user's located successful sign-in o.
func (s *travelState) fold(r *travelRule, user string, o *rec, out sink) {
	f := fix{o.Time, o.Ref, o.Lat, o.Lon}
	if p := s.prev; s.has && impossible(p, f, r.km, r.kmh) {
		out.emit(&Detection{ID: detectionID(AtypicalTravel, user, p.Ref), Type: AtypicalTravel, Level: LevelMedium,
			Time: o.Time, Opener: o.Ref, Start: p.Time, End: o.Time, User: user, Rule: r.text, Evidence: []Ref{p.Ref, o.Ref}})
	}
	s.prev, s.has = f, true
}

// impossible reports whether going from a to b is more than km at more
// than kmh (a zero interval being infinitely fast).
func impossible(a, b fix, km, kmh float64) bool {
	if near(a, b, km) {
		return false
	}
	d := distanceKm(a.Lat, a.Lon, b.Lat, b.Lon)
	if d <= km {
		return false
	}
	dt := b.Time - a.Time
	return dt == 0 || d/(float64(dt)/3.6e12) > kmh
}

// near reports, with no trigonometry, that a and b are surely at most km
// apart by distanceKm: the great circle is no longer than the path along
// a meridian, then a parallel, at most 6371 × (|Δlatitude| + |Δlongitude|)
// in radians; the margin covers distanceKm's rounding (TestNearIsExact
// fails without it). It answers only for bounds under a quarter of the
// circumference (nearLimitKm), where the haversine's asin is well
// conditioned: near half the circumference (nearly antipodal points on
// one meridian) asin rounds up by more than the margin (5.7e-9 relative
// seen), and those pairs take the haversine. Most of a user's consecutive
// sign-ins come from one place, where this spares the haversine: 9% of
// the detector's CPU in a profile where every sign-in is located
// (bench/RESULTS.md, session 7).
func near(a, b fix, km float64) bool {
	bound := 6371 * math.Pi / 180 * (math.Abs(b.Lat-a.Lat) + math.Abs(b.Lon-a.Lon))
	return bound < nearLimitKm && bound*(1+1e-9)+1e-9 <= km
}

// nearLimitKm is the largest bound near answers for: a quarter of the
// circumference (6371 × π/2 km), where the haversine's h is at most 1/2.
const nearLimitKm = 6371 * math.Pi / 2

// distanceKm is the great-circle distance in km (haversine, mean Earth
// radius 6371 km).
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(min(1, h)))
}

func unfamiliarRuleOf(o Options) *unfamiliarRule {
	return &unfamiliarRule{history: int64(o.UnfamiliarHistory), minimum: o.UnfamiliarMinimum,
		text: fmt.Sprintf("a successful sign-in whose country and at least one of OS family, browser family, IPv4 /16 or IPv6 /48 never occurred in the user's successful sign-ins of the previous %v, when there are ≥ %d of them",
			dur(o.UnfamiliarHistory), o.UnfamiliarMinimum)}
}

func travelRuleOf(o Options) *travelRule {
	return &travelRule{km: o.TravelKm, kmh: o.TravelKmh,
		text: fmt.Sprintf("two consecutive located successful sign-ins of one user > %g km apart at > %g km/h", o.TravelKm, o.TravelKmh)}
}
