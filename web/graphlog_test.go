package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// logCollectionEvents returns random events of seed over October 2024 to
// 20 March 2025 in Paris: sign-ins and MFA events by telephone or app,
// some failing with telecom errors, and registration events (snapshots,
// registrations, removals, failures, several at one instant, some near
// midnight), in the order to add them, and the engine they were added to
// in several batches, late events among them.
func logCollectionEvents(t *testing.T, seed uint64) (*insights.Engine, []insights.Event) {
	t.Helper()
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	paris := eng.Zone()
	rng := rand.New(rand.NewPCG(seed, 17))
	start := time.Date(2024, 10, 1, 0, 0, 0, 0, paris)
	span := clock.Sub(start)
	at := func() time.Time {
		if rng.IntN(6) == 0 { // near a midnight, where days and months turn
			d := time.Date(2024, 10, 1+rng.IntN(170), 0, 0, 0, 0, paris)
			return d.Add(time.Duration(rng.IntN(120)-60) * time.Minute)
		}
		return start.Add(time.Duration(rng.Int64N(int64(span))))
	}
	user := func() string { return fmt.Sprintf("u%02d", rng.IntN(25)) }
	methods := []string{"Text message", "Voice call", "Phone call (Authentication phone)", "Microsoft Authenticator",
		"FIDO2 security key", "Email", "Office phone", "Software OATH token", "Windows Hello for Business", "Security questions"}
	codes := []int{0, 0, 50086, 50087, 50088, 500121, 50126}
	var evs []insights.Event
	for i := range 900 {
		e := insights.Event{Time: at(), RequestID: fmt.Sprintf("e%d", i), UserKey: user(), AppID: []string{"", "portal"}[rng.IntN(2)]}
		method := methods[rng.IntN(5)]
		switch rng.IntN(5) {
		case 0:
			e.Kind, e.MFAMethod, e.ErrorCode = insights.KindMFA, method, codes[rng.IntN(len(codes)-1)]
		case 1:
			e.Kind, e.ErrorCode = insights.KindSignIn, codes[rng.IntN(len(codes))]
			e.MFAMethod = method
			if rng.IntN(8) == 0 && e.ErrorCode != 0 {
				e.UserKey = "" // a failure of no known user
			}
		case 2:
			e.Kind, e.ErrorCode = insights.KindSignIn, codes[rng.IntN(len(codes))]
			e.AuthDetails = []insights.AuthStep{{Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Method: method, Succeeded: e.ErrorCode == 0, Requirement: insights.RequirementMultiFactor}}
		default:
			e.Kind, e.Method, e.AppID = insights.KindRegistration, methods[rng.IntN(len(methods))], ""
			e.Action = []string{insights.ActionRegistered, insights.ActionRegistered, insights.ActionRemoved, insights.ActionSnapshot}[rng.IntN(4)]
			if rng.IntN(6) == 0 {
				e.Status, e.Reason = insights.StatusFailure, "Verification code expired"
			}
			if rng.IntN(5) == 0 && len(evs) > 0 { // at the instant of an earlier event
				e.Time = evs[rng.IntN(len(evs))].Time
			}
		}
		evs = append(evs, e)
	}
	for lo := 0; lo < len(evs); lo += 150 { // batches, each with times across the whole span
		if err := eng.Add(ctx, evs[lo:min(lo+150, len(evs))]...); err != nil {
			t.Fatal(err)
		}
	}
	return eng, evs
}

// graphLogPage answers a Graph collection of h with $filter and returns
// its objects without ids and annotations.
func graphLogPage(t *testing.T, h http.Handler, collection, filter string) []map[string]any {
	t.Helper()
	target := "/reports/userInsights/" + collection
	if filter != "" {
		target += "?$filter=" + url.QueryEscape(filter)
	}
	return graphValues(t, wantStatus(t, get(t, h, "aggregates", target), 200))
}

// TestGraphTelecomFraudMatchesEvents checks daily/mfaTelecomFraud against
// a count over the events: per day, the users with a telephone MFA
// challenge that failed with 50086, 50087 or 50088.
func TestGraphTelecomFraudMatchesEvents(t *testing.T) {
	for seed := range uint64(3) {
		eng, evs := logCollectionEvents(t, seed)
		h, _ := testHandler(eng)
		paris := eng.Zone()
		telephone := func(m string) bool {
			return m == "Text message" || m == "Voice call" || m == "Phone call (Authentication phone)"
		}
		for _, c := range []struct{ filter, app string }{
			{"factDate ge 2025-01-01 and factDate lt 2025-03-21", ""},
			{"", ""},
			{"factDate ge 2024-12-01 and factDate le 2025-01-31 and appId eq 'portal'", "portal"},
		} {
			want := map[string]map[string]bool{}
			for _, e := range evs {
				method := e.MFAMethod
				if len(e.AuthDetails) > 0 {
					method = e.AuthDetails[1].Method
				}
				if e.UserKey == "" || e.Kind == insights.KindRegistration || !telephone(method) || c.app != "" && e.AppID != c.app ||
					e.ErrorCode != 50086 && e.ErrorCode != 50087 && e.ErrorCode != 50088 {
					continue
				}
				d := insights.DateOf(e.Time, paris).String()
				if want[d] == nil {
					want[d] = map[string]bool{}
				}
				want[d][e.UserKey] = true
			}
			got := graphLogPage(t, h, "daily/mfaTelecomFraud", c.filter)
			from, to := insights.NewDate(2025, 1, 1), insights.NewDate(2025, 3, 21)
			switch c.filter {
			case "":
				from = to.AddDays(-DefaultDays)
			case "factDate ge 2024-12-01 and factDate le 2025-01-31 and appId eq 'portal'":
				from, to = insights.NewDate(2024, 12, 1), insights.NewDate(2025, 2, 1)
			}
			var wantObjs []map[string]any
			total := 0
			for d := from; d.Before(to); d = d.AddDays(1) {
				n := len(want[d.String()])
				total += n
				wantObjs = append(wantObjs, map[string]any{"factDate": d.String(), "captchaFailureCount": 0.0,
					"captchaNotTriggeredUserCount": 0.0, "captchaShownUserCount": 0.0, "captchaSuccessCount": 0.0,
					"telecomBlockedUserCount": float64(n)})
			}
			if total == 0 || len(got) != len(wantObjs) {
				t.Fatalf("seed %d, %q: %d objects, want %d; %d users in all", seed, c.filter, len(got), len(wantObjs), total)
			}
			for i := range got {
				if jsonOf(t, got[i]) != jsonOf(t, wantObjs[i]) {
					t.Errorf("seed %d, %q: got %v, want %v", seed, c.filter, got[i], wantObjs[i])
				}
			}
		}
	}
}

// TestGraphMFARegisteredUsersMatchesEvents checks monthly/mfaRegisteredUsers
// against the registration state rebuilt at each month's end from the
// events: per user and method, the latest successful event by time (the
// last added among equal times) decides.
func TestGraphMFARegisteredUsersMatchesEvents(t *testing.T) {
	mfa := insights.DefaultMethodPolicy().MFA
	for seed := range uint64(3) {
		eng, evs := logCollectionEvents(t, seed)
		h, _ := testHandler(eng)
		paris := eng.Zone()
		for _, filter := range []string{"", "factDate ge 2024-11-01 and factDate lt 2025-02-01"} {
			from, to := insights.NewDate(2024, 4, 1), insights.NewDate(2025, 4, 1)
			if filter != "" {
				from, to = insights.NewDate(2024, 11, 1), insights.NewDate(2025, 2, 1)
			}
			var want []map[string]any
			for m := from; m.Before(to); m = insights.NewDate(m.Year, m.Month+1, 1) {
				end := insights.NewDate(m.Year, m.Month+1, 1).Start(paris)
				type pair struct{ user, method string }
				latest := map[pair]int{} // the index of the deciding event
				for i, e := range evs {
					if e.Kind != insights.KindRegistration || e.Status == insights.StatusFailure || !e.Time.Before(end) {
						continue
					}
					p := pair{e.UserKey, e.Method}
					if j, ok := latest[p]; !ok || !e.Time.Before(evs[j].Time) {
						latest[p] = i
					}
				}
				types := map[string]map[string]bool{}
				for p, i := range latest {
					if evs[i].Action != insights.ActionRemoved && slices.Contains(mfa, p.method) {
						typ := graphMFAType(p.method)
						if types[typ] == nil {
							types[typ] = map[string]bool{}
						}
						types[typ][p.user] = true
					}
				}
				for _, typ := range graphMFATypes {
					if n := len(types[typ]); n > 0 {
						want = append(want, map[string]any{"factDate": m.String(), "mfaType": typ, "count": float64(n)})
					}
				}
			}
			got := graphLogPage(t, h, "monthly/mfaRegisteredUsers", filter)
			if len(got) != len(want) || len(want) < 10 {
				t.Fatalf("seed %d, %q: %d objects, want %d", seed, filter, len(got), len(want))
			}
			for i := range got {
				if jsonOf(t, got[i]) != jsonOf(t, want[i]) {
					t.Errorf("seed %d, %q: got %v, want %v", seed, filter, got[i], want[i])
				}
			}
		}
	}
}

// TestGraphMFARegisteredUsersCases checks hand-made cases: a removal on a
// month's last evening against a registration just after midnight, a
// failed registration, a snapshot, a method not allowed for MFA, a user
// with two types, and today's month marked incomplete.
func TestGraphMFARegisteredUsersCases(t *testing.T) {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	paris := eng.Zone()
	n := 0
	reg := func(user, method, action string, at time.Time, status insights.Status) insights.Event {
		n++
		return insights.Event{Time: at, Kind: insights.KindRegistration, UserKey: user, Method: method, Action: action,
			Status: status, RequestID: strconv.Itoa(n)}
	}
	ok := insights.StatusSuccess
	if err := eng.Add(ctx,
		reg("ann", "Text message", insights.ActionSnapshot, time.Date(2025, 1, 1, 0, 0, 0, 0, paris), ok),
		reg("ann", "Text message", insights.ActionRemoved, time.Date(2025, 1, 31, 23, 59, 0, 0, paris), ok),
		reg("ann", "Text message", insights.ActionRegistered, time.Date(2025, 2, 1, 0, 1, 0, 0, paris), ok),
		reg("bob", "Microsoft Authenticator", insights.ActionRegistered, time.Date(2025, 1, 10, 9, 0, 0, 0, paris), ok),
		reg("bob", "Passkey", insights.ActionRegistered, time.Date(2025, 2, 10, 9, 0, 0, 0, paris), ok),
		reg("cat", "Email", insights.ActionRegistered, time.Date(2025, 1, 10, 9, 0, 0, 0, paris), ok), // SSPR only
		reg("dan", "Voice call", insights.ActionRegistered, time.Date(2025, 2, 3, 9, 0, 0, 0, paris), insights.StatusFailure),
		// At one instant, the event added last decides.
		reg("eve", "Passkey", insights.ActionRegistered, time.Date(2025, 1, 5, 9, 0, 0, 0, paris), ok),
		reg("eve", "Passkey", insights.ActionRemoved, time.Date(2025, 1, 5, 9, 0, 0, 0, paris), ok),
		reg("fay", "Voice call", insights.ActionRemoved, time.Date(2025, 1, 5, 9, 0, 0, 0, paris), ok),
		reg("fay", "Voice call", insights.ActionRegistered, time.Date(2025, 1, 5, 9, 0, 0, 0, paris), ok),
	); err != nil {
		t.Fatal(err)
	}
	h, _ := testHandler(eng)
	body := wantStatus(t, get(t, h, "aggregates", "/reports/userInsights/monthly/mfaRegisteredUsers?$filter="+
		url.QueryEscape("factDate ge 2025-01-01")), 200)
	var p graphPageOf
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range p.Value {
		got = append(got, fmt.Sprintf("%v %v %v %v", o["factDate"], o["mfaType"], o["count"], o[incompleteAnnotation]))
	}
	want := []string{
		"2025-01-01 phoneAppNotification 1 <nil>", // ann removed Text message on the 31st
		"2025-01-01 twoWayVoiceMobile 1 <nil>",
		"2025-02-01 oneWaySms 1 <nil>",
		"2025-02-01 phoneAppNotification 1 <nil>",
		"2025-02-01 twoWayVoiceMobile 1 <nil>",
		"2025-02-01 fido 1 <nil>",
		"2025-03-01 oneWaySms 1 true",
		"2025-03-01 phoneAppNotification 1 true",
		"2025-03-01 twoWayVoiceMobile 1 true",
		"2025-03-01 fido 1 true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestGraphMFAType(t *testing.T) {
	for method, want := range map[string]string{
		"Text message": "oneWaySms", "sms": "oneWaySms", "Voice call": "twoWayVoiceMobile",
		"Phone call (Authentication phone)": "twoWayVoiceMobile", "voiceMobile": "twoWayVoiceMobile",
		"Office phone": "twoWayVoiceOffice", "voiceOffice": "twoWayVoiceOffice", "voiceAlternateMobile": "twoWayVoiceOtherMobile",
		"Microsoft Authenticator": "phoneAppNotification", "Authenticator app": "phoneAppNotification",
		"OATH verification code": "phoneAppOtp", "Hardware OATH token": "phoneAppOtp", "softwareOath": "phoneAppOtp",
		"FIDO2 security key": "fido", "Passkey": "fido", "Certificate-based authentication": "certificate",
		"x509Certificate": "certificate", "Email": "eotp", "Windows Hello for Business": "other", "": "other",
	} {
		if got := graphMFAType(method); got != want {
			t.Errorf("graphMFAType(%q) = %s, want %s", method, got, want)
		}
	}
}
