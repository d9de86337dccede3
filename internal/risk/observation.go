package risk

import (
	"cmp"
	"net/netip"
	"time"
)

// Ref is a stable reference to an event, unique within a detector's input:
// the engine uses the log entry's day and sequence. Its order breaks ties
// between events of the same time, so it must not depend on arrival order.
type Ref uint64

// Kind is what an observation records; only these kinds matter to the rules.
type Kind uint8

// The kinds of observation.
const (
	KindOther    Kind = iota // ignored by every rule
	KindSignIn               // a user or principal sign-in
	KindSignUp               // a self-service sign-up
	KindMFA                  // a second-factor challenge reported apart from a sign-in
	KindRemedy               // a successful password reset: it remediates the user's detections
	KindDecision             // an administrator's decision on the user's risk (Observation.Decision)
)

// Decision is an administrator's decision on a user's risk.
type Decision uint8

// The decisions.
const (
	DecisionNone Decision = iota
	Dismissed
	ConfirmedCompromised
)

// Status is the outcome of the event.
type Status uint8

// The statuses.
const (
	StatusOther Status = iota // interrupted or unknown
	StatusSuccess
	StatusFailure
)

// MFA is what an observation says of a second-factor challenge.
type MFA uint8

// The MFA outcomes.
const (
	MFANone     MFA = iota // no challenge, or one satisfied before
	MFADenied              // denied, or not completed (mfaDenied, mfaIncomplete)
	MFAApproved            // approved
)

// Observation is the compact form of one event that the rules read. The
// detector copies it; the caller may reuse it.
type Observation struct {
	Time int64 // Unix ns
	Ref  Ref
	Kind Kind
	// User is the user key; "" for principal sign-ins and failures that
	// name no known user.
	User string
	// UserNumber optionally numbers User densely for the detector: the
	// caller's number of the user plus one, 0 when it has none. A user
	// must always come with the same number or 0, and two users never
	// with the same one. With it the detector finds the user's state by
	// an index instead of hashing the key.
	UserNumber uint32
	Principal  bool // a service-principal or managed-identity sign-in
	Status     Status
	// FirstFactorFailure marks a failed sign-in that failed its first
	// factor: a bad password or an unknown user (error code 50126, or a
	// failure with no user).
	FirstFactorFailure bool
	MFA                MFA
	// Remedy marks an event that remediates the user's earlier
	// detections: a successful sign-in that performed MFA, or a
	// KindRemedy event.
	Remedy        bool
	Decision      Decision // KindDecision events only
	App           string
	IP            netip.Addr // the zero Addr when unknown
	Country       string
	OSFamily      string
	BrowserFamily string
	// ValueCodes optionally number Country, OSFamily and BrowserFamily
	// for the detector, as UserNumber numbers the user: the caller's code
	// of each value plus one, 0 when it has none (the engine passes its
	// dictionary codes). A value must always come with the same code or
	// 0, and two values of one property never with the same code. With
	// them the detector finds its number of a value by an index instead
	// of hashing the value.
	ValueCodes [3]uint32
	// Lat and Lon locate the sign-in in degrees; both 0 means unknown.
	Lat, Lon float64
}

// userSignIn reports whether o is a sign-in of a user (not a principal).
func (o *Observation) userSignIn() bool { return o.Kind == KindSignIn && !o.Principal }

// before reports whether a comes before b in the canonical order: by
// time, then by reference.
func before(a, b *Observation) bool { return compare(a, b) < 0 }

func compare(a, b *Observation) int {
	return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Ref, b.Ref))
}

// Source returns the source prefix of an address: its IPv4 /24 or its
// IPv6 /64 (an IPv4-mapped address counts as IPv4); "" for the zero Addr.
func Source(ip netip.Addr) string { return prefixString(sourcePrefix(ip)) }

// sourcePrefix is Source as a prefix, the zero Prefix for the zero Addr.
func sourcePrefix(ip netip.Addr) netip.Prefix { return prefix(ip, 24, 64) }

// Network returns the wider network of an address used by the
// unfamiliar-properties rule: its IPv4 /16 or IPv6 /48.
func Network(ip netip.Addr) string { return prefixString(prefix(ip, 16, 48)) }

// prefix is ip's first v4 (IPv4) or v6 (IPv6) bits, zone dropped; the
// zero Prefix for the zero Addr.
func prefix(ip netip.Addr, v4, v6 int) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := v6
	if ip.Is4() {
		bits = v4
	}
	p, _ := ip.Prefix(bits) // bits is within the address's length
	return p
}

// prefixString spells p, "" for the zero Prefix.
func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// Options are the thresholds of the rules. Zero fields take SPEC §9's
// defaults (WithDefaults).
type Options struct {
	SprayUsers        int
	SprayWindow       time.Duration
	SprayFailureShare float64
	SprayFollowUp     time.Duration
	BruteFailures     int
	BruteWindow       time.Duration
	BruteFollowUp     time.Duration
	FatigueDenials    int
	FatigueWindow     time.Duration
	FatigueFollowUp   time.Duration
	UnfamiliarHistory time.Duration
	UnfamiliarMinimum int
	TravelKm          float64
	TravelKmh         float64
	SignUpFlood       int
	SignUpWindow      time.Duration
	SpikeMinimum      int
	SpikeFactor       float64
	SpikeWeeks        int
	// LateHorizon is how far behind the latest event an event may arrive
	// and still be folded in by the detector; an older one is refused
	// with ErrTooLate, and the caller rebuilds from the whole set.
	// Default 2 h.
	LateHorizon time.Duration
	// Anonymized and Malicious are the address lists of anonymizedIP and
	// maliciousIP.
	Anonymized, Malicious []netip.Prefix
}

// WithDefaults returns o with every zero threshold set to its default.
func (o Options) WithDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.SprayUsers, 20)
	defD(&o.SprayWindow, time.Hour)
	defF(&o.SprayFailureShare, 0.8)
	defD(&o.SprayFollowUp, 24*time.Hour)
	def(&o.BruteFailures, 10)
	defD(&o.BruteWindow, 10*time.Minute)
	defD(&o.BruteFollowUp, time.Hour)
	def(&o.FatigueDenials, 5)
	defD(&o.FatigueWindow, time.Hour)
	defD(&o.FatigueFollowUp, time.Hour)
	defD(&o.UnfamiliarHistory, 30*24*time.Hour)
	def(&o.UnfamiliarMinimum, 5)
	defF(&o.TravelKm, 500)
	defF(&o.TravelKmh, 900)
	def(&o.SignUpFlood, 50)
	defD(&o.SignUpWindow, time.Hour)
	def(&o.SpikeMinimum, 20)
	defF(&o.SpikeFactor, 3)
	def(&o.SpikeWeeks, 4)
	defD(&o.LateHorizon, 2*time.Hour)
	return o
}
