package insights

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// seriesDef is one series of a metric that counts, per bucket and group,
// the events matching base, or the distinct active or signing-in users.
type seriesDef struct {
	name  string
	count counted
	base  Filter // events only; user series use the evaluation's predicates
}

// counted says what a series counts.
type counted uint8

const (
	countEvents counted = iota
	countActive
	countSigningIn
)

// MFA methods counted by the Summary metric's SMS and voice series, in
// Entra sign-in log wording and Graph method names (see Summary's doc).
var (
	smsMethods   = In(DimMFAMethod, "Text message", "sms", "SMS")
	voiceMethods = Or(Prefix(DimMFAMethod, "Phone call"), Prefix(DimMFAMethod, "voice"), Prefix(DimMFAMethod, "Voice"))
	mfaChallenge = Or(Eq(DimKind, KindMFA.String()),
		And(Eq(DimKind, KindSignIn.String()), Not(Eq(DimMFAMethod, ""))))
	mfaSuccess = Eq(DimMFAResult, MFASuccess)
	signIn     = Eq(DimKind, KindSignIn.String())
)

// seriesDefs are the metrics computed as plain counts per bucket.
var seriesDefs = map[Metric][]seriesDef{
	ActiveUsers:    {{"", countActive, Filter{}}},
	SigningInUsers: {{"", countSigningIn, Filter{}}},
	Requests:       {{"", countEvents, And()}},
	SignUps:        {{"", countEvents, And(Eq(DimKind, KindSignUp.String()), Eq(DimStatus, StatusSuccess.String()))}},
	Authentications: {
		{"attempts", countEvents, signIn},
		{"successes", countEvents, And(signIn, Eq(DimStatus, StatusSuccess.String()))},
		{"failures", countEvents, And(signIn, Eq(DimStatus, StatusFailure.String()))},
		{"interrupts", countEvents, And(signIn, Eq(DimStatus, StatusInterrupted.String()))},
	},
	MFAChallenges: {
		{"attempts", countEvents, mfaChallenge},
		{"successes", countEvents, And(mfaChallenge, mfaSuccess)},
		{"failures", countEvents, And(mfaChallenge, Not(mfaSuccess))},
	},
	Summary: {
		{"activeUsers", countActive, Filter{}},
		{"authenticationRequests", countEvents, signIn},
		{"authenticationCompletions", countEvents, And(signIn, Eq(DimStatus, StatusSuccess.String()))},
		{"smsMfaRequests", countEvents, And(mfaChallenge, smsMethods)},
		{"smsMfaCompletions", countEvents, And(mfaChallenge, smsMethods, mfaSuccess)},
		{"voiceMfaRequests", countEvents, And(mfaChallenge, voiceMethods)},
		{"voiceMfaCompletions", countEvents, And(mfaChallenge, voiceMethods, mfaSuccess)},
	},
}

// runSeries computes a metric made of plain counts.
func (ev *evaluation) runSeries(defs []seriesDef) {
	for order, s := range defs {
		p := map[counted]userPred{countActive: ev.activity, countSigningIn: ev.signIn}[s.count]
		var m *matcher
		if s.count == countEvents {
			m = ev.e.compile(And(ev.filter, s.base))
		}
		for _, b := range ev.buckets {
			if !ev.check() {
				return
			}
			if s.count != countEvents {
				ev.emitSets(b, s.name, order, ev.union(p, b.from, b.to))
				continue
			}
			for k, c := range ev.counts(m, b.from, b.to) {
				ev.emit(b, s.name, order, k, nil, float64(c))
			}
		}
	}
}

// sumOrUnion combines rows of one series for the "(other)" row: the
// distinct union of their users when every row has a set, else the sum.
func sumOrUnion(rows []outRow) (*roaring.Bitmap, float64) {
	sets := make([]*roaring.Bitmap, 0, len(rows))
	sum := 0.0
	for _, r := range rows {
		sum += r.Value
		if r.set != nil {
			sets = append(sets, r.set)
		}
	}
	if len(sets) == len(rows) && len(rows) > 0 {
		u := roaring.FastOr(sets...)
		return u, float64(u.GetCardinality())
	}
	return nil, sum
}
