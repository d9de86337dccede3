package web

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// Two Graph collections are not counts of a Query but are read from the
// event log: daily/mfaTelecomFraud (mfaTelecomFraudMetric) and
// monthly/mfaRegisteredUsers (mfaUserCountMetric). This file fills them.

// graphLogCollection fills a collection from the log over [from, to),
// the range graphRange gives, under the equalities of gf.
type graphLogCollection func(h *handler, ctx context.Context, gf graphFilter, from, to insights.Date) ([][]graphProp, error)

// graphLogCollections are the collections read from the event log.
var graphLogCollections = map[string]graphLogCollection{
	"daily/mfaTelecomFraud":      (*handler).telecomFraud,
	"monthly/mfaRegisteredUsers": (*handler).mfaRegisteredUsers,
}

// graphCollectionNames returns every collection the Graph routes serve,
// sorted: export.GraphCollections and graphLogCollections.
func graphCollectionNames() []string {
	return slices.Sorted(slices.Values(append(export.GraphCollections(), slices.Collect(maps.Keys(graphLogCollections))...)))
}

// telecomErrors are SPEC §10's MFA service or telecom errors.
var telecomErrors = insights.In(insights.DimErrorCode, "50086", "50087", "50088")

// telecomFraud fills daily/mfaTelecomFraud: one object per day of the
// range. telecomBlockedUserCount is the number of distinct users with a
// sign-in or MFA event whose MFA method goes by telephone
// (insights.TelecomMFAMethods) and whose error is a telecom one (50086,
// 50087, 50088) that day, under gf's equalities; the captcha counts are
// 0, as the engine records no CAPTCHA. Cost: one pass over the matching
// log entries of the range.
func (h *handler) telecomFraud(ctx context.Context, gf graphFilter, from, to insights.Date) ([][]graphProp, error) {
	challenges := insights.In(insights.DimKind, insights.KindSignIn.String(), insights.KindMFA.String())
	filter := insights.And(append([]insights.Filter{challenges, insights.TelecomMFAMethods(), telecomErrors}, gf.eqs...)...)
	users := map[insights.Date]map[string]bool{}
	it := h.eng.Entries(ctx, insights.LogQuery{From: from, To: to, Filter: filter, Limit: insights.MaxPageSize})
	for it.Next() {
		e := it.Entry()
		if e.UserKey == "" {
			continue
		}
		d := insights.DateOf(e.Time, h.eng.Zone())
		if users[d] == nil {
			users[d] = map[string]bool{}
		}
		users[d][e.UserKey] = true
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	var objs [][]graphProp
	for d := from; d.Before(to); d = d.AddDays(1) {
		objs = append(objs, []graphProp{
			{"factDate", []byte(jsonString(d.String()))},
			{"captchaFailureCount", []byte("0")},
			{"captchaNotTriggeredUserCount", []byte("0")},
			{"captchaShownUserCount", []byte("0")},
			{"captchaSuccessCount", []byte("0")},
			{"telecomBlockedUserCount", []byte(strconv.Itoa(len(users[d])))},
		})
	}
	return objs, nil
}

// graphMFATypes are the values of Graph's mfaType enumeration that
// mfaRegisteredUsers writes, in the enumeration's order.
var graphMFATypes = []string{"eotp", "oneWaySms", "twoWaySms", "twoWaySmsOtherMobile", "phoneAppNotification",
	"phoneAppOtp", "twoWayVoiceMobile", "twoWayVoiceOffice", "twoWayVoiceOtherMobile", "fido", "certificate", "other"}

// graphMFAType returns the mfaType of a registered method, named in
// Entra's registration wording or Graph's method names (case ignored):
// text message → oneWaySms (a code sent by text), a voice or phone call
// → twoWayVoiceMobile (twoWayVoiceOffice, twoWayVoiceOtherMobile for the
// office and alternate phones), Microsoft Authenticator → push
// phoneAppNotification, OATH codes → phoneAppOtp, FIDO2 keys and
// passkeys → fido, certificates → certificate, email → eotp; anything
// else (Windows Hello for Business, ...) → other.
func graphMFAType(method string) string {
	m := strings.ToLower(method)
	switch {
	case m == "text message" || m == "sms" || m == "mobilephone" || m == "mobile phone":
		return "oneWaySms"
	case strings.Contains(m, "office"):
		return "twoWayVoiceOffice"
	case strings.Contains(m, "alternate"):
		return "twoWayVoiceOtherMobile"
	case strings.HasPrefix(m, "voice") || strings.HasPrefix(m, "phone call"):
		return "twoWayVoiceMobile"
	case strings.Contains(m, "oath") || strings.Contains(m, "verification code"):
		return "phoneAppOtp"
	case strings.Contains(m, "authenticator") || m == "push" || m == "mobile app notification":
		return "phoneAppNotification"
	case strings.HasPrefix(m, "fido") || strings.HasPrefix(m, "passkey"):
		return "fido"
	case strings.Contains(m, "certificate") || strings.HasPrefix(m, "x509"):
		return "certificate"
	case strings.HasPrefix(m, "email"):
		return "eotp"
	}
	return "other"
}

// registrationChange is one successful registration event as the
// registration state applies it.
type registrationChange struct {
	date         insights.Date
	user, method string
	registered   bool
}

// mfaRegisteredUsers fills monthly/mfaRegisteredUsers: for each month of
// the range and each mfaType, the users registered for MFA at the month's
// end (its last day included; this month: as of now) who have a method
// of that type among those the handler's policy allows for MFA. The
// registration state at a month's end is rebuilt from the successful
// registration events of the log up to it (imported snapshots
// included), the latest by time deciding for each user and method as in
// the engine's state. A user counts under each of their types; types no
// user has are left out. Only factDate bounds the range: other
// properties answer 400. Cost: every successful registration event of
// the log before the range's end is held in memory at once.
func (h *handler) mfaRegisteredUsers(ctx context.Context, gf graphFilter, from, to insights.Date) ([][]graphProp, error) {
	if len(gf.eqs) > 0 {
		return nil, badRequest("$filter: monthly/mfaRegisteredUsers takes only factDate")
	}
	allowed := insights.DefaultMethodPolicy().MFA
	if h.policy != nil {
		allowed = h.policy.MFA
	}
	var changes []registrationChange
	it := h.eng.Entries(ctx, insights.LogQuery{To: to, Limit: insights.MaxPageSize, Filter: insights.And(
		insights.Eq(insights.DimKind, insights.KindRegistration.String()),
		insights.Eq(insights.DimStatus, insights.StatusSuccess.String()))})
	for it.Next() {
		e := it.Entry()
		if e.UserKey != "" && e.Method != "" {
			changes = append(changes, registrationChange{insights.DateOf(e.Time, h.eng.Zone()), e.UserKey, e.Method,
				e.Action != insights.ActionRemoved})
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	// The log lists newest first, by time then by order applied: in
	// reverse, each change overrides the ones before it, as the engine's
	// state lets the latest by time (the last applied among equals) decide.
	slices.Reverse(changes)
	state := map[string]map[string]bool{}
	var objs [][]graphProp
	for month := from; month.Before(to); month = insights.NewDate(month.Year, month.Month+1, 1) {
		end := insights.NewDate(month.Year, month.Month+1, 1)
		for len(changes) > 0 && changes[0].date.Before(end) {
			c := changes[0]
			changes = changes[1:]
			if state[c.user] == nil {
				state[c.user] = map[string]bool{}
			}
			state[c.user][c.method] = c.registered
		}
		counts := map[string]int{}
		for _, methods := range state {
			types := map[string]bool{}
			for m, registered := range methods {
				if registered && slices.Contains(allowed, m) {
					types[graphMFAType(m)] = true
				}
			}
			for t := range types {
				counts[t]++
			}
		}
		for _, t := range graphMFATypes {
			if counts[t] > 0 {
				objs = append(objs, []graphProp{{"factDate", []byte(jsonString(month.String()))},
					{"mfaType", []byte(jsonString(t))}, {"count", []byte(strconv.Itoa(counts[t]))}})
			}
		}
	}
	return objs, nil
}

// logIncomplete returns the factDate of the period containing today,
// today's date or its month's first day, for graphPage's annotation.
func logIncomplete(period string, today insights.Date) map[string]bool {
	if period == "monthly" {
		today = insights.NewDate(today.Year, today.Month, 1)
	}
	return map[string]bool{today.String(): true}
}
