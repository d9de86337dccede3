package risk

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
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

type unfamiliarState struct {
	r    *unfamiliarRule
	user string
	// seen holds each property value with its latest time among the
	// user's successful sign-ins folded; values older than the history
	// are dropped from time to time. A user has few values: a slice,
	// searched linearly, is smaller and cheaper to copy than maps.
	seen []seenValue
	// recent holds the times of the latest `minimum` successful sign-ins,
	// oldest first.
	recent []int64
	pruned int // len(seen) after the last pruning
}

// seenValue is one value of one property, with its latest time.
type seenValue struct {
	propValue
	prop uint8
	t    int64
}

// propValue is a property's value: a string, or for the network a
// number (networkID), so that reading an event builds no string.
type propValue struct {
	s   string
	net uint64
}

// empty reports whether the value is missing: it is never new.
func (v propValue) empty() bool { return v.s == "" && v.net == 0 }

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

// copy returns a deep copy of s, recent with room for r.minimum times.
func (s *unfamiliarState) copy() unfamiliarState {
	c := *s
	c.seen = slices.Clone(s.seen)
	if s.recent != nil {
		c.recent = append(make([]int64, 0, s.r.minimum), s.recent...)
	}
	return c
}

func (s *unfamiliarState) idle(cut int64) bool {
	return len(s.recent) == 0 || s.recent[len(s.recent)-1] < cut-s.r.history
}

func props(o *Observation) [numProps]propValue {
	return [numProps]propValue{{s: o.Country}, {s: o.OSFamily}, {s: o.BrowserFamily}, {net: networkID(o.IP)}}
}

// find returns the index of value v of property p in seen, -1 if absent.
func (s *unfamiliarState) find(p int, v propValue) int {
	for i := range s.seen {
		if x := &s.seen[i]; int(x.prop) == p && x.propValue == v {
			return i
		}
	}
	return -1
}

func (s *unfamiliarState) fold(o *Observation, out sink) {
	r := s.r
	p := props(o)
	from := o.Time - r.history
	known := func(i int) bool {
		j := s.find(i, p[i])
		return p[i].empty() || j >= 0 && s.seen[j].t >= from
	}
	if len(s.recent) == r.minimum && s.recent[0] >= from && !known(propCountry) &&
		(!known(propOS) || !known(propBrowser) || !known(propNetwork)) {
		out.emit(&Detection{ID: detectionID(Unfamiliar, s.user, o.Ref), Type: Unfamiliar, Level: LevelLow,
			Time: o.Time, Opener: o.Ref, Start: o.Time, End: o.Time, User: s.user, Rule: r.text, Evidence: []Ref{o.Ref}})
	}
	if s.seen == nil {
		s.seen, s.recent = make([]seenValue, 0, numProps), make([]int64, 0, r.minimum)
	}
	for i, v := range p {
		if j := s.find(i, v); j >= 0 {
			s.seen[j].t = o.Time
		} else {
			s.seen = append(s.seen, seenValue{v, uint8(i), o.Time})
		}
	}
	if len(s.recent) == r.minimum {
		s.recent = append(s.recent[:0], s.recent[1:]...)
	}
	s.recent = append(s.recent, o.Time)
	if len(s.seen) > 2*s.pruned+8 {
		s.seen = slices.DeleteFunc(s.seen, func(x seenValue) bool { return x.t < from })
		s.pruned = len(s.seen)
	}
}

// travelRule is atypicalTravel over one user's successful located sign-ins.
type travelRule struct {
	km, kmh float64
	text    string
}

type travelState struct {
	r    *travelRule
	user string
	prev fix  // the latest located successful sign-in
	has  bool // prev is set
}

// fix is where and when a sign-in was: what travel keeps of it, rather
// than the whole observation.
type fix struct {
	Time     int64
	Ref      Ref
	Lat, Lon float64
}

// idle is false once the state holds a sign-in: the next one compares
// with it however late it comes.
func (s *travelState) idle(int64) bool { return !s.has }

func (s *travelState) fold(o *Observation, out sink) {
	f := fix{o.Time, o.Ref, o.Lat, o.Lon}
	if p := s.prev; s.has && impossible(p, f, s.r.km, s.r.kmh) {
		out.emit(&Detection{ID: detectionID(AtypicalTravel, s.user, p.Ref), Type: AtypicalTravel, Level: LevelMedium,
			Time: o.Time, Opener: o.Ref, Start: p.Time, End: o.Time, User: s.user, Rule: s.r.text, Evidence: []Ref{p.Ref, o.Ref}})
	}
	s.prev, s.has = f, true
}

// impossible reports whether going from a to b is more than km at more
// than kmh (a zero interval being infinitely fast).
func impossible(a, b fix, km, kmh float64) bool {
	d := distanceKm(a.Lat, a.Lon, b.Lat, b.Lon)
	if d <= km {
		return false
	}
	dt := b.Time - a.Time
	return dt == 0 || d/(float64(dt)/3.6e12) > kmh
}

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
