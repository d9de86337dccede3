package importers_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

const (
	signIn    = insights.KindSignIn
	inter     = insights.SignInInteractiveUser
	nonInter  = insights.SignInNonInteractiveUser
	sp        = insights.SignInServicePrincipal
	success   = insights.StatusSuccess
	failure   = insights.StatusFailure
	interrupt = insights.StatusInterrupted
)

func TestEntraCSV(t *testing.T) {
	evs, rep := readFile(t, "entra.csv", importers.EntraCSV)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T16:15:06Z", signIn, "u-alice", "", inter, 0, 0, "", "csv-1"},
		{"2023-09-20T16:20:00Z", signIn, "u-bob", "", inter, 0, 50126, "", "csv-2"}, // US-style date
		{"2023-09-21T09:05:10Z", signIn, "u-alice", "", inter, 0, 50074, "", "csv-3"},
		{"2023-09-21T09:05:40Z", signIn, "u-alice", "", inter, 0, 0, "", "csv-4"},
		{"2023-09-22T08:00:00Z", signIn, "u-carol", "", inter, 0, 500121, "", "csv-5"},
		{"2023-09-22T09:00:00Z", signIn, "", "sp-backup", sp, 0, 0, "", "csv-6"},
		{"2023-09-22T10:00:00Z", signIn, "", "", inter, 0, 50034, "", "csv-8"},       // a failure of no known user
		{"2023-09-23T11:30:00Z", signIn, "u-dave", "", inter, 0, 0, "", "entra:h:*"}, // no request id
	})
	checkSkips(t, rep, 10,
		`line 8: Date (UTC): "not a date" is not a time`,
		"line 11: 5 fields where the header has 29")
	a, b, c := evs[0], evs[1], evs[4]
	if a.City != "Seattle" || a.State != "Washington" || a.Country != "US" || b.City != "Paris" || b.Country != "FR" || evs[7].Country != "DE" {
		t.Errorf("locations: %q %q %q, %q %q, %q", a.City, a.State, a.Country, b.City, b.Country, evs[7].Country)
	}
	if a.AppID != "00000002-0000-0ff1-ce00-000000000000" || a.OS != "Windows10" || a.IP != "203.0.113.10" || a.SessionID != "sess-1" {
		t.Errorf("trailing-space headers: app %q os %q ip %q session %q", a.AppID, a.OS, a.IP, a.SessionID)
	}
	if a.MFAMethod != "Mobile app notification" || a.MFAResult != "" || a.AuthRequirement != insights.RequirementMultiFactor ||
		a.ConditionalAccess != "success" || b.ConditionalAccess != "notApplied" || b.AuthRequirement != insights.RequirementSingleFactor {
		t.Errorf("MFA and CA: %q %q %q %q %q %q", a.MFAMethod, a.MFAResult, a.AuthRequirement, a.ConditionalAccess, b.ConditionalAccess, b.AuthRequirement)
	}
	if c.MFAMethod != "Mobile app notification" || c.MFAResult != insights.MFADenied {
		t.Errorf("denied MFA: %q %q", c.MFAMethod, c.MFAResult)
	}
	if evs[5].UserDisplayName != "" || evs[5].AppName != "Backup Daemon" {
		t.Errorf("service principal: %+v", evs[5])
	}
}

func TestEntraCSVSignInTypeOption(t *testing.T) {
	var got []insights.SignInType
	_, err := importers.Read(t.Context(), openSample(t, "entra.csv"), importers.EntraCSV,
		&importers.Options{Now: clock, SignInType: nonInter}, func(b []insights.Event) error {
			for _, ev := range b {
				got = append(got, ev.SignInType)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	// The service-principal row names a principal but no user: the
	// option makes it a successful user sign-in without a user, which is
	// skipped (a failure without a user is kept).
	if want := slices.Repeat([]insights.SignInType{nonInter}, 7); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestEntraJSON(t *testing.T) {
	evs, rep := readFile(t, "entra.json", importers.EntraJSON)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T10:00:00Z", signIn, "u-alice", "", inter, 0, 0, "", "g-1"},
		{"2023-09-20T11:00:00Z", signIn, "u-bob", "", nonInter, 0, 0, "", "g-2"},
		{"2023-09-21T08:00:00Z", signIn, "u-erin", "", inter, 0, 50074, "", "g-3"},
		{"2023-09-21T08:30:00Z", signIn, "u-carol", "", inter, 0, 500121, "", "g-4"},
		{"2023-09-22T07:00:00Z", signIn, "", "sp-reports", sp, 0, 0, "", "g-5"},
	})
	checkSkips(t, rep, 7,
		`line 257: createdDateTime: "" is not a time`,
		`line 295: error code "[\n        1\n      ]" is not an integer`)
	a := evs[0]
	checkAliceSteps(t, a)
	if !reflect.DeepEqual(a.CAPolicies, aliceCA) || !reflect.DeepEqual(a.MFAPolicies, []string{"Conditional Access"}) {
		t.Errorf("policies: %+v %q", a.CAPolicies, a.MFAPolicies)
	}
	if a.AuthRequirement != insights.RequirementMultiFactor || a.ConditionalAccess != "success" || a.RiskLevel != "none" ||
		a.Country != "US" || a.City != "Redmond" || a.OS != "Windows 10" || a.Browser != "Edge 117.0.0" || a.SessionID != "s-g-1" {
		t.Errorf("fields: %+v", a)
	}
	if s := evs[3].AuthDetails[1]; s.Succeeded || s.ResultDetail != "MFA denied; user declined the authentication" {
		t.Errorf("failed MFA step: %+v", s)
	}
}

func TestEntraDiagnostic(t *testing.T) {
	evs, rep := readFile(t, "entra-diagnostic.jsonl", importers.EntraJSON)
	checkBriefs(t, evs, []brief{
		{"2023-09-23T09:00:00Z", signIn, "u-frank", "", inter, 0, 0, "", "d-1"},
		{"2023-09-23T09:30:00Z", signIn, "u-frank", "", nonInter, 0, 0, "", "d-2"},
		{"2023-09-23T10:00:00Z", signIn, "", "sp-sync", sp, 0, 0, "", "d-3"},
		{"2023-09-23T10:05:00Z", signIn, "", "mi-vm1", insights.SignInManagedIdentity, 0, 0, "", "d-4"},
		{"2023-09-23T12:00:00Z", signIn, "u-grace", "", inter, 0, 50126, "", "d-7"}, // code from resultType
	})
	checkSkips(t, rep, 7,
		`line 4: category "AuditLogs" is not a sign-in log`,
		"line 5: not a JSON value")
	if evs[0].IP != "2001:db8::1" || evs[0].DeviceID != "dev-1" || evs[0].ClientApp != "Mobile Apps and Desktop clients" {
		t.Errorf("fields: %+v", evs[0])
	}
}

// aliceCA are the policies applied to Alice's first sign-in in the Entra
// JSON and Log Analytics samples.
var aliceCA = []insights.PolicyResult{{Name: "Require MFA for admins", Result: "success"}, {Name: "Block legacy auth", Result: "notApplied"}}

// checkAliceSteps checks the steps of Alice's first sign-in in the Entra
// JSON and Log Analytics samples: a password, then an MFA notification 20
// seconds later.
func checkAliceSteps(t *testing.T, a insights.Event) {
	t.Helper()
	want := []insights.AuthStep{
		{Time: a.Time, Method: "Password", Succeeded: true, ResultDetail: "Correct password", Requirement: insights.RequirementSingleFactor},
		{Time: a.Time.Add(20e9), Method: "Mobile app notification", Succeeded: true, ResultDetail: "MFA successfully completed", Requirement: insights.RequirementMultiFactor},
	}
	if !reflect.DeepEqual(a.AuthDetails, want) {
		t.Errorf("steps: %+v", a.AuthDetails)
	}
}

func TestOkta(t *testing.T) {
	evs, rep := readFile(t, "okta.json", importers.Okta)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T10:00:00Z", signIn, "00u-alice", "", inter, success, 0, "", "okta:o-1"},
		{"2023-09-20T10:05:00Z", signIn, "00u-bob", "", inter, failure, 0, insights.ReasonDenied, "okta:o-2"},
		{"2023-09-20T10:06:00Z", signIn, "00u-alice", "", inter, success, 0, "", "okta:o-3"},
		{"2023-09-20T10:00:30Z", insights.KindMFA, "00u-alice", "", 0, success, 0, "", "okta:o-4"},
		{"2023-09-21T09:00:00Z", insights.KindRegistration, "00u-carol", "", 0, success, 0, "", "okta:o-5"},
		{"2023-09-21T09:30:00Z", insights.KindReset, "00u-dave", "", 0, success, 0, "", "okta:o-6"},
		{"2023-09-21T10:00:00Z", insights.KindUserCreated, "00u-erin", "", 0, success, 0, "", "okta:o-7"},
		{"2023-09-22T10:00:00Z", signIn, "00u-alice", "", nonInter, success, 0, "", "okta:o-8"},
		{"2023-09-22T11:00:00Z", signIn, "", "0oa-svc", sp, success, 0, "", "okta:o-9"},
	})
	checkSkips(t, rep, 12,
		`line 574: event type "system.sms.send_factor_verify_message" is not imported`,
		`line 632: outcome.result "UNKNOWN" is not the outcome of an attempt`,
		`line 690: published: "" is not a time`)
	if e := evs[2]; e.AppID != "0oa-sf" || e.AppName != "Salesforce" || e.City != "San Francisco" || e.Country != "United States" ||
		e.OS != "Mac OS X" || e.Browser != "CHROME" || e.SessionID != "sess-okta-1" || e.CorrelationID != "tx-o-3" || e.UserDisplayName != "Alice" {
		t.Errorf("sso fields: %+v", e)
	}
	if evs[3].MFAMethod != "Okta Verify" || evs[4].Method != "Google Authenticator" || evs[4].Action != insights.ActionRegistered ||
		evs[5].Action != insights.ActionPasswordReset {
		t.Errorf("methods: %q %q %q %q", evs[3].MFAMethod, evs[4].Method, evs[4].Action, evs[5].Action)
	}
}

func TestAuth0(t *testing.T) {
	evs, rep := readFile(t, "auth0.json", importers.Auth0)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T14:00:00Z", signIn, "auth0|u1", "", inter, success, 0, "", "auth0:a-1"},
		{"2023-09-20T14:10:00Z", signIn, "auth0|u2", "", inter, failure, 0, insights.ReasonDenied, "auth0:a-2"},
		{"2023-09-20T14:11:00Z", signIn, "nobody@example.com", "", inter, failure, 0, insights.ReasonDenied, "auth0:a-3"},
		{"2023-09-21T08:00:00Z", signIn, "auth0|u1", "", inter, interrupt, 0, "", "auth0:a-4"},
		{"2023-09-21T08:00:30Z", insights.KindMFA, "auth0|u1", "", 0, success, 0, "", "auth0:a-5"},
		{"2023-09-21T09:00:00Z", signIn, "auth0|u1", "", nonInter, success, 0, "", "auth0:a-6"},
		{"2023-09-21T10:00:00Z", signIn, "", "cli-svc", sp, success, 0, "", "auth0:a-7"},
		{"2023-09-22T08:00:00Z", insights.KindSignUp, "auth0|u3", "", 0, success, 0, "", "auth0:a-8"},
		{"2023-09-22T08:05:00Z", insights.KindRegistration, "auth0|u3", "", 0, success, 0, "", "auth0:a-9"},
		{"2023-09-22T09:00:00Z", insights.KindReset, "auth0|u2", "", 0, success, 0, "", "auth0:a-10"},
		{"2023-09-22T10:00:00Z", insights.KindUserDeleted, "auth0|u4", "", 0, success, 0, "", "auth0:a-11"},
		{"2023-09-23T08:00:00Z", signIn, "auth0|u1", "", inter, success, 0, "", "auth0:h:*"},
		{"2023-09-23T09:00:00Z", signIn, "", "", inter, failure, 0, insights.ReasonDenied, "auth0:a-16"}, // an unknown user
	})
	checkSkips(t, rep, 16,
		`line 13: type "slo" is a logout`,
		`line 14: type "sapi" is a Management API call`,
		`line 16: date: "" is not a time`)
	if e := evs[0]; e.Browser != "Chrome 118.0.0" || e.OS != "Mac OS X 10.15.7" || e.Country != "US" || e.City != "Chicago" ||
		e.AppID != "cli-web" || e.AppName != "Web App" || e.IdentityProvider != "Username-Password-Authentication" {
		t.Errorf("fields: %+v", e)
	}
	if e := evs[12]; e.AppID != "cli-web" || e.IP != "198.51.100.99" || e.Browser != "curl 8.1.2" {
		t.Errorf("unknown user's failure: %+v", e)
	}
	if e := evs[0]; e.Latitude != 41.8 || e.Longitude != -87.6 {
		t.Errorf("coordinates %v %v", e.Latitude, e.Longitude)
	}
	if evs[3].AuthRequirement != insights.RequirementMultiFactor || evs[8].Action != insights.ActionRegistered {
		t.Errorf("mfar %q, enrollment %q", evs[3].AuthRequirement, evs[8].Action)
	}
}

func TestJSONL(t *testing.T) {
	evs, rep := readFile(t, "events.jsonl", importers.JSONL)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T09:00:00Z", signIn, "alice", "", 0, 0, 0, "", "e-1"},
		{"2023-09-20T07:05:00Z", signIn, "bob", "", 0, 0, 50126, "", "e-2"},
		{"2023-09-20T09:11:00Z", insights.KindMFA, "alice", "", 0, 0, 0, "", "e-5"},
		{"2023-09-21T10:00:00Z", insights.KindRegistration, "carol", "", 0, 0, 0, "", "e-6"},
		{"2023-09-21T11:00:00Z", insights.KindReset, "bob", "", 0, failure, 0, "userGaveUp", "e-7"},
		{"2023-09-21T12:00:00Z", signIn, "", "sp-1", sp, 0, 0, "", "e-8"},
		{"2023-09-22T08:00:00Z", signIn, "dave", "", nonInter, 0, 0, "", "jsonl:h:*"},
	})
	checkSkips(t, rep, 12,
		`line 4: unknown field "bogus"`,
		"line 9: UserKey: missing on a signIn event",
		`line 10: unknown kind "nope"; want one of signIn, signUp, userCreated, userDeleted, mfa, registration, reset, riskDecision`,
		"line 12: not a JSON object",
		`line 13: Reason: "wrongPassword" is not one of [incomplete denied badRequest systemFailure userError configError other]`)
	if evs[0].AppID != "portal" || evs[0].Country != "fr" || evs[3].Method != "FIDO2 security key" {
		t.Errorf("fields: %+v %+v", evs[0], evs[3])
	}
}

func TestSnapshot(t *testing.T) {
	got, rep, err := importers.ReadSnapshot(t.Context(), openSample(t, "snapshot.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []insights.RegisteredMethods{
		{UserKey: "alice", Methods: []string{"Password", "Microsoft Authenticator", "FIDO2 security key"}},
		{UserKey: "bob", Methods: []string{"Password"}},
		{UserKey: "carol", Methods: []string{}},
		{UserKey: "dave", Methods: []string{"Password", "Text message"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if rep.Read != 6 || rep.Imported != 4 || rep.SkippedCount != 1 || rep.Skipped[0] != (importers.Skip{Line: 5, Reason: "no userKey"}) {
		t.Errorf("report %+v", rep)
	}
}

func TestEntraLogAnalyticsCSV(t *testing.T) {
	evs, rep := readFile(t, "entra-loganalytics.csv", importers.EntraLogAnalytics)
	checkBriefs(t, evs, []brief{
		{"2023-09-20T10:00:00Z", signIn, "u-alice", "", inter, 0, 0, "", "la-1"}, // CreatedDateTime before TimeGenerated
		{"2023-09-20T11:00:00Z", signIn, "u-bob", "", nonInter, 0, 0, "", "la-2"},
		{"2023-09-21T14:08:45Z", signIn, "nobody@contoso.com", "", inter, 0, 50126, "", "la-3"}, // "9/21/2023, 2:08:45.221 PM"
		{"2023-09-21T15:00:00Z", signIn, "u-alice", "", inter, 0, 50074, "", "la-4"},
		{"2023-09-22T09:00:00Z", signIn, "", "sp-backup", sp, 0, 0, "", "la-5"},
	})
	checkSkips(t, rep, 7,
		`line 69: ResultType: "error" is not a number`,
		"line 70: DeviceDetail: not a JSON object or array")
	if evs[2].Time.Nanosecond() != 221e6 || evs[1].Time.Nanosecond() != 500e6 {
		t.Errorf("fractions of a second: %v %v", evs[2].Time, evs[1].Time)
	}
	a, b := evs[0], evs[1]
	checkAliceSteps(t, a)
	if !reflect.DeepEqual(a.CAPolicies, aliceCA) || a.ConditionalAccess != "success" || a.AuthRequirement != insights.RequirementMultiFactor {
		t.Errorf("policies: %+v %q %q", a.CAPolicies, a.ConditionalAccess, a.AuthRequirement)
	}
	if a.City != "Redmond" || a.State != "Washington" || a.Country != "US" || a.Latitude != 47.674 || a.Longitude != -122.1215 ||
		a.OS != "Windows 10" || a.Browser != "Edge 117.0.0" || a.DeviceID != "dev-la-1" || a.IP != "203.0.113.10" ||
		a.ClientApp != "Browser" || a.CorrelationID != "corr-la-1" || a.UserDisplayName != "Alice" {
		t.Errorf("fields: %+v", a)
	}
	// LocationDetails empty, its _dynamic twin holding it.
	if b.City != "Paris" || b.Country != "FR" || b.Latitude != 48.8566 || b.Longitude != 2.3522 || b.OS != "MacOs" {
		t.Errorf("twin: %+v", b)
	}
}

func TestEntraLogAnalyticsJSON(t *testing.T) {
	evs, rep := readFile(t, "entra-loganalytics.json", importers.EntraLogAnalytics)
	checkBriefs(t, evs, []brief{
		{"2023-09-22T10:05:00Z", signIn, "", "mi-vm1", insights.SignInManagedIdentity, 0, 0, "", "la-j-1"},
		{"2023-09-23T08:15:00Z", signIn, "u-dave", "", inter, 0, 0, "", "la-j-2"}, // no time column: the first step's
	})
	checkSkips(t, rep, 4,
		`line 4: Category "AuditLogs" is not a sign-in log`,
		`line 5: TimeGenerated: "" is not a time`)
	if e := evs[1]; e.City != "Paris" || e.Latitude != 48.8566 || len(e.AuthDetails) != 1 {
		t.Errorf("fields: %+v", e)
	}
}

// A Log Analytics export given as a portal download names the format to
// use.
func TestEntraCSVNamesTheLogAnalyticsFormat(t *testing.T) {
	_, err := importers.Read(t.Context(), openSample(t, "entra-loganalytics.csv"), importers.EntraCSV, nil, func([]insights.Event) error { return nil })
	if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), "entra-loganalytics") {
		t.Errorf("got %v", err)
	}
}

// Okta events a log shipper wrapped, one per line, under "message": as a
// string of JSON, or as an object.
func TestOktaEnvelope(t *testing.T) {
	var evs []insights.Event
	rep, err := importers.Read(t.Context(), openSample(t, "okta-shipper.jsonl"), importers.Okta,
		&importers.Options{Now: clock, Envelope: "message"}, func(b []insights.Event) error {
			evs = append(evs, b...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	mfa := insights.KindMFA
	checkBriefs(t, evs, []brief{
		{"2023-09-22T12:00:00Z", signIn, "00u-alice", "", inter, failure, 0, insights.ReasonDenied, "okta:o-20"}, // a password refused
		{"2023-09-22T12:01:00Z", mfa, "00u-alice", "", 0, success, 0, "", "okta:o-21"},
		{"2023-09-22T12:02:00Z", signIn, "00u-alice", "", inter, failure, 0, insights.ReasonConfigError, "okta:o-22"},
		{"2023-09-22T12:03:00Z", signIn, "", "0oa-svc", sp, failure, 0, insights.ReasonConfigError, "okta:o-23"},
		{"2023-09-22T12:06:00Z", signIn, "00u-alice", "", inter, success, 0, "", "okta:o-24"},
	})
	checkSkips(t, rep, 7,
		`line 5: event type "app.oauth2.as.evaluate.claim" is imported only as a failure; a success is part of a sign-in logged on its own`,
		`line 6: no "message" field`)
	if e := evs[0]; len(e.AuthDetails) != 1 || e.AuthDetails[0].Succeeded || e.AuthDetails[0].Method != "Password" ||
		e.Latitude != 37.7852 || e.Longitude != -122.3874 {
		t.Errorf("password verification: %+v", e)
	}
	if evs[1].MFAMethod != "Okta Verify" || evs[2].AppID != "0oa-payroll" || evs[2].AppName != "Payroll" || evs[4].Latitude != 48.8566 {
		t.Errorf("fields: %q %q %q %v", evs[1].MFAMethod, evs[2].AppID, evs[2].AppName, evs[4].Latitude)
	}
	// Without the option, the envelopes are not Okta events.
	_, rep = readFile(t, "okta-shipper.jsonl", importers.Okta)
	if rep.Imported != 0 || rep.SkippedCount != 7 {
		t.Errorf("without Envelope: %+v", rep)
	}
}

func TestKeycloak(t *testing.T) {
	evs, rep := readFile(t, "keycloak.json", importers.Keycloak)
	reg, reset := insights.KindRegistration, insights.KindReset
	checkBriefs(t, evs, []brief{
		{"2023-09-22T10:00:00Z", signIn, "kc-u-ann", "", inter, success, 0, "", "keycloak:kc-1"},
		{"2023-09-22T10:01:00Z", signIn, "mallory", "", inter, failure, 0, insights.ReasonDenied, "keycloak:kc-2"}, // the name typed
		{"2023-09-22T10:02:00Z", signIn, "kc-u-ann", "", inter, failure, 0, insights.ReasonDenied, "keycloak:kc-3"},
		{"2023-09-22T10:04:00Z", insights.KindSignUp, "kc-u-bea", "", 0, success, 0, "", "keycloak:kc-5"},
		{"2023-09-22T10:05:00Z", reg, "kc-u-bea", "", 0, success, 0, "", "keycloak:kc-6"},
		{"2023-09-22T10:07:00Z", reset, "kc-u-ann", "", 0, success, 0, "", "keycloak:kc-8"},
		{"2023-09-22T10:08:00Z", signIn, "kc-u-ann", "", nonInter, success, 0, "", "keycloak:kc-9"},
		{"2023-09-22T10:09:00Z", signIn, "", "batch-job", sp, success, 0, "", "keycloak:kc-10"},
		{"2023-09-22T10:10:00Z", reg, "kc-u-bea", "", 0, success, 0, "", "keycloak:kc-11"},
		{"2023-09-22T10:12:00Z", insights.KindUserCreated, "kc-u-cy", "", 0, success, 0, "", "keycloak:kc-a-1"},
		{"2023-09-22T10:13:00Z", insights.KindUserDeleted, "kc-u-cy", "", 0, success, 0, "", "keycloak:kc-a-2"},
	})
	checkSkips(t, rep, 16,
		`line 5: type "CODE_TO_TOKEN" is a step of an event logged on its own`,
		`line 8: type "SEND_RESET_PASSWORD" is a step of an event logged on its own`,
		`line 13: type "LOGOUT" is a logout`,
		`line 16: resourceType "CLIENT" is not a user`,
		"line 17: no time")
	if e := evs[0]; e.AppID != "web-portal" || e.IP != "203.0.113.50" || e.SessionID != "kc-s-1" || e.AuthFlow != "openid-connect" ||
		e.UserDisplayName != "ann" {
		t.Errorf("fields: %+v", e)
	}
	if evs[4].Method != "otp" || evs[4].Action != insights.ActionRegistered || evs[8].Action != insights.ActionRemoved ||
		evs[5].Action != insights.ActionPasswordReset || evs[9].IP != "192.0.2.1" || evs[9].AppID != "security-admin-console" {
		t.Errorf("methods and admin fields: %+v %+v %+v %+v", evs[4], evs[8], evs[5], evs[9])
	}
}
