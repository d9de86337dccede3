package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/insightslab/insights"
)

// sampleConfig sizes the generated data.
type sampleConfig struct {
	users int       // people
	days  int       // days of activity, ending with now's date
	now   time.Time // no event is later
	seed  uint64
}

// country is where users sign in from.
type country struct {
	code, language string
	cities         [][2]string // city, state
	weight         int
	ipPrefix       string
}

var countries = []country{
	{"US", "en-US", [][2]string{{"Seattle", "Washington"}, {"New York", "New York"}, {"Austin", "Texas"}}, 30, "198.51.100."},
	{"FR", "fr-FR", [][2]string{{"Paris", "Île-de-France"}, {"Lyon", "Auvergne-Rhône-Alpes"}}, 18, "203.0.113."},
	{"DE", "de-DE", [][2]string{{"Berlin", "Berlin"}, {"Munich", "Bavaria"}}, 14, "192.0.2."},
	{"GB", "en-GB", [][2]string{{"London", "England"}, {"Manchester", "England"}}, 12, "198.18.0."},
	{"IN", "en-IN", [][2]string{{"Bengaluru", "Karnataka"}, {"Pune", "Maharashtra"}}, 10, "198.19.1."},
	{"BR", "pt-BR", [][2]string{{"São Paulo", "São Paulo"}}, 6, "198.19.2."},
	{"JP", "ja-JP", [][2]string{{"Tokyo", "Tokyo"}}, 5, "198.19.3."},
	{"CA", "en-CA", [][2]string{{"Toronto", "Ontario"}}, 5, "198.19.4."},
}

// device is an OS, a browser and their user agent.
type device struct {
	os, browser, agent string
	weight             int
}

var devices = []device{
	{"Windows 10", "Edge 124.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/124.0", 26},
	{"Windows 11", "Chrome 125.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/125.0", 20},
	{"MacOs", "Safari 17.4", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15", 14},
	{"iOS 17", "Mobile Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148", 18},
	{"Android 14", "Chrome Mobile 125", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/125.0 Mobile", 14},
	{"Linux", "Firefox 126.0", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", 5},
	{"ChromeOS", "Chrome 125.0", "Mozilla/5.0 (X11; CrOS x86_64 15633.69.0) Chrome/125.0", 3},
}

var apps = []struct{ id, name string }{
	{"a1f0c7d2-portal", "Employee Portal"}, {"b2e1d8c3-mail", "Mail"}, {"c3d2e9b4-payroll", "Payroll"},
	{"d4c3fab5-wiki", "Wiki"}, {"e5b40bc6-crm", "CRM"}, {"f6a51cd7-helpdesk", "Helpdesk"},
	{"a7962de8-expenses", "Expenses"}, {"b8873ef9-analytics", "Analytics"},
}

var (
	firstNames = []string{"Ada", "Ben", "Chloé", "Dev", "Elif", "Farah", "Gus", "Hana", "Iker", "Jonas", "Kenji", "Lena", "Mateo", "Noor", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tomás"}
	lastNames  = []string{"Adams", "Bauer", "Costa", "Dubois", "Eriksen", "Fujita", "García", "Haddad", "Iyer", "Jansen", "Kowalski", "Laurent", "Müller", "Nakamura", "Okafor", "Patel"}
	mfaMethods = []struct {
		name   string
		weight int
	}{{"Mobile app notification", 50}, {"Text message", 25}, {"Phone call (Authentication phone)", 8}, {"OATH verification code", 17}}
	providers = []struct {
		name   string
		weight int
	}{{"Local account", 62}, {"Google", 18}, {"Microsoft", 14}, {"GitHub", 6}}
)

// CA policies applied to sign-ins.
const (
	policyMFA    = "Require MFA for all users"
	policyLegacy = "Block legacy authentication"
	policyDevice = "Require compliant device for Payroll"
)

// person is one generated user.
type person struct {
	key, name    string
	country      country
	city         [2]string
	device       device
	ips          []string
	apps         []int
	idp, mfa     string
	passwordless string
	rate         float64 // chance of being active on a weekday
	joined       int     // day index of the first activity; < 0 for people from before the window
	churn        int     // day index after which they stop; days when they never do
	deleted      bool
}

// sample is the generated data: events, and a snapshot of registered
// methods as of snapshotAt for the host to import.
type sample struct {
	events     []insights.Event
	snapshot   []insights.RegisteredMethods
	snapshotAt time.Time
}

// generate returns the sample: sign-ups of new users, their sign-ins with
// failures, MFA steps, conditional-access policies, service-principal
// sign-ins, a few deletions, their authentication methods (a snapshot
// as of the window's first day for part of them, registrations, removals,
// password resets and unlocks), and two attacks for the risk view (see
// attacks). Deterministic in cfg.
func generate(cfg sampleConfig, loc *time.Location) sample {
	r := rand.New(rand.NewPCG(cfg.seed, 7))
	rm := rand.New(rand.NewPCG(cfg.seed, 11)) // methods draw apart: the sign-ins stay as they were
	today := insights.DateOf(cfg.now, loc)
	first := today.AddDays(-(cfg.days - 1))
	at := func(day, hour, minute int) time.Time {
		d := first.AddDays(day)
		return d.Start(loc).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	out := sample{snapshotAt: at(0, 0, 0)}
	var events []insights.Event
	var victims []person
	for i := range cfg.users {
		p := newPerson(r, i, cfg.days)
		if i == 3 || i == 5 {
			victims = append(victims, p)
		}
		methods, evs := p.methodActivity(rm, cfg.days, i, at)
		if methods != nil {
			out.snapshot = append(out.snapshot, insights.RegisteredMethods{UserKey: p.key, Methods: methods})
		}
		events = append(events, evs...)
		if p.joined < 0 {
			// An earlier first activity, up to 90 days before the window.
			t := at(p.joined, 9, r.IntN(60))
			events = append(events, p.signIn(r, t, fmt.Sprintf("r-%d-early", i), 0))
		} else {
			events = append(events, p.signUp(r, at(p.joined, 8+r.IntN(10), r.IntN(60)), i))
		}
		for day := max(p.joined, 0); day < cfg.days && day <= p.churn; day++ {
			rate := p.rate
			if wd := first.AddDays(day).Weekday(); wd == time.Saturday || wd == time.Sunday {
				rate *= 0.3
			}
			if r.Float64() >= rate {
				continue
			}
			for n := range 1 + r.IntN(3) {
				t := at(day, 7+r.IntN(12), r.IntN(60))
				events = append(events, p.session(r, t, fmt.Sprintf("r-%d-%d-%d", i, day, n))...)
			}
		}
		if p.deleted {
			events = append(events, insights.Event{Time: at(cfg.days-1-r.IntN(20), 17, 0), Kind: insights.KindUserDeleted,
				UserKey: p.key, RequestID: fmt.Sprintf("r-%d-deleted", i)})
		}
	}
	for day := range cfg.days {
		for n := range 20 {
			events = append(events, insights.Event{Time: at(day, n, 30), Kind: insights.KindSignIn,
				SignInType: insights.SignInServicePrincipal, PrincipalID: fmt.Sprintf("sp-sync-%d", n%3),
				AppID: apps[4].id, AppName: apps[4].name, Resource: "Microsoft Graph", Country: "US", IP: "198.51.100.250",
				RequestID: fmt.Sprintf("sp-%d-%d", day, n)})
		}
	}
	if len(victims) == 2 && cfg.days >= 3 {
		events = append(events, attacks(rand.New(rand.NewPCG(cfg.seed, 13)), victims, cfg.days, at)...)
	}
	for _, e := range events {
		if !e.Time.After(cfg.now) {
			out.events = append(out.events, e)
		}
	}
	return out
}

// attacks are a brute force on the first victim three days before the
// last (12 wrong passwords in 6 minutes from an address abroad, then a
// success) and an MFA-fatigue burst on the second two days before (6
// denied push notifications in half an hour, then one approved at night).
func attacks(r *rand.Rand, victims []person, days int, at func(day, hour, minute int) time.Time) []insights.Event {
	var out []insights.Event
	p := victims[0]
	for i := range 13 {
		t := at(days-3, 3, i/2).Add(time.Duration(30*(i%2)) * time.Second)
		code := 50126
		if i == 12 {
			t, code = at(days-3, 3, 25), 0
		}
		e := p.signIn(r, t, fmt.Sprintf("brute-%d", i), code)
		e.IP, e.Country, e.City, e.State, e.Language = "198.19.9.66", "BR", "São Paulo", "São Paulo", "pt-BR"
		out = append(out, e)
	}
	p = victims[1]
	for i := range 7 {
		t := at(days-2, 23, 5*i)
		e := p.signIn(r, t, fmt.Sprintf("fatigue-%d", i), 0)
		mfa := insights.AuthStep{Time: t.Add(15 * time.Second), Method: "Mobile app notification", Succeeded: i == 6,
			ResultDetail: "MFA denied; user declined the authentication", Requirement: insights.RequirementMultiFactor}
		e.ErrorCode, e.AuthRequirement = 500121, insights.RequirementMultiFactor
		if i == 6 {
			mfa.ResultDetail, e.ErrorCode = "MFA successfully completed", 0
		}
		e.AuthDetails = []insights.AuthStep{{Time: t, Method: "Password", Succeeded: true, ResultDetail: "Correct password",
			Requirement: insights.RequirementSingleFactor}, mfa}
		e.MFAPolicies = []string{policyMFA}
		out = append(out, e)
	}
	return out
}

// newPerson draws person i.
func newPerson(r *rand.Rand, i, days int) person {
	p := person{
		key:   fmt.Sprintf("user%04d@contoso.example", i),
		name:  firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
		churn: days,
	}
	p.country = countries[pick(r, len(countries), func(j int) int { return countries[j].weight })]
	p.city = p.country.cities[r.IntN(len(p.country.cities))]
	p.device = devices[pick(r, len(devices), func(j int) int { return devices[j].weight })]
	for range 1 + r.IntN(2) {
		p.ips = append(p.ips, fmt.Sprintf("%s%d", p.country.ipPrefix, 1+r.IntN(240)))
	}
	for range 1 + r.IntN(3) {
		p.apps = append(p.apps, min(r.IntN(len(apps)), r.IntN(len(apps))))
	}
	p.idp = providers[pick(r, len(providers), func(j int) int { return providers[j].weight })].name
	p.mfa = mfaMethods[pick(r, len(mfaMethods), func(j int) int { return mfaMethods[j].weight })].name
	switch x := r.IntN(100); {
	case x < 5:
		p.passwordless = "FIDO2 security key"
	case x < 10:
		p.passwordless = "Windows Hello for Business"
	}
	p.rate = []float64{0.75, 0.4, 0.12}[r.IntN(3)]
	p.joined = -1 - r.IntN(90)
	if r.IntN(100) < 35 {
		p.joined = r.IntN(days)
	}
	if r.IntN(100) < 18 {
		p.churn = r.IntN(days)
	}
	p.deleted = r.IntN(100) < 1
	return p
}

// pick returns an index drawn by weight.
func pick(r *rand.Rand, n int, weight func(int) int) int {
	total := 0
	for j := range n {
		total += weight(j)
	}
	x := r.IntN(total)
	for j := range n {
		if x -= weight(j); x < 0 {
			return j
		}
	}
	return n - 1
}

// base returns an event of p at t with the person's fields filled.
func (p *person) base(r *rand.Rand, t time.Time, kind insights.Kind, requestID string) insights.Event {
	a := apps[p.apps[r.IntN(len(p.apps))]]
	return insights.Event{Time: t, Kind: kind, UserKey: p.key, UserDisplayName: p.name,
		AppID: a.id, AppName: a.name, Resource: a.name + " API", OS: p.device.os, Browser: p.device.browser,
		UserAgent: p.device.agent, Country: p.country.code, City: p.city[0], State: p.city[1],
		Language: p.country.language, IdentityProvider: p.idp, IP: p.ips[r.IntN(len(p.ips))],
		ClientApp: "Browser", RequestID: requestID, CorrelationID: "c-" + requestID, SessionID: "s-" + p.key}
}

// signUp is p's self-service sign-up.
func (p *person) signUp(r *rand.Rand, t time.Time, i int) insights.Event {
	e := p.base(r, t, insights.KindSignUp, fmt.Sprintf("r-%d-signup", i))
	e.AppID, e.AppName, e.Resource = apps[0].id, apps[0].name, apps[0].name+" API"
	e.UserAgent, e.SessionID, e.UserDisplayName, e.CorrelationID = "", "", "", ""
	e.City, e.State, e.ClientApp = "", "", ""
	return e
}

// session is a sign-in of p at t, preceded by a failed password or an
// MFA interrupt now and then, as people sign in.
func (p *person) session(r *rand.Rand, t time.Time, requestID string) []insights.Event {
	switch x := r.IntN(100); {
	case x < 6: // a wrong password, then (mostly) the right one
		bad := p.signIn(r, t, requestID+"-pw", 50126)
		if r.IntN(4) == 0 {
			return []insights.Event{bad}
		}
		return []insights.Event{bad, p.signIn(r, t.Add(40*time.Second), requestID, 0)}
	case x < 12: // MFA required: interrupted, then the challenge
		return []insights.Event{p.signIn(r, t, requestID+"-int", 50074), p.signIn(r, t.Add(30*time.Second), requestID, 0)}
	case x < 13:
		return []insights.Event{p.signIn(r, t, requestID, []int{50053, 50057, 50055, 50097, 50086}[r.IntN(5)])}
	case x < 14:
		e := p.signIn(r, t, requestID, 53003)
		e.ClientApp = "Exchange ActiveSync"
		return []insights.Event{e}
	}
	return []insights.Event{p.signIn(r, t, requestID, 0)}
}

// signIn is one sign-in of p with error code code (0 for success): its
// authentication steps, MFA and conditional-access policies.
func (p *person) signIn(r *rand.Rand, t time.Time, requestID string, code int) insights.Event {
	e := p.base(r, t, insights.KindSignIn, requestID)
	e.ErrorCode = code
	if r.IntN(10) < 3 && code == 0 {
		e.SignInType = insights.SignInNonInteractiveUser
	}
	if r.IntN(10) == 0 {
		e.ClientApp = "Mobile apps and desktop clients"
	}
	step := func(method string, ok bool, detail, req string) insights.AuthStep {
		return insights.AuthStep{Time: t, Method: method, Succeeded: ok, ResultDetail: detail, Requirement: req}
	}
	single, multi := insights.RequirementSingleFactor, insights.RequirementMultiFactor
	ca := []insights.PolicyResult{{Name: policyLegacy, Result: "notApplied"}}
	if e.AppName == "Payroll" {
		ca = append(ca, insights.PolicyResult{Name: policyDevice, Result: "success"})
	}
	switch {
	case code == 53003:
		ca[0].Result = "failure"
		e.AuthDetails = []insights.AuthStep{step("Password", true, "Correct password", single)}
	case code == 50126:
		e.AuthDetails = []insights.AuthStep{step("Password", false, "Invalid username or password", single)}
	case code == 50053 || code == 50057 || code == 50055 || code == 50097 || code == 50086:
		e.AuthDetails = []insights.AuthStep{step("Password", false, errorText(code), single)}
	case code == 50074:
		e.AuthDetails = []insights.AuthStep{step("Password", true, "Correct password", single)}
		e.MFAPolicies = []string{policyMFA}
	case p.passwordless != "":
		e.AuthDetails = []insights.AuthStep{step(p.passwordless, true, "Signed in with a passwordless method", single)}
		e.AuthRequirement = multi
		ca = append(ca, insights.PolicyResult{Name: policyMFA, Result: "success"})
	case r.IntN(100) < 45: // MFA required by policy
		e.MFAPolicies = []string{policyMFA}
		steps := []insights.AuthStep{step("Password", true, "Correct password", single)}
		switch x := r.IntN(100); {
		case x < 55:
			steps = append(steps, step(insights.MethodPreviouslySatisfied, true, "First factor requirement satisfied by claim in the token", multi))
		case x < 93:
			steps = append(steps, step(p.mfa, true, "MFA successfully completed", multi))
		case x < 97:
			steps = append(steps, step(p.mfa, false, "MFA denied; user declined the authentication", multi))
			e.ErrorCode = 500121
		default:
			steps = append(steps, step(p.mfa, false, "MFA incomplete: the user did not respond in time", multi))
			e.ErrorCode = 500121
		}
		e.AuthDetails = steps
		result := "success"
		if e.ErrorCode != 0 {
			result = "failure"
		}
		ca = append(ca, insights.PolicyResult{Name: policyMFA, Result: result})
	default:
		e.AuthDetails = []insights.AuthStep{step("Password", true, "Correct password", single)}
	}
	e.CAPolicies = ca
	e.ConditionalAccess = "notApplied"
	for _, c := range ca {
		switch {
		case c.Result == "failure":
			e.ConditionalAccess = "failure"
		case c.Result == "success" && e.ConditionalAccess != "failure":
			e.ConditionalAccess = "success"
		}
	}
	e.RiskLevel = "none"
	if r.IntN(50) == 0 {
		e.RiskLevel = []string{"low", "medium", "high"}[r.IntN(3)]
	}
	return e
}

// errorText is the table's description of code, as a step's result detail.
func errorText(code int) string {
	ec, _ := insights.LookupErrorCode(code)
	return ec.Description
}
