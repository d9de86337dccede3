package insights_test

// Hand-written cases of the sign-in log (SPEC §7): what is listed, in what
// order, with which details, through which filters.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/insightslab/insights"
)

// listAll pulls every entry of q through pages of size limit.
func listAll(t testing.TB, e *insights.Engine, q insights.LogQuery, limit int) []insights.LogEntry {
	t.Helper()
	q.Limit = limit
	var out []insights.LogEntry
	for {
		p, err := e.Log(context.Background(), q)
		if err != nil {
			t.Fatalf("Log(%+v): %v", q, err)
		}
		out = append(out, p.Entries...)
		if p.Next == "" {
			return out
		}
		if len(p.Entries) != limit {
			t.Fatalf("a page with a next cursor holds %d entries, not %d", len(p.Entries), limit)
		}
		q.Cursor = p.Next
	}
}

func ids(es []insights.LogEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.RequestID
	}
	return out
}

// threeSignIns: an interrupted sign-in followed by its success under one
// correlation id, a sign-in whose MFA an earlier claim satisfied, and one
// with three steps.
func threeSignIns() []insights.Event {
	t0 := utc(3, 4, 9, 0)
	return []insights.Event{
		{Time: t0, Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r1", CorrelationID: "c1",
			ErrorCode: 50074, IP: "198.51.100.7", City: "Lyon", AppID: "mail",
			AuthDetails: []insights.AuthStep{{Time: t0, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor}}},
		{Time: t0.Add(40 * time.Second), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r2", CorrelationID: "c1",
			IP: "198.51.100.7", City: "Lyon", AppID: "mail", MFAPolicies: []string{"Require MFA for admins"},
			CAPolicies: []insights.PolicyResult{{Name: "Require MFA for admins", Result: "success"}},
			AuthDetails: []insights.AuthStep{
				{Time: t0, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Time: t0.Add(35 * time.Second), Method: "Text message", Succeeded: true, Requirement: insights.RequirementMultiFactor}}},
		{Time: utc(3, 4, 10, 0), Kind: insights.KindSignIn, UserKey: "ann", RequestID: "r3", CorrelationID: "c2",
			IP: "2001:db8::1", AppID: "drive",
			AuthDetails: []insights.AuthStep{
				{Time: utc(3, 4, 10, 0), Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Time: utc(3, 4, 10, 0), Method: insights.MethodPreviouslySatisfied, Succeeded: true, Requirement: insights.RequirementMultiFactor}}},
		{Time: utc(3, 5, 8, 0), Kind: insights.KindSignIn, UserKey: "bob", RequestID: "r4", CorrelationID: "c3",
			IP: "203.0.113.9", City: "Oslo", AppID: "mail",
			AuthDetails: []insights.AuthStep{
				{Time: utc(3, 5, 8, 0), Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Time: utc(3, 5, 8, 1), Method: "Mobile app notification", Succeeded: false, ResultDetail: "MFA denied; user declined the authentication", Requirement: insights.RequirementMultiFactor},
				{Time: utc(3, 5, 8, 2), Method: "OATH verification code", Succeeded: true, Requirement: insights.RequirementMultiFactor}}},
		{Time: utc(3, 5, 9, 0), Kind: insights.KindRegistration, UserKey: "bob", RequestID: "r5", Method: "FIDO2 security key", Action: insights.ActionRegistered},
	}
}

func TestSignInLogListsNewestFirstWithDetails(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, threeSignIns()...)
	ctx := context.Background()

	p, err := e.SignIns(ctx, insights.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(p.Entries), []string{"r4", "r3", "r2", "r1"}; !slices.Equal(got, want) {
		t.Fatalf("sign-ins %v, want %v (the registration is not a sign-in)", got, want)
	}
	all := listAll(t, e, insights.LogQuery{}, 2)
	if got, want := ids(all), []string{"r5", "r4", "r3", "r2", "r1"}; !slices.Equal(got, want) {
		t.Fatalf("log %v, want %v", got, want)
	}

	r1, r2, r3, r4 := p.Entries[3], p.Entries[2], p.Entries[1], p.Entries[0]
	if r1.Status != insights.StatusInterrupted || r1.Reason != "" || r1.ErrorCode != 50074 {
		t.Errorf("r1: status %v reason %q code %d, want interrupted, no reason, 50074", r1.Status, r1.Reason, r1.ErrorCode)
	}
	if r2.Status != insights.StatusSuccess || r2.MFAMethod != "Text message" || r2.MFAResult != insights.MFASuccess ||
		r2.AuthRequirement != insights.RequirementMultiFactor || r2.PrimaryMethod != "Password" {
		t.Errorf("r2: %+v", r2.Event)
	}
	if !slices.Equal(r2.MFAPolicies, []string{"Require MFA for admins"}) || len(r2.CAPolicies) != 1 || r2.CAPolicies[0].Result != "success" {
		t.Errorf("r2 policies: %v %v", r2.MFAPolicies, r2.CAPolicies)
	}
	if r3.MFAMethod != "" || r3.AuthRequirement != insights.RequirementMultiFactor || len(r3.AuthDetails) != 2 ||
		r3.AuthDetails[1].Method != insights.MethodPreviouslySatisfied {
		t.Errorf("r3 (claim-satisfied MFA): method %q requirement %q steps %v", r3.MFAMethod, r3.AuthRequirement, r3.AuthDetails)
	}
	if r3.IP != "2001:db8::1" || r1.City != "Lyon" || r1.UserKey != "ann" || r1.AppID != "mail" {
		t.Errorf("log fields: r3 IP %q, r1 city %q user %q app %q", r3.IP, r1.City, r1.UserKey, r1.AppID)
	}
	if len(r4.AuthDetails) != 3 || r4.AuthDetails[1].Succeeded || r4.AuthDetails[2].Method != "OATH verification code" ||
		!r4.AuthDetails[1].Time.Equal(utc(3, 5, 8, 1)) || r4.MFAMethod != "OATH verification code" || r4.MFAResult != insights.MFASuccess {
		t.Errorf("r4 (three steps): %+v", r4.AuthDetails)
	}
	if r4.Time.Location() != e.Zone() || !r4.Time.Equal(utc(3, 5, 8, 0)) {
		t.Errorf("r4 time %v, want %v in the store's zone", r4.Time, utc(3, 5, 8, 0))
	}

	// Counted as SPEC §5 says: the interrupt and its success are two
	// attempts; r2 and r4 performed MFA, r3's was satisfied by a claim.
	res := query(t, e, insights.Query{Metric: insights.Authentications, From: date(2025, 3, 4), To: date(2025, 3, 6), Granularity: insights.Total})
	checkRows(t, res, map[string]float64{"2025-03-04 attempts": 4, "2025-03-04 successes": 3, "2025-03-04 interrupts": 1})
	res = query(t, e, insights.Query{Metric: insights.MFAChallenges, From: date(2025, 3, 4), To: date(2025, 3, 6), Granularity: insights.Total})
	checkRows(t, res, map[string]float64{"2025-03-04 attempts": 2, "2025-03-04 successes": 2, "2025-03-04 successRate": 1})
}

func TestSignInLogFilters(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, threeSignIns()...)
	cases := []struct {
		name   string
		filter insights.Filter
		want   []string
	}{
		{"correlation id: the interrupt and its success", insights.Eq(insights.DimCorrelationID, "c1"), []string{"r2", "r1"}},
		{"exact IPv4", insights.Eq(insights.DimIP, "198.51.100.7"), []string{"r2", "r1"}},
		{"IPv6 spelled otherwise", insights.Eq(insights.DimIP, "2001:0db8:0::1"), []string{"r3"}},
		{"CIDR", insights.CIDR("198.51.100.0/24"), []string{"r2", "r1"}},
		{"CIDR v6", insights.CIDR("2001:db8::/32"), []string{"r3"}},
		{"CIDR of one address", insights.CIDR("198.51.100.7/32"), []string{"r2", "r1"}},
		{"CIDR next to it", insights.CIDR("198.51.100.8/29"), nil},
		{"every IPv4 address", insights.CIDR("0.0.0.0/0"), []string{"r4", "r2", "r1"}},
		{"every IPv6 address", insights.CIDR("::/0"), []string{"r3"}},
		{"a /17 ending where 203.0.113.9 is", insights.CIDR("203.0.0.0/17"), []string{"r4"}},
		{"not CIDR: events without an IP match", insights.Not(insights.CIDR("198.51.100.0/24")), []string{"r5", "r4", "r3"}},
		{"user", insights.Eq(insights.DimUser, "bob"), []string{"r5", "r4"}},
		{"user prefix", insights.Prefix(insights.DimUser, "an"), []string{"r3", "r2", "r1"}},
		{"unknown user", insights.Eq(insights.DimUser, "zed"), nil},
		{"request id", insights.In(insights.DimRequestID, "r3", "r4", "nope"), []string{"r4", "r3"}},
		{"city and app: one event has both", insights.And(insights.Eq(insights.DimCity, "Lyon"), insights.Eq(insights.DimAppID, "mail")), []string{"r2", "r1"}},
		{"city or app", insights.Or(insights.Eq(insights.DimCity, "Oslo"), insights.Eq(insights.DimAppID, "drive")), []string{"r4", "r3"}},
		{"indexed only: status", insights.Eq(insights.DimStatus, "interrupted"), []string{"r1"}},
		{"kind and method", insights.Eq(insights.DimMethod, "FIDO2 security key"), []string{"r5"}},
		{"state prefix on empty", insights.Eq(insights.DimState, ""), []string{"r5", "r4", "r3", "r2", "r1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ids(listAll(t, e, insights.LogQuery{Filter: c.filter}, 1))
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Fatalf("%s: %v, want %v", c.filter, got, c.want)
			}
		})
	}
	week, err := e.UserSignIns(context.Background(), "ann", date(2025, 3, 3), date(2025, 3, 10))
	if err != nil || !slices.Equal(ids(week.Entries), []string{"r3", "r2", "r1"}) {
		t.Fatalf("ann's week: %v, %v", ids(week.Entries), err)
	}
	day, err := e.UserSignIns(context.Background(), "bob", date(2025, 3, 4), date(2025, 3, 5))
	if err != nil || len(day.Entries) != 0 {
		t.Fatalf("bob's 4 March: %v, %v", ids(day.Entries), err)
	}
}

func TestSignInLogUserSearch(t *testing.T) {
	e := newEngine(t, nil)
	sign := func(id, key, name string, hour int) insights.Event {
		return insights.Event{Time: utc(3, 4, hour, 0), Kind: insights.KindSignIn, UserKey: key, UserDisplayName: name, RequestID: id}
	}
	add(t, e, sign("r1", "Ann.Lee@example.test", "Ann Lee", 8), sign("r2", "ann.lee@example.test", "", 9),
		sign("r3", "e123@example.test", "Élodie Martin", 10), sign("r4", "e123@example.test", "ÉLODIE MARTIN-DURAND", 11),
		sign("r5", "kim@example.test", "Kelvin Øst", 12), sign("r6", "tom@example.test", "Straße", 13),
		sign("r7", "zed@example.test", "Zed", 14))
	cases := []struct {
		name, search string
		want         []string
	}{
		{"a key in another case, both spellings", "ANN.L", []string{"r2", "r1"}},
		{"a name, lower case for upper", "élodie", []string{"r4", "r3"}},
		{"a name's prefix that no key has", "ÉLODIE MARTIN-", []string{"r4"}},
		{"non-ASCII past the first letter", "kelvin ø", []string{"r5"}},
		{"the Kelvin sign folds to k", "\u212aim@", []string{"r5"}},
		{"the long s folds to s", "ſtr", []string{"r6"}},
		{"simple folding: ss is not ß", "strasse", nil},
		{"a prefix, not a substring", "Martin", nil},
		{"not a prefix of the key's domain", "example", nil},
		{"longer than every value", "zed@example.test and more", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ids(listAll(t, e, insights.LogQuery{UserSearch: c.search}, 1))
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Fatalf("search %q: %v, want %v", c.search, got, c.want)
			}
		})
	}
	if _, err := e.Erase(context.Background(), "e123@example.test"); err != nil {
		t.Fatal(err)
	}
	if got := ids(listAll(t, e, insights.LogQuery{UserSearch: "élodie"}, 10)); len(got) != 0 {
		t.Fatalf("an erased user's entries are found by their name: %v", got)
	}
}

func TestDisplayNamesComeFromTheLastDayOfActivity(t *testing.T) {
	e := newEngine(t, nil)
	ev := func(key, name string, at time.Time, code int) insights.Event {
		return insights.Event{Time: at, Kind: insights.KindSignIn, UserKey: key, UserDisplayName: name, ErrorCode: code}
	}
	add(t, e, ev("ann", "Ann Old", utc(3, 4, 9, 0), 0),
		ev("ann", "Ann New", utc(3, 5, 11, 0), 0), ev("ann", "Ann Newer", utc(3, 5, 12, 0), 0), ev("ann", "", utc(3, 5, 13, 0), 0),
		ev("ann", "Ann Failed Later", utc(3, 6, 9, 0), 50126), // a failure is no activity
		ev("bob", "", utc(3, 5, 9, 0), 0), ev("cy", "Cy", utc(3, 5, 9, 0), 0), ev("cy", "Cy Renamed", utc(3, 6, 9, 0), 0))
	add(t, e, ev("ann", "Ann Late But Older", utc(3, 5, 10, 0), 0)) // applied last, happened earlier
	if _, err := e.Erase(context.Background(), "cy"); err != nil {
		t.Fatal(err)
	}
	got, err := e.DisplayNames(context.Background(), []string{"ann", "bob", "cy", "nobody"})
	if want := map[string]string{"ann": "Ann Newer"}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("names %v, %v; want %v (bob has none, cy is erased, nobody unknown)", got, err, want)
	}
}

func TestSignInLogRejectsBadQueries(t *testing.T) {
	e := newEngine(t, nil)
	add(t, e, threeSignIns()...)
	for _, q := range []insights.LogQuery{
		{Limit: insights.MaxPageSize + 1},
		{Limit: -1},
		{Cursor: "not a cursor"},
		{From: date(2025, 3, 5), To: date(2025, 3, 5)},
		{Filter: insights.Prefix(insights.DimIP, "198.")},
		{Filter: insights.CIDR("198.51.100.0/33")},
		{From: insights.Date{Year: 2025, Month: 2, Day: 30}},
	} {
		if _, err := e.Log(context.Background(), q); !errors.Is(err, insights.ErrInvalidQuery) {
			t.Errorf("%+v: error %v, want ErrInvalidQuery", q, err)
		}
	}
}

// A pull interrupted at any page resumes with no entry lost or repeated
// while new events, some of them late, keep arriving.
func TestSignInLogCursorResumesWhileEventsArrive(t *testing.T) {
	e := newEngine(t, nil)
	var evs []insights.Event
	for i := range 60 {
		evs = append(evs, insights.Event{Time: utc(3, 1+i%5, 8, i), Kind: insights.KindSignIn,
			UserKey: "u" + string(rune('a'+i%7)), RequestID: "first-" + string(rune('A'+i))})
	}
	// Some share an instant: order among them is the order applied.
	for i := range 6 {
		evs = append(evs, insights.Event{Time: utc(3, 3, 12, 0), Kind: insights.KindSignIn, UserKey: "same", RequestID: "same-" + string(rune('a'+i))})
	}
	add(t, e, evs...)
	before := listAll(t, e, insights.LogQuery{}, insights.MaxPageSize)
	ctx := context.Background()
	seen := map[string]bool{}
	var got []insights.LogEntry
	q := insights.LogQuery{Limit: 4}
	for page := 0; ; page++ {
		p, err := e.Log(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entries {
			if seen[en.ID] {
				t.Fatalf("entry %s listed twice", en.ID)
			}
			seen[en.ID] = true
		}
		got = append(got, p.Entries...)
		// Between pages: a newer event, a late one in the middle of the
		// range, and a copy of an old request id (deduplicated).
		add(t, e,
			insights.Event{Time: utc(3, 6, 9, page%60), Kind: insights.KindSignIn, UserKey: "new", RequestID: "new-" + string(rune('a'+page))},
			insights.Event{Time: utc(3, 2, 7, page%60), Kind: insights.KindSignIn, UserKey: "late", RequestID: "late-" + string(rune('a'+page))},
			insights.Event{Time: utc(3, 1, 8, 0), Kind: insights.KindSignIn, UserKey: "ua", RequestID: "first-A"})
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	for _, b := range before {
		if !seen[b.ID] {
			t.Fatalf("entry %s (%s) present at the start was lost", b.ID, b.RequestID)
		}
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Time.Before(got[i-1].Time) && !(got[i].Time.Equal(got[i-1].Time) && got[i].ID < got[i-1].ID) {
			t.Fatalf("entries %s and %s out of order", got[i-1].ID, got[i].ID)
		}
	}
	// The same pull, resumed from each entry's own cursor, continues with
	// what followed it.
	for _, i := range []int{0, 9, len(before) - 2} {
		p, err := e.Log(ctx, insights.LogQuery{Cursor: before[i].Cursor(), To: date(2025, 3, 6), Limit: 1})
		if err != nil || len(p.Entries) != 1 {
			t.Fatalf("resume after %s: %v %v", before[i].ID, p, err)
		}
		if p.Entries[0].ID != before[i+1].ID && p.Entries[0].RequestID[:4] != "late" {
			t.Fatalf("after %s came %s, want %s or a late arrival", before[i].ID, p.Entries[0].ID, before[i+1].ID)
		}
	}
}

func TestSignInLogIteratorStreams(t *testing.T) {
	e := newEngine(t, nil)
	var evs []insights.Event
	for i := range 2500 {
		evs = append(evs, insights.Event{Time: utc(3, 1+i%9, i%24, i%60), Kind: insights.KindSignIn, UserKey: "u"})
	}
	add(t, e, evs...)
	it := e.Entries(context.Background(), insights.LogQuery{Limit: 333})
	n := 0
	var prev insights.LogEntry
	for it.Next() {
		en := it.Entry()
		if n > 0 && en.Time.After(prev.Time) {
			t.Fatalf("entry %d (%v) newer than the one before (%v)", n, en.Time, prev.Time)
		}
		prev = en
		n++
	}
	if it.Err() != nil || n != len(evs) {
		t.Fatalf("iterated %d of %d, err %v", n, len(evs), it.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	it = e.Entries(ctx, insights.LogQuery{})
	if it.Next() || !errors.Is(it.Err(), context.Canceled) {
		t.Fatalf("a cancelled iteration: err %v", it.Err())
	}
}
