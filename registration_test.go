package insights_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

func reg(user string, at time.Time, method, action string) insights.Event {
	return insights.Event{Time: at, Kind: insights.KindRegistration, UserKey: user, Method: method, Action: action}
}

// testPolicy allows two methods for MFA, needs two for SSPR, and leaves
// carl out of MFA's scope.
func testPolicy() *insights.MethodPolicy {
	return &insights.MethodPolicy{
		MFA:          []string{"Authenticator app", "Text message", "FIDO2 security key"},
		SSPR:         []string{"Email", "Text message", "Authenticator app"},
		SSPRRequired: 2,
		Passwordless: []string{"FIDO2 security key"},
		MFAEnabled:   func(user string) bool { return user != "carl" },
	}
}

func registrationDay() []insights.Event {
	failed := reg("ann", utc(3, 2, 10, 0), "FIDO2 security key", insights.ActionRegistered)
	failed.Status, failed.ErrorCode, failed.Reason = insights.StatusFailure, 90002, insights.ReasonUserError
	lockout := insights.Event{Time: utc(3, 3, 12, 0), Kind: insights.KindReset, UserKey: "dave", Method: "Email",
		Action: insights.ActionAccountUnlock, Status: insights.StatusFailure, Reason: "methodNotRegistered"}
	return []insights.Event{
		reg("ann", utc(3, 1, 9, 0), "Authenticator app", ""), // empty action: registered
		reg("ann", utc(3, 2, 9, 0), "Text message", insights.ActionRegistered),
		failed,
		reg("ann", utc(3, 3, 9, 0), "Text message", insights.ActionRemoved),
		reg("bob", utc(3, 1, 11, 0), "Email", insights.ActionRemoved),
		reg("carl", utc(3, 2, 8, 0), "FIDO2 security key", insights.ActionRegistered),
		{Time: utc(3, 3, 11, 0), Kind: insights.KindReset, UserKey: "dave", Method: "Text message"}, // a password reset
		lockout,
	}
}

func TestRegistrationDetails(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	e, err := insights.Open(ctx, st, &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := []insights.RegisteredMethods{{UserKey: "bob", Methods: []string{"Email", "Text message"}}}
	for range 2 { // twice: changes nothing
		if err := e.ImportRegistrations(ctx, utc(2, 1, 0, 0), snapshot); err != nil {
			t.Fatal(err)
		}
	}
	add(t, e, registrationDay()...)
	// Late: a removal older than the registration that decided the state.
	add(t, e, reg("ann", utc(2, 28, 9, 0), "Authenticator app", insights.ActionRemoved))

	want := []insights.RegistrationDetail{
		{UserKey: "ann", Methods: []string{"Authenticator app"},
			MFA: insights.MethodCapability{Registered: true, Enabled: true, Capable: true}, SSPR: insights.MethodCapability{Enabled: true},
			Passwordless: insights.MethodCapability{Enabled: true}},
		{UserKey: "bob", Methods: []string{"Text message"},
			MFA: insights.MethodCapability{Registered: true, Enabled: true, Capable: true}, SSPR: insights.MethodCapability{Enabled: true},
			Passwordless: insights.MethodCapability{Enabled: true}},
		{UserKey: "carl", Methods: []string{"FIDO2 security key"},
			MFA: insights.MethodCapability{Registered: true}, SSPR: insights.MethodCapability{Enabled: true},
			Passwordless: insights.MethodCapability{Registered: true, Enabled: true, Capable: true}},
	}
	check := func(label string, e *insights.Engine) {
		t.Helper()
		got, err := e.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: testPolicy()})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: details\n got %+v (%v)\nwant %+v", label, got, err, want)
		}
		sum, err := e.SummarizeMethods(ctx, testPolicy())
		wantSum := insights.MethodsSummary{Users: 3,
			MFA:          insights.CapabilityCounts{Registered: 3, Enabled: 2, Capable: 2},
			SSPR:         insights.CapabilityCounts{Registered: 0, Enabled: 3, Capable: 0},
			Passwordless: insights.CapabilityCounts{Registered: 1, Enabled: 3, Capable: 1},
			ByMethod:     map[string]int{"Authenticator app": 1, "Text message": 1, "FIDO2 security key": 1}}
		if err != nil || !reflect.DeepEqual(sum, wantSum) {
			t.Fatalf("%s: summary %+v (%v), want %+v", label, sum, err, wantSum)
		}
	}
	check("in memory", e)

	search, _ := e.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: testPolicy(), UserPrefix: "b"})
	byMethod, _ := e.RegistrationDetails(ctx, insights.RegistrationQuery{Method: "FIDO2 security key"})
	capable, _ := e.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: testPolicy(),
		Filter: func(d insights.RegistrationDetail) bool { return d.MFA.Capable }})
	if len(search) != 1 || search[0].UserKey != "bob" || len(byMethod) != 1 || byMethod[0].UserKey != "carl" || len(capable) != 2 {
		t.Fatalf("search %v, by method %v, MFA capable %v", search, byMethod, capable)
	}

	// Registrations over time: snapshots are not registrations; the late
	// removal is one. Resets: a password reset and a failed unlock.
	res := query(t, e, insights.Query{Metric: insights.Registrations, From: date(2025, 2, 1), To: date(2025, 3, 4), Granularity: insights.Total})
	checkRows(t, res, map[string]float64{"2025-02-01 attempts": 7, "2025-02-01 successes": 6, "2025-02-01 failures": 1})
	res = query(t, e, insights.Query{Metric: insights.Resets, From: date(2025, 3, 1), To: date(2025, 3, 4), Granularity: insights.Total,
		GroupBy: []insights.Dimension{insights.DimAction}})
	checkRows(t, res, map[string]float64{"2025-03-01 attempts [passwordReset]": 1, "2025-03-01 successes [passwordReset]": 1,
		"2025-03-01 attempts [accountUnlock]": 1, "2025-03-01 failures [accountUnlock]": 1})

	// The details list of registrations and resets, newest first, without snapshots.
	p, err := e.MethodActivity(ctx, insights.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, en := range p.Entries {
		rows = append(rows, fmt.Sprintf("%s %s %s %s %s", en.UserKey, en.Kind, en.Method, en.Action, en.Status))
	}
	wantRows := []string{
		"dave reset Email accountUnlock failure", "dave reset Text message passwordReset success",
		"ann registration Text message removed success", "ann registration FIDO2 security key registered failure",
		"ann registration Text message registered success", "carl registration FIDO2 security key registered success",
		"bob registration Email removed success", "ann registration Authenticator app registered success",
		"ann registration Authenticator app removed success"}
	if !slices.Equal(rows, wantRows) {
		t.Fatalf("method activity\n got %q\nwant %q", rows, wantRows)
	}

	// The state is durable, and Erase removes it.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = insights.Open(ctx, st, &insights.Options{Now: fixed(clock)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	check("reopened", e)
	if _, err := e.Erase(ctx, "carl"); err != nil {
		t.Fatal(err)
	}
	want = want[:2]
	if got, _ := e.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: testPolicy()}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after erasing carl: %+v", got)
	}
}

// TestRegistrationOracle compares the registration details of the oracle's
// generated data with a fold of the raw events: per user and method, the
// latest successful registration event decides, ties by order applied.
func TestRegistrationOracle(t *testing.T) {
	t.Parallel()
	policy := &insights.MethodPolicy{MFA: []string{"Authenticator app", "Text message"}, SSPR: []string{"Text message", "FIDO2"},
		SSPRRequired: 2, Passwordless: []string{"FIDO2"}}
	for _, seed := range oracleSeeds() {
		ctx := context.Background()
		fed := orFedSeed(t, seed)
		eng, o := fed.eng, fed.o
		type st struct {
			t   time.Time
			reg bool
		}
		state := map[string]map[string]st{}
		for _, r := range o.recs {
			if r.kind != insights.KindRegistration || r.status != insights.StatusSuccess || r.user < 0 {
				continue
			}
			key, m := o.keys[r.user], r.dim(insights.DimMethod)
			if state[key] == nil {
				state[key] = map[string]st{}
			}
			if old, ok := state[key][m]; !ok || !old.t.After(r.t) {
				state[key][m] = st{r.t, r.dim(insights.DimAction) != insights.ActionRemoved}
			}
		}
		var want []string
		for key, ms := range state {
			var methods []string
			for m, s := range ms {
				if s.reg {
					methods = append(methods, m)
				}
			}
			slices.Sort(methods)
			n := func(allowed []string) (c int) {
				for _, m := range methods {
					if slices.Contains(allowed, m) {
						c++
					}
				}
				return c
			}
			if len(methods) > 0 {
				want = append(want, fmt.Sprintf("%s %v mfa=%v sspr=%v pwless=%v", key, methods, n(policy.MFA) > 0, n(policy.SSPR) >= 2, n(policy.Passwordless) > 0))
			}
		}
		slices.Sort(want)
		details, err := eng.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range details {
			got = append(got, fmt.Sprintf("%s %v mfa=%v sspr=%v pwless=%v", d.UserKey, d.Methods, d.MFA.Capable, d.SSPR.Capable, d.Passwordless.Capable))
		}
		if !slices.Equal(got, want) || len(want) < 20 {
			t.Fatalf("seed %d: %d rows, want %d (the oracle needs a few dozen to mean much)", seed, len(got), len(want))
		}
		// UserSearch: the rows whose key or display name starts with the
		// search, case ignored.
		keys := make([]string, len(details))
		for i, d := range details {
			keys[i] = d.UserKey
		}
		names, err := eng.DisplayNames(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		byName := 0
		for _, search := range orSearches {
			var want []string
			for _, d := range details {
				if orSearched(d.UserKey, search) || orSearched(names[d.UserKey], search) {
					want = append(want, d.UserKey)
				}
				if !orSearched(d.UserKey, search) && orSearched(names[d.UserKey], search) {
					byName++
				}
			}
			found, err := eng.RegistrationDetails(ctx, insights.RegistrationQuery{Policy: policy, UserSearch: search})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range found {
				got = append(got, d.UserKey)
			}
			if !slices.Equal(got, want) {
				t.Errorf("seed %d: UserSearch %q found %v, want %v", seed, search, got, want)
			}
		}
		if byName < 5 {
			t.Errorf("seed %d: %d rows found by display name only: the searches test little", seed, byName)
		}
	}
}
