package main

// The traffic generator: a deterministic, seeded model of an identity
// platform's sign-in traffic, produced one day at a time so that a month of
// a million users never has to sit in memory. README.md describes the shape.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// dataStart is the first day of generated data, a Monday (UTC).
var dataStart = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

// genConfig says how much traffic to make.
type genConfig struct {
	Users int    // registered users
	Days  int    // days of traffic from dataStart
	Seed  uint64 // same seed, same events
}

// ev is one generated event in compact form: indices into the generator's
// value tables, where index 0 is always the empty string.
type ev struct {
	sec     int32 // second of the day
	user    int32 // user index; principals are -1 - principal index
	code    int32 // error code, 0 for success
	kind    insights.Kind
	sit     insights.SignInType // explicit on sign-ins, unset otherwise
	status  insights.Status     // always explicit
	app     uint8               // 1..len(apps)
	os      uint8
	browser uint8
	country uint8
	lang    uint8
	idp     uint8
	client  uint8
	mfaM    uint8 // MFA method of a challenge the event performed
	mfaR    uint8 // MFA result of that challenge
	req     uint8 // authentication requirement
	ca      uint8 // conditional-access status
	risk    uint8
	follow  bool // continues the previous event of the day (same correlation id)
}

// Value tables. Index 0 is "" everywhere, so that a zero ev field means "no value".
var (
	osNames      = []string{"", "Windows 10", "Windows 11", "MacOs", "iOS", "Android", "Linux", "ChromeOS", "iPadOS"}
	osWeights    = []float64{0, .28, .18, .10, .18, .16, .04, .03, .03}
	browserNames = []string{"", "Edge 120.0.2210", "Chrome 120.0.6099", "Firefox 121.0", "Safari 17.2", "Mobile Safari 17.2", "Chrome Mobile 120.0", "Samsung Internet 23.0"}
	clientNames  = []string{"", "Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync"}
	idpNames     = []string{"", "local", "google.com", "microsoft.com", "apple.com", "facebook.com", "github.com"}
	idpWeights   = []float64{0, .55, .18, .12, .07, .05, .03}
	mfaMethods   = []string{"", "Mobile app notification", "Text message", "OATH verification code", "Phone call approval (Authentication phone)", "FIDO2 security key"}
	mfaWeights   = []float64{0, .50, .20, .15, .08, .07}
	mfaResults   = []string{"", insights.MFASuccess, insights.MFADenied, insights.MFAIncomplete, insights.ReasonSystemFailure, insights.ReasonOther}
	reqNames     = []string{"", insights.RequirementSingleFactor, insights.RequirementMultiFactor}
	caNames      = []string{"", "success", "failure", "notApplied"}
	riskNames    = []string{"", "none", "low", "medium", "high"}
	sitNames     = []string{"", "interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"}
	kindNames    = []string{"", "signIn", "signUp", "userCreated", "userDeleted", "mfa", "registration", "reset"}
	statusNames  = []string{"", "success", "failure", "interrupted"}
)

const (
	mfaResSuccess = 1
	mfaResDenied  = 2
	mfaResIncompl = 3
	mfaResSystem  = 4
	mfaResOther   = 5
	reqSingle     = 1
	reqMulti      = 2
	caSuccess     = 1
	caFailure     = 2
	caNotApplied  = 3
)

// countryCodes: 200 ISO 3166-1 alpha-2 codes, roughly by size of an
// international SaaS user base; they are drawn Zipf-skewed in this order.
var countryCodes = append([]string{""}, splitCodes(
	"US IN GB DE BR FR JP CA AU MX ES IT NL PL SE TR ID KR CH BE "+
		"AR CO ZA PH NG EG VN TH MY SG IE AT DK NO FI PT CZ RO IL HU "+
		"GR NZ CL PE UA SA AE PK BD KE MA DZ TN GH ET UG TZ CM CI SN "+
		"VE EC BO PY UY CR PA GT HN SV NI DO CU JM TT PR BS BB HT LK "+
		"NP MM KH LA MN KZ UZ KG TJ TM AZ GE AM BY MD LT LV EE SK SI "+
		"HR RS BA ME MK AL BG CY MT LU IS QA KW BH OM JO LB IQ IR SY "+
		"YE AF TW HK MO CN RU BN TL PG FJ SB VU WS TO KI MH FM PW NR "+
		"TV MV BT ZM ZW MW MZ AO NA BW LS SZ MG MU SC KM DJ SO ER SD "+
		"SS LY TD NE ML BF BJ TG LR SL GN GW GM CV MR RW BI CD CG GA "+
		"GQ ST CF AD MC SM LI VA GL FO GI IM JE GG AW CW SX BQ KY BM")...)

// languages: 40 tags, the first ones those of the largest countries.
var languages = append([]string{""}, splitCodes(
	"en-US en-GB de-DE fr-FR es-ES es-MX pt-BR ja-JP hi-IN it-IT "+
		"nl-NL zh-CN ko-KR ru-RU pl-PL sv-SE tr-TR ar-SA id-ID th-TH "+
		"vi-VN cs-CZ da-DK fi-FI nb-NO he-IL el-GR hu-HU ro-RO uk-UA "+
		"pt-PT fr-CA en-AU en-IN ms-MY fil-PH bg-BG hr-HR sk-SK zh-TW")...)

// countryLanguage maps the largest countries to their usual language.
var countryLanguage = map[string]string{
	"US": "en-US", "IN": "en-IN", "GB": "en-GB", "DE": "de-DE", "BR": "pt-BR", "FR": "fr-FR", "JP": "ja-JP",
	"CA": "fr-CA", "AU": "en-AU", "MX": "es-MX", "ES": "es-ES", "IT": "it-IT", "NL": "nl-NL", "PL": "pl-PL",
	"SE": "sv-SE", "TR": "tr-TR", "ID": "id-ID", "KR": "ko-KR", "CH": "de-DE", "BE": "nl-NL", "AR": "es-MX",
	"CO": "es-MX", "ZA": "en-GB", "PH": "fil-PH", "NG": "en-GB", "EG": "ar-SA", "VN": "vi-VN", "TH": "th-TH",
	"MY": "ms-MY", "SG": "en-GB", "IE": "en-GB", "AT": "de-DE", "DK": "da-DK", "NO": "nb-NO", "FI": "fi-FI",
	"PT": "pt-PT", "CZ": "cs-CZ", "RO": "ro-RO", "IL": "he-IL", "HU": "hu-HU", "GR": "el-GR", "NZ": "en-AU",
	"UA": "uk-UA", "SA": "ar-SA", "AE": "ar-SA", "TW": "zh-TW", "HK": "zh-TW", "CN": "zh-CN", "RU": "ru-RU",
	"BG": "bg-BG", "HR": "hr-HR", "SK": "sk-SK",
}

// appNames: 50 applications, drawn Zipf-skewed in this order.
var appNames = append([]string{""}, []string{
	"Microsoft Teams", "Outlook", "SharePoint Online", "Customer Portal", "Salesforce", "Slack", "Zoom",
	"ServiceNow", "Workday", "GitHub", "Jira", "Confluence", "Azure Portal", "AWS Console", "Google Workspace",
	"Dropbox", "Box", "DocuSign", "Tableau", "Power BI", "Zendesk", "HubSpot", "Adobe Creative Cloud", "Figma",
	"Miro", "Notion", "Asana", "Trello", "Monday.com", "Okta Dashboard", "Payroll", "Expenses", "HR Portal",
	"Learning Hub", "Travel Booking", "Benefits", "Intranet", "Wiki", "Status Page", "Grafana", "Kibana",
	"Jenkins", "GitLab", "Snowflake", "Databricks", "Looker", "Datadog", "PagerDuty", "1Password", "VPN Gateway",
}...)

// Failure and interrupt codes (SPEC §10), weighted; 70044 (session
// expired) and 7000215 (invalid client secret) are real codes the table
// does not list: they count as reason "other".
var (
	interactiveFailures    = weighted{[]int32{50126, 500121, 50053, 50055, 50057, 53003, 530035, 50097, 50078, 50086, 50087, 50088, 53004, 50144, 50155, 70044}, []float64{.45, .15, .05, .04, .03, .08, .02, .04, .04, .01, .01, .01, .01, .02, .02, .02}}
	nonInteractiveFailures = weighted{[]int32{50078, 70044, 50055, 50057, 53003, 50097, 50173}, []float64{.30, .25, .08, .07, .15, .10, .05}}
	interrupts             = weighted{[]int32{50074, 50076, 50072, 50079, 50158, 50140, 50125}, []float64{.35, .25, .08, .07, .05, .15, .05}}
)

type weighted struct {
	vals []int32
	w    []float64
}

func (w weighted) pick(r *rand.Rand) int32 {
	x := r.Float64()
	for i, p := range w.w {
		if x < p {
			return w.vals[i]
		}
		x -= p
	}
	return w.vals[len(w.vals)-1]
}

func splitCodes(s string) []string { return strings.Fields(s) }

// cdf samples an index 1..n from cumulative weights.
type cdf []float64

func newCDF(weights []float64) cdf {
	c := make(cdf, len(weights))
	sum := 0.0
	for i, w := range weights {
		sum += w
		c[i] = sum
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}

// zipfCDF weights index i (1..n) by 1/i^s; index 0 gets nothing.
func zipfCDF(n int, s float64) cdf {
	w := make([]float64, n+1)
	for i := 1; i <= n; i++ {
		w[i] = 1 / math.Pow(float64(i), s)
	}
	return newCDF(w)
}

func (c cdf) pick(r *rand.Rand) uint8 {
	x := r.Float64()
	i, _ := slices.BinarySearch(c, x)
	for i < len(c)-1 && c[i] == 0 {
		i++
	}
	return uint8(min(i, len(c)-1))
}

// user is the generator's model of one registered user.
type user struct {
	p       float32 // probability of being active on a weekday
	k       float32 // mean sign-ins on an active day
	signup  int16   // day of the self-service sign-up, -1 for users registered earlier
	home    uint8   // country
	lang    uint8
	os1     uint8 // main device
	os2     uint8 // second device
	napps   uint8
	apps    [4]uint8
	idp     uint8
	mfa     uint8  // preferred MFA method
	ip      uint32 // home address, in one of the home country's blocks
	city    uint8  // home city, an index into cities(home)
	segment uint8  // 0 heavy, 1 regular, 2 long tail
}

type principal struct {
	key     string
	sit     insights.SignInType
	app     uint8
	country uint8
}

// generator holds what every day of traffic shares.
type generator struct {
	cfg        genConfig
	users      []user
	userKeys   []string // GUIDs
	appIDs     []string // GUIDs, index 0 ""
	principals []principal
	langIndex  map[string]uint8
	country    cdf
	app        cdf
	lang       cdf
	os         cdf
	idp        cdf
	mfa        cdf
	principal  cdf
}

func newGenerator(cfg genConfig) *generator {
	if len(countryCodes) != 201 || len(languages) != 41 || len(appNames) != 51 {
		panic(fmt.Sprintf("value tables: %d countries, %d languages, %d apps", len(countryCodes)-1, len(languages)-1, len(appNames)-1))
	}
	g := &generator{
		cfg:       cfg,
		country:   zipfCDF(200, 1.05),
		app:       zipfCDF(50, 1.1),
		lang:      zipfCDF(40, 1.2),
		os:        newCDF(osWeights),
		idp:       newCDF(idpWeights),
		mfa:       newCDF(mfaWeights),
		principal: zipfCDF(30, 1.0),
		langIndex: map[string]uint8{},
	}
	for i, l := range languages {
		g.langIndex[l] = uint8(i)
	}
	ids := rand.New(rand.NewPCG(0xA995, 0x1D5)) // app ids do not depend on the seed
	g.appIDs = make([]string, len(appNames))
	for i := 1; i < len(appNames); i++ {
		g.appIDs[i] = guid(ids.Uint64(), ids.Uint64())
	}
	pr := rand.New(rand.NewPCG(cfg.Seed, 0x5E7))
	g.principals = make([]principal, 31)
	for i := 1; i <= 30; i++ {
		sit := insights.SignInServicePrincipal
		if i%5 == 0 {
			sit = insights.SignInManagedIdentity
		}
		// workloads run in the largest markets' cloud regions
		g.principals[i] = principal{key: guid(pr.Uint64(), pr.Uint64()), sit: sit, app: g.app.pick(pr), country: uint8(1 + pr.IntN(8))}
	}
	g.users = make([]user, cfg.Users)
	g.userKeys = make([]string, cfg.Users)
	for u := range g.users {
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(u)<<8|1))
		g.userKeys[u] = guid(r.Uint64(), r.Uint64())
		g.users[u] = g.newUser(r)
	}
	return g
}

func (g *generator) newUser(r *rand.Rand) user {
	var a user
	switch x := r.Float64(); {
	case x < 0.08: // heavy: most working days, several sessions
		a.segment, a.p, a.k = 0, float32(0.55+0.40*r.Float64()), 5
	case x < 0.35: // regular: a few days a month
		a.segment, a.p, a.k = 1, float32(0.06+0.29*r.Float64()), 2.5
	default: // long tail: log-uniform between once in 500 and once in 20 days
		a.segment, a.p, a.k = 2, float32(math.Exp(math.Log(0.002)+r.Float64()*math.Log(0.05/0.002))), 1.5
	}
	a.signup = -1
	if r.Float64() < 0.2 { // signs up during the generated period
		d := r.IntN(g.cfg.Days)
		if isWeekend(d) && r.Float64() < 0.5 {
			d = r.IntN(g.cfg.Days)
		}
		a.signup = int16(d)
	}
	a.home = g.country.pick(r)
	if l, ok := countryLanguage[countryCodes[a.home]]; ok && r.Float64() < 0.85 {
		a.lang = g.langIndex[l]
	} else {
		a.lang = g.lang.pick(r)
	}
	a.os1 = g.os.pick(r)
	switch osNames[a.os1] {
	case "iOS", "Android", "iPadOS":
		a.os2 = []uint8{1, 2, 3}[r.IntN(3)]
	default:
		a.os2 = []uint8{4, 5}[r.IntN(2)]
	}
	a.napps = uint8(1 + r.IntN(4))
	for i := range a.napps {
		a.apps[i] = g.app.pick(r)
	}
	a.idp = g.idp.pick(r)
	a.mfa = g.mfa.pick(r)
	a.ip = countryBlock(a.home, r.IntN(blocksOf(a.home))) | r.Uint32()&0xffff
	a.city = pickCity(a.home, r.Float64())
	return a
}

func isWeekend(day int) bool {
	wd := dataStart.AddDate(0, 0, day).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// day appends the events of day d to buf and returns it. The events of a
// day depend only on the seed, the users and d.
func (g *generator) day(d int, buf []ev) []ev {
	buf = buf[:0]
	r := rand.New(rand.NewPCG(g.cfg.Seed^0xDA7, uint64(d)))
	weekend := isWeekend(d)
	for u := range g.users {
		a := &g.users[u]
		if int(a.signup) > d {
			continue
		}
		p := a.p
		if weekend {
			p *= 0.45
		}
		signup := int(a.signup) == d
		if !signup && r.Float32() >= p {
			continue
		}
		if signup {
			buf = g.signUp(r, int32(u), a, buf)
		}
		n := 1
		for m := float64(a.k) - 1; r.Float64() < m/(1+m); {
			n++
		}
		for i := range n {
			buf = g.signIn(r, int32(u), a, i == 0, buf)
		}
	}
	// Service principals and managed identities: about 0.8% of the users'
	// count in sign-ins a day, every day.
	for range g.cfg.Users * 8 / 1000 {
		pi := g.principal.pick(r)
		p := &g.principals[pi]
		e := ev{sec: r.Int32N(86400), user: -1 - int32(pi), kind: insights.KindSignIn, sit: p.sit,
			status: insights.StatusSuccess, app: p.app, country: p.country, req: reqSingle, ca: caNotApplied}
		if r.Float64() < 0.03 {
			e.status, e.code = insights.StatusFailure, 7000215
		}
		buf = append(buf, e)
	}
	return buf
}

// common fills what every user event carries from the user and the device used.
func (g *generator) common(r *rand.Rand, u int32, a *user) ev {
	e := ev{sec: r.Int32N(86400), user: u, idp: a.idp, lang: a.lang, country: a.home}
	if r.Float64() < 0.85 {
		e.app = a.apps[r.IntN(int(a.napps))]
	} else {
		e.app = g.app.pick(r)
	}
	e.os = a.os1
	if r.Float64() >= 0.8 {
		e.os = a.os2
	}
	if r.Float64() < 0.02 { // travelling, or a VPN
		e.country = g.country.pick(r)
	}
	mobile := false
	switch osNames[e.os] {
	case "iOS", "iPadOS":
		mobile = true
		e.browser = 5
		if r.Float64() < 0.15 {
			e.browser = 6
		}
	case "Android":
		mobile = true
		e.browser = 6
		if r.Float64() < 0.1 {
			e.browser = 7
		}
	case "MacOs":
		e.browser = []uint8{4, 4, 2, 2, 3}[r.IntN(5)]
	case "Linux":
		e.browser = []uint8{3, 2}[r.IntN(2)]
	case "ChromeOS":
		e.browser = 2
	default:
		e.browser = []uint8{1, 1, 1, 2, 2, 3}[r.IntN(6)]
	}
	e.client = 1
	if x := r.Float64(); (mobile && x < 0.7) || (!mobile && x < 0.3) {
		e.client, e.browser = 2, 0 // native app: no browser
	} else if x > 0.997 {
		e.client, e.browser = 3, 0 // a legacy protocol
	}
	return e
}

func (g *generator) signUp(r *rand.Rand, u int32, a *user, buf []ev) []ev {
	e := g.common(r, u, a)
	e.kind, e.status = insights.KindSignUp, insights.StatusSuccess
	if r.Float64() < 0.06 { // blocked first, then through
		f := e
		f.status, f.code = insights.StatusFailure, 50053
		buf = append(buf, f)
		e.sec = min(e.sec+60, 86399)
		e.follow = true
	}
	return append(buf, e)
}

func (g *generator) signIn(r *rand.Rand, u int32, a *user, first bool, buf []ev) []ev {
	e := g.common(r, u, a)
	e.kind = insights.KindSignIn
	e.sit = insights.SignInInteractiveUser
	if !first && r.Float64() < 0.65 {
		e.sit = insights.SignInNonInteractiveUser
	}
	interactive := e.sit == insights.SignInInteractiveUser
	switch x := r.Float64(); {
	case x < 0.95:
		e.risk = 1
	case x < 0.985:
		e.risk = 2
	case x < 0.997:
		e.risk = 3
	default:
		e.risk = 4
	}
	e.ca = caNotApplied
	if r.Float64() < 0.45 {
		e.ca = caSuccess
	}
	e.req = reqSingle
	followUp := false
	switch x := r.Float64(); {
	case x < 0.90:
		e.status = insights.StatusSuccess
		if interactive && r.Float64() < 0.35 {
			e.req = reqMulti
			if r.Float64() < 0.55 { // challenged now; otherwise an earlier claim satisfied it
				e.mfaM, e.mfaR = a.mfa, mfaResSuccess
			}
		} else if !interactive && r.Float64() < 0.3 {
			e.req = reqMulti
		}
	case x < 0.97:
		e.status = insights.StatusFailure
		if interactive {
			e.code = interactiveFailures.pick(r)
		} else {
			e.code = nonInteractiveFailures.pick(r)
		}
		switch e.code {
		case 500121: // strong authentication failed
			e.req, e.mfaM = reqMulti, a.mfa
			switch y := r.Float64(); {
			case y < 0.60:
				e.mfaR = mfaResIncompl
			case y < 0.95:
				e.mfaR = mfaResDenied
			default:
				e.mfaR = mfaResOther
			}
		case 50086, 50087, 50088: // telecom error
			e.req, e.mfaM, e.mfaR = reqMulti, []uint8{2, 4}[r.IntN(2)], mfaResSystem
		case 50078, 53004:
			e.req = reqMulti
		case 53003:
			e.ca = caFailure
		}
	default:
		e.status = insights.StatusInterrupted
		e.code = interrupts.pick(r)
		switch e.code {
		case 50074, 50076:
			e.req = reqMulti
			followUp = interactive
		case 50072, 50079, 50158:
			e.req = reqMulti
		}
	}
	buf = append(buf, e)
	if followUp { // the MFA prompt answered a few seconds later
		f := e
		f.sec = min(e.sec+20, 86399)
		f.follow = true
		f.status, f.code, f.mfaM, f.mfaR = insights.StatusSuccess, 0, a.mfa, mfaResSuccess
		if r.Float64() < 0.08 {
			f.status, f.code, f.mfaR = insights.StatusFailure, 500121, mfaResDenied
		}
		buf = append(buf, f)
	}
	return buf
}

// reason returns the failure reason the generator reports with a failure:
// the one SPEC §10's table gives its code.
func reason(e *ev) string {
	if e.status != insights.StatusFailure {
		return ""
	}
	ec, _ := insights.LookupErrorCode(int(e.code))
	return ec.Reason
}

// isActivity is SPEC §4's activity, evaluated on a generated event.
func isActivity(e *ev) bool {
	return e.status == insights.StatusSuccess && e.user >= 0 &&
		(e.kind == insights.KindSignUp || e.kind == insights.KindSignIn &&
			(e.sit == insights.SignInInteractiveUser || e.sit == insights.SignInNonInteractiveUser))
}

// eventTime is the instant of e on day d.
func eventTime(d int, e *ev) time.Time {
	return dataStart.Add(time.Duration(d)*24*time.Hour + time.Duration(e.sec)*time.Second)
}

// requestID is the event's request id, unique per (seed, day, index).
func (g *generator) requestID(d, i int) string {
	a := splitmix(g.cfg.Seed ^ uint64(d)<<32 ^ uint64(i))
	return guid(a, splitmix(a))
}

// key is the event's user key or principal id.
func (g *generator) key(e *ev) (user, principal string) {
	if e.user >= 0 {
		return g.userKeys[e.user], ""
	}
	return "", g.principals[-1-e.user].key
}

// toEvent fills out with event i of day d, as a host would report it.
func (g *generator) toEvent(d, i int, e *ev, out *insights.Event) {
	uk, pk := g.key(e)
	*out = insights.Event{
		Time:              eventTime(d, e),
		Kind:              e.kind,
		UserKey:           uk,
		PrincipalID:       pk,
		SignInType:        e.sit,
		Status:            e.status,
		ErrorCode:         int(e.code),
		Reason:            reason(e),
		AppID:             g.appIDs[e.app],
		AppName:           appNames[e.app],
		OS:                osNames[e.os],
		Browser:           browserNames[e.browser],
		Country:           countryCodes[e.country],
		Language:          languages[e.lang],
		IdentityProvider:  idpNames[e.idp],
		ClientApp:         clientNames[e.client],
		MFAMethod:         mfaMethods[e.mfaM],
		MFAResult:         mfaResults[e.mfaR],
		AuthRequirement:   reqNames[e.req],
		ConditionalAccess: caNames[e.ca],
		RiskLevel:         riskNames[e.risk],
		RequestID:         g.requestID(d, i),
		CorrelationID:     g.correlationID(d, i, e),
		IP:                g.ipOf(d, i, e.user, e.country),
		City:              g.cityOf(d, i, e.user, e.country),
		UserAgent:         userAgents[e.os][e.browser][e.client],
		AuthDetails:       authDetails(eventTime(d, e), e),
		MFAPolicies:       mfaPolicies(e),
		CAPolicies:        caPolicies(d, i, e),
	}
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// guid formats 128 bits as a version-4 GUID string.
func guid(hi, lo uint64) string {
	const hexdig = "0123456789abcdef"
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	var b [36]byte
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		b[j] = hexdig[nib]
		j++
	}
	return string(b[:])
}
