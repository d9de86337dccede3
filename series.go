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
	mfaSuccess    = Eq(DimMFAResult, MFASuccess)
	signIn        = Eq(DimKind, KindSignIn.String())
	signInSuccess = And(signIn, Eq(DimStatus, StatusSuccess.String()))
	multiFactor   = Eq(DimAuthRequirement, RequirementMultiFactor)
	passwordless  = In(DimPrimaryMethod, PasswordlessMethods()...)
	registration  = And(Eq(DimKind, KindRegistration.String()), Not(Eq(DimAction, ActionSnapshot)))
	reset         = Eq(DimKind, KindReset.String())
	succeeded     = Eq(DimStatus, StatusSuccess.String())
	failed        = Eq(DimStatus, StatusFailure.String())
)

// TelecomMFAMethods returns the filter of events whose MFA method goes
// through a telephone network, as the Summary metric's SMS and voice
// series count them: "Text message", "sms" or "SMS", or a method starting
// with "Phone call", "voice" or "Voice". It keeps events of any kind;
// And it with a kind to keep challenges only. A new Filter each call.
func TelecomMFAMethods() Filter { return Or(smsMethods, voiceMethods) }

// PasswordlessMethods returns the primary methods PasswordlessSignIns
// counts as passwordless, in Entra sign-in log wording and Graph method
// names: FIDO2 security keys, passkeys, Windows Hello for Business and
// Microsoft Authenticator passwordless sign-in. A new slice each call.
func PasswordlessMethods() []string {
	return []string{"FIDO2 security key", "Passkey", "Passkey (device-bound)", "Passkey (Microsoft Authenticator)",
		"Windows Hello for Business", "Passwordless phone sign-in", "Microsoft Authenticator (passwordless)",
		"fido2", "passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "windowsHelloForBusiness",
		"microsoftAuthenticatorPasswordless"}
}

// seriesDefs are the metrics computed as plain counts per bucket.
var seriesDefs = map[Metric][]seriesDef{
	ActiveUsers:    {{"", countActive, Filter{}}},
	SigningInUsers: {{"", countSigningIn, Filter{}}},
	Requests:       {{"", countEvents, And()}},
	SignUps:        {{"", countEvents, And(Eq(DimKind, KindSignUp.String()), Eq(DimStatus, StatusSuccess.String()))}},
	Authentications: {
		{"attempts", countEvents, signIn},
		{"successes", countEvents, signInSuccess},
		{"failures", countEvents, And(signIn, Eq(DimStatus, StatusFailure.String()))},
		{"interrupts", countEvents, And(signIn, Eq(DimStatus, StatusInterrupted.String()))},
	},
	MFAChallenges: {
		{"attempts", countEvents, mfaChallenge},
		{"successes", countEvents, And(mfaChallenge, mfaSuccess)},
		{"failures", countEvents, And(mfaChallenge, Not(mfaSuccess))},
	},
	MFAProtectedSignIns: {
		{"multiFactor", countEvents, And(signInSuccess, multiFactor)},
		{"singleFactor", countEvents, And(signInSuccess, Not(multiFactor))},
	},
	PasswordlessSignIns: {
		{"passwordless", countEvents, And(signInSuccess, passwordless)},
		{"other", countEvents, And(signInSuccess, Not(passwordless))},
	},
	Registrations: {
		{"attempts", countEvents, registration},
		{"successes", countEvents, And(registration, succeeded)},
		{"failures", countEvents, And(registration, failed)},
	},
	Resets: {
		{"attempts", countEvents, reset},
		{"successes", countEvents, And(reset, succeeded)},
		{"failures", countEvents, And(reset, failed)},
	},
	Summary: {
		{"activeUsers", countActive, Filter{}},
		{"authenticationRequests", countEvents, signIn},
		{"authenticationCompletions", countEvents, signInSuccess},
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
		var days map[int32]map[string]uint64
		if s.count == countEvents && len(ev.buckets) > 0 {
			f := And(ev.filter, s.base)
			if ev.aggregated() {
				ev.emitCounts(s.name, order, f)
				continue
			}
			days = ev.dayCounts(ev.e.compile(f), ev.buckets[0].from, ev.buckets[len(ev.buckets)-1].to)
		}
		for _, b := range ev.buckets {
			if !ev.check() {
				return
			}
			if s.count != countEvents {
				ev.emitSets(b, s.name, order, ev.unionTop(p, b.from, b.to, ev.rankedTop(defs)))
				continue
			}
			for k, c := range ev.sumDays(days, b.from, b.to) {
				ev.emit(b, s.name, order, k, nil, float64(c))
			}
		}
	}
}

// rankedTop returns the number of groups per bucket a metric of one user
// series keeps (Query.Top), when the groups it drops need no rows: Top
// without Other. Else 0: every group is needed.
func (ev *evaluation) rankedTop(defs []seriesDef) int {
	if len(defs) != 1 || ev.q.Other {
		return 0
	}
	return ev.q.Top
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

// addSuccessRates adds MFAChallenges' successRate row to each bucket and
// group, "(other)" included: successes / attempts, 0 without attempts.
func (ev *evaluation) addSuccessRates() {
	type key struct {
		start int32
		gkey  string
	}
	pos := map[key][2]int{}
	var order []key
	for i, r := range ev.rows {
		k := key{r.start, r.gkey}
		p, ok := pos[k]
		if !ok {
			p = [2]int{-1, -1}
			order = append(order, k)
		}
		if r.order < 2 {
			p[r.order] = i
		}
		pos[k] = p
	}
	for _, k := range order {
		p := pos[k]
		if p[0] < 0 || p[1] < 0 {
			continue
		}
		att, ok := ev.rows[p[0]], ev.rows[p[1]]
		rate := att
		rate.Series, rate.order, rate.set = "successRate", 3, nil
		rate.Value = 0
		if att.Value > 0 {
			rate.Value = ok.Value / att.Value
		}
		ev.rows = append(ev.rows, rate)
	}
}
