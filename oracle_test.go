package insights_test

// Brute-force oracle tests: a seeded generator of realistic events, an
// independent implementation of the SPEC §4/§5 definitions (and the package
// doc's Caveats) as plain loops over the raw events, and comparisons of the
// engine's answers with the oracle's for many queries.
//
// The oracle shares no code with the engine: days are computed with
// t.In(loc).Date(), status and reason come from its own copy of the SPEC §10
// table, OS families from its own map, buckets from its own calendar code.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the oracle needs America/New_York everywhere

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

const (
	orZone   = "America/New_York"
	orUsers  = 3000
	orDays   = 160
	orMargin = 100 // days a day set keeps before the data's first day
	orWords  = 5   // a day set covers 320 days
)

// The data runs from Tue 15 Oct 2024 for 160 days (to Sun 23 Mar 2025): it
// crosses the end of DST (3 Nov 2024) and its start (9 Mar 2025).
var (
	orStart = insights.Date{Year: 2024, Month: time.October, Day: 15}
	orFixed = time.FixedZone("IST", 5*3600+1800)
)

// ---- civil dates as day numbers (days since 1970-01-01) ----

func orCivil(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Unix() / 86400)
}

func orIdx(d insights.Date) int { return orCivil(d.Year, d.Month, d.Day) }

func orDate(i int) insights.Date {
	t := time.Unix(int64(i)*86400+43200, 0).UTC()
	return insights.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// orISOWeekday: Monday 1 ... Sunday 7.
func orISOWeekday(i int) int {
	wd := int(time.Unix(int64(i)*86400+43200, 0).UTC().Weekday())
	if wd == 0 {
		return 7
	}
	return wd
}

// orBaseDay is the first day a day set covers.
var orBaseDay = orIdx(orStart) - orMargin

// ---- generator ----

var (
	orApps           = []string{"portal", "mail", "crm", "admin-console", "app-hr", "app-wiki"}
	orOSes           = []string{"Windows10", "Windows 10", "Windows", "iOS", "MacOs", "Mac OS X", "Android", "Linux", ""}
	orCountries      = []string{"US", "us", "DE", "de", "FR", "IN", "BR", ""}
	orBrowsers       = []string{"Chrome 120.0", "Edge 119", "Safari 17", "Firefox 121", ""}
	orClientApps     = []string{"Browser", "Mobile apps and desktop clients"}
	orMFAMethods     = []string{"Text message", "Phone call", "Authenticator app", "OATH verification code"}
	orReasons        = []string{"incomplete", "denied", "badRequest", "systemFailure", "userError", "configError", "other"}
	orIntrCodes      = []int{50074, 50076, 50072, 50079, 50158, 50140, 50125}
	orFailCodes      = []int{50078, 50126, 50053, 50055, 50144, 50057, 50097, 50155, 53003, 530035, 53004, 50086, 50087, 50088, 12345, 90099}
	orIncomplete     = []int{50074, 50076, 50072, 50079, 50158}
	orIPs            = []string{"10.1.2.3", "10.1.9.9", "10.2.0.1", "192.0.2.44", "2001:db8::7", "2001:db8:1::9", ""}
	orCities         = []string{"Lyon", "Oslo", "Pune", "Recife", ""}
	orPrimaries      = []string{"Password", "FIDO2 security key", "Windows Hello for Business", "Passkey (device-bound)", "Email OTP"}
	orPasswordless   = map[string]bool{"FIDO2 security key": true, "Windows Hello for Business": true, "Passkey (device-bound)": true}
	orMFAPolicyNames = []string{"MFA for admins", "MFA everywhere", "Risky sign-ins"}
	orCAPolicyNames  = []string{"Block legacy auth", "Require compliant device", "MFA for admins"}
)

type orGen struct {
	r    *rand.Rand
	loc  *time.Location
	seed uint64
	day0 int
	req  int
	out  []insights.Event
}

type orUser struct {
	key, app, os, country, browser, ip, city string
}

func orPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// at returns an instant on data day `day`, often within an hour of local
// midnight or in the small hours of DST changes, in a random zone.
func (g *orGen) at(day int) time.Time {
	d := orDate(g.day0 + day)
	var h int
	switch p := g.r.IntN(12); {
	case p == 0:
		h = 23
	case p == 1:
		h = 0
	case p == 2:
		h = g.r.IntN(4)
	default:
		h = 6 + g.r.IntN(17)
	}
	return g.zoned(time.Date(d.Year, d.Month, d.Day, h, g.r.IntN(60), g.r.IntN(60), g.r.IntN(1e9), g.loc))
}

// zoned returns the instant t in a random zone.
func (g *orGen) zoned(t time.Time) time.Time {
	switch g.r.IntN(3) {
	case 0:
		return t.UTC()
	case 1:
		return t.In(orFixed)
	}
	return t
}

func (g *orGen) rid() string {
	if g.r.IntN(4) == 0 {
		return ""
	}
	g.req++
	return fmt.Sprintf("req-%d-%d", g.seed, g.req)
}

func (g *orGen) userEv(u *orUser, day int, kind insights.Kind) insights.Event {
	r := g.r
	e := insights.Event{Time: g.at(day), Kind: kind, UserKey: u.key, RequestID: g.rid()}
	if r.IntN(4) == 0 {
		e.AppID = orPick(r, orApps)
	} else {
		e.AppID = u.app
	}
	if r.IntN(4) == 0 {
		e.OS = orPick(r, orOSes)
	} else {
		e.OS = u.os
	}
	if r.IntN(5) == 0 {
		e.Country = orPick(r, orCountries)
	} else {
		e.Country = u.country
	}
	e.Browser = u.browser
	e.ClientApp = orPick(r, orClientApps)
	e.IP, e.City = u.ip, u.city
	if r.IntN(6) == 0 { // travelling
		e.IP, e.City = orPick(r, orIPs), orPick(r, orCities)
	}
	if kind == insights.KindUserCreated || kind == insights.KindUserDeleted {
		e.OS, e.Browser, e.ClientApp = "", "", ""
	}
	return e
}

// outcome sets a sign-in's status the many ways a host may report it.
func (g *orGen) outcome(e *insights.Event) {
	r := g.r
	switch x := r.IntN(100); {
	case x < 30: // success from error code 0
	case x < 58:
		e.Status = insights.StatusSuccess
	case x < 66:
		e.ErrorCode = orPick(r, orIntrCodes)
	case x < 69:
		e.Status = insights.StatusInterrupted
		e.ErrorCode = orPick(r, []int{50074, 50140})
	case x < 79:
		e.ErrorCode = orPick(r, orFailCodes)
	case x < 84:
		e.Status = insights.StatusFailure
		e.ErrorCode = orPick(r, orFailCodes)
		e.Reason = orPick(r, orReasons)
	case x < 87: // an interrupt code reported as a failure: incomplete
		e.Status = insights.StatusFailure
		e.ErrorCode = orPick(r, orIncomplete)
	case x < 89:
		e.Status = insights.StatusFailure
		e.ErrorCode = 50126
	case x < 92: // strong authentication failed, with the failed challenge
		res := orPick(r, []string{insights.MFADenied, insights.MFAIncomplete})
		e.Status = insights.StatusFailure
		e.ErrorCode = 500121
		e.Reason = insights.ReasonDenied
		e.MFAMethod = orPick(r, orMFAMethods)
		e.MFAResult = res
	default: // success with an MFA step, given three ways
		if r.IntN(2) == 0 {
			e.MFAPolicies = orPolicies(r, orMFAPolicyNames)
		}
		switch r.IntN(3) {
		case 0:
			e.MFAMethod = orPick(r, orMFAMethods)
			e.MFAResult = insights.MFASuccess
		case 1:
			e.AuthDetails = []insights.AuthStep{
				{Time: e.Time, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Time: e.Time.Add(20 * time.Second), Method: orPick(r, orMFAMethods), Succeeded: true, Requirement: insights.RequirementMultiFactor},
			}
		default:
			e.AuthDetails = []insights.AuthStep{
				{Time: e.Time, Method: "Password", Succeeded: true, Requirement: insights.RequirementSingleFactor},
				{Time: e.Time, Method: insights.MethodPreviouslySatisfied, Succeeded: true, Requirement: insights.RequirementMultiFactor},
			}
		}
	}
}

func (g *orGen) signIn(u *orUser, day int) {
	r := g.r
	e := g.userEv(u, day, insights.KindSignIn)
	switch x := r.IntN(10); {
	case x < 4: // unset: interactive
	case x < 7:
		e.SignInType = insights.SignInInteractiveUser
	default:
		e.SignInType = insights.SignInNonInteractiveUser
	}
	g.outcome(&e)
	if len(e.AuthDetails) == 0 && e.MFAMethod == "" && r.IntN(4) == 0 { // a primary method alone
		e.AuthDetails = []insights.AuthStep{{Time: e.Time, Method: orPick(r, orPrimaries), Succeeded: true,
			Requirement: insights.RequirementSingleFactor}}
	}
	if r.IntN(3) == 0 {
		for _, name := range orPolicies(r, orCAPolicyNames) {
			e.CAPolicies = append(e.CAPolicies, insights.PolicyResult{Name: name, Result: orPick(r, []string{"success", "failure", "notApplied"})})
		}
	}
	g.out = append(g.out, e)
}

// orPolicies returns zero to two distinct names.
func orPolicies(r *rand.Rand, names []string) []string {
	p := slices.Clone(names)
	r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p[:r.IntN(3)]
}

func (g *orGen) okSignIn(u *orUser, day int) {
	e := g.userEv(u, day, insights.KindSignIn)
	if g.r.IntN(2) == 0 {
		e.Status = insights.StatusSuccess
	}
	g.out = append(g.out, e)
}

func (g *orGen) failSignIn(u *orUser, day int) {
	e := g.userEv(u, day, insights.KindSignIn)
	e.ErrorCode = orPick(g.r, []int{50126, 50053, 50057})
	g.out = append(g.out, e)
}

func (g *orGen) signUp(u *orUser, day int, ok bool) {
	e := g.userEv(u, day, insights.KindSignUp)
	if !ok {
		if g.r.IntN(2) == 0 {
			e.ErrorCode = 90001 // unknown: failure, other
		} else {
			e.Status = insights.StatusFailure
			e.ErrorCode = 90003
			e.Reason = insights.ReasonBadRequest
		}
	}
	g.out = append(g.out, e)
}

func (g *orGen) simple(u *orUser, day int, kind insights.Kind) {
	g.out = append(g.out, g.userEv(u, day, kind))
}

func (g *orGen) mfa(u *orUser, day int) {
	r := g.r
	e := g.userEv(u, day, insights.KindMFA)
	e.MFAMethod = orPick(r, orMFAMethods)
	if r.IntN(5) > 0 {
		e.MFAResult = insights.MFASuccess
		if r.IntN(2) == 0 {
			e.Status = insights.StatusSuccess
		}
	} else {
		res := orPick(r, []string{insights.MFADenied, insights.MFAIncomplete})
		e.MFAResult = res
		e.Status = insights.StatusFailure
		e.ErrorCode = 500121
		e.Reason = res
	}
	g.out = append(g.out, e)
}

func (g *orGen) method(u *orUser, day int, kind insights.Kind) {
	r := g.r
	e := g.userEv(u, day, kind)
	if kind == insights.KindRegistration {
		e.Method = orPick(r, []string{"Authenticator app", "FIDO2", "Text message"})
		e.Action = orPick(r, []string{insights.ActionRegistered, insights.ActionRemoved})
	} else {
		e.Method = orPick(r, []string{"Email", "Text message"})
		e.Action = orPick(r, []string{insights.ActionPasswordReset, insights.ActionAccountUnlock})
	}
	if r.IntN(6) == 0 {
		e.Status = insights.StatusFailure
		e.ErrorCode = 90002
		e.Reason = insights.ReasonUserError
	}
	g.out = append(g.out, e)
}

// orGenerate returns the events of one seed, duplicates included.
func orGenerate(seed uint64, loc *time.Location) []insights.Event {
	g := &orGen{r: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1)), loc: loc, seed: seed, day0: orIdx(orStart),
		out: make([]insights.Event, 0, 50*orUsers)}
	r := g.r
	var users []*orUser
	for i := 0; i < orUsers; i++ {
		u := &orUser{
			key:     fmt.Sprintf("user-%04d@example.test", i),
			app:     orPick(r, orApps),
			os:      orPick(r, orOSes),
			country: orPick(r, orCountries),
			browser: orPick(r, orBrowsers),
			ip:      orPick(r, orIPs),
			city:    orPick(r, orCities),
		}
		users = append(users, u)
		class := r.IntN(100)
		switch {
		case class < 7: // created, never active
			g.simple(u, r.IntN(orDays), insights.KindUserCreated)
			if r.IntN(3) == 0 {
				g.failSignIn(u, r.IntN(orDays))
			}
			if r.IntN(8) == 0 {
				g.signUp(u, r.IntN(orDays), false)
			}
			if r.IntN(10) == 0 {
				g.simple(u, r.IntN(orDays), insights.KindUserDeleted)
			}
			continue
		case class < 9: // attacked or mistyped keys: failures only
			for k := 1 + r.IntN(4); k > 0; k-- {
				g.failSignIn(u, r.IntN(orDays))
			}
			continue
		}
		first := r.IntN(orDays)
		if r.IntN(3) == 0 {
			first = r.IntN(10)
		}
		last := orDays - 1
		if r.IntN(10) < 3 {
			last = first + r.IntN(orDays-first)
		}
		gapFrom, gapTo := -1, -1
		if r.IntN(5) == 0 {
			gapFrom = first + 1 + r.IntN(orDays)
			gapTo = gapFrom + 10 + r.IntN(30)
		}
		p := []float64{0.02, 0.07, 0.18, 0.4}[r.IntN(4)]
		if r.IntN(100) < 35 {
			d := first - r.IntN(15)
			if r.IntN(8) == 0 {
				d = first + r.IntN(orDays-first)
			}
			g.simple(u, max(d, 0), insights.KindUserCreated)
		}
		switch x := r.IntN(100); {
		case x < 30:
			g.signUp(u, first, true)
		case x < 34:
			g.signUp(u, first, false)
			g.signUp(u, min(first+r.IntN(3), orDays-1), true)
		case x < 36: // failed sign-up, then first success later
			g.signUp(u, first, false)
			first = min(first+1+r.IntN(5), orDays-1)
			g.okSignIn(u, first)
		default:
			g.okSignIn(u, first)
		}
		if r.IntN(100) < 3 {
			del := first + r.IntN(orDays-first)
			g.simple(u, del, insights.KindUserDeleted)
			if r.IntN(5) == 0 && del+1 < orDays {
				g.simple(u, del+1+r.IntN(orDays-del-1), insights.KindUserDeleted)
			}
			if r.IntN(2) == 0 {
				last = min(last, del)
			}
			// Once deleted, always deleted: re-creating the key or
			// signing up again does not bring the user back.
			if del+1 < orDays && r.IntN(3) == 0 {
				g.simple(u, del+1+r.IntN(orDays-del-1), insights.KindUserCreated)
			}
			if del+1 < orDays && r.IntN(4) == 0 {
				g.signUp(u, del+1+r.IntN(orDays-del-1), true)
			}
		}
		for day := first; day <= last; day++ {
			if day >= gapFrom && day < gapTo {
				continue
			}
			if day != first && r.Float64() >= p {
				continue
			}
			for k := 1 + r.IntN(2); k > 0; k-- {
				g.signIn(u, day)
			}
			switch x := r.IntN(100); {
			case x < 6:
				g.mfa(u, day)
			case x < 8:
				g.method(u, day, insights.KindRegistration)
			case x < 9:
				g.method(u, day, insights.KindReset)
			}
		}
	}
	// Sign-ins at the very edges of local days, and in the hours that
	// repeat or do not exist, around both DST changes.
	for _, d := range []insights.Date{{Year: 2024, Month: 11, Day: 2}, {Year: 2024, Month: 11, Day: 3}, {Year: 2024, Month: 11, Day: 4},
		{Year: 2025, Month: 3, Day: 8}, {Year: 2025, Month: 3, Day: 9}, {Year: 2025, Month: 3, Day: 10}} {
		for k := 0; k < 8; k++ {
			u := orPick(r, users)
			for _, c := range [][4]int{{0, 0, 0, 0}, {23, 59, 59, 999999999}, {1, 30, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}} {
				e := g.userEv(u, orIdx(d)-g.day0, insights.KindSignIn)
				e.Time = g.zoned(time.Date(d.Year, d.Month, d.Day, c[0], c[1], c[2], c[3], g.loc))
				g.out = append(g.out, e)
			}
		}
	}

	// Service principals and managed identities: sign-ins, never users.
	for day := 0; day < orDays; day++ {
		for k := 5 + r.IntN(20); k > 0; k-- {
			e := insights.Event{Time: g.at(day), Kind: insights.KindSignIn, RequestID: g.rid(),
				PrincipalID: fmt.Sprintf("sp-%d", r.IntN(15)), AppID: orPick(r, orApps),
				SignInType: orPick(r, []insights.SignInType{insights.SignInServicePrincipal, insights.SignInManagedIdentity})}
			if r.IntN(3) == 0 {
				e.Country = orPick(r, orCountries)
			}
			if r.IntN(9) == 0 {
				e.ErrorCode = 7000215 // unknown: failure, other
			}
			g.out = append(g.out, e)
		}
	}
	// Duplicates: a repeated request id counts once (the first copy fed
	// wins, even if the copies differ); events without one always count.
	n := len(g.out)
	for i := 0; i < n; i++ {
		e := g.out[i]
		switch {
		case e.RequestID != "" && r.IntN(100) < 3:
			if r.IntN(2) == 0 {
				e.AppID = orPick(r, orApps)
				if e.Kind == insights.KindSignIn && r.IntN(2) == 0 {
					e.Status, e.ErrorCode, e.Reason = insights.StatusFailure, 50126, ""
				}
			}
			g.out = append(g.out, e)
		case e.RequestID == "" && r.IntN(100) < 2:
			g.out = append(g.out, e)
		}
	}
	return g.out
}

// orBatches orders events by time, holds some back as late, and returns
// the batches to feed: time chunks shuffled inside, then the late events.
func orBatches(seed uint64, evs []insights.Event) [][]insights.Event {
	r := rand.New(rand.NewPCG(seed^0xfeed, seed))
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	unix := make([]int64, len(evs))
	for i := range evs {
		unix[i] = evs[i].Time.UnixNano()
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(unix[a], unix[b]), cmp.Compare(a, b)) })
	var onTime, late []insights.Event
	for _, i := range order {
		if r.IntN(100) < 6 {
			late = append(late, evs[i])
		} else {
			onTime = append(onTime, evs[i])
		}
	}
	var out [][]insights.Event
	const chunks = 5
	for c := 0; c < chunks; c++ {
		b := slices.Clone(onTime[c*len(onTime)/chunks : (c+1)*len(onTime)/chunks])
		r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		out = append(out, b)
	}
	r.Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
	out = append(out, late[:len(late)/2], late[len(late)/2:])
	return out
}

// ---- oracle ----

type orRec struct {
	t          time.Time
	reqID      string
	name       string // the user's display name
	day        int
	kind       insights.Kind
	user       int // -1: no user key
	status     insights.Status
	userSignIn bool // an interactive or non-interactive user sign-in
	activity   bool // userSignIn or sign-up, with status success
	challenge  bool // an MFA event, or a sign-in that performed an MFA step
	mfaOK      bool
	multi      bool // authentication requirement multi-factor
	primary    string
	mfaPol     []string
	caPol      []insights.PolicyResult
	dims       [len(orDimList)]string // by orSlot
}

// dim returns r's value of d.
func (r *orRec) dim(d insights.Dimension) string { return r.dims[orSlot[d]] }

func (r *orRec) setDim(d insights.Dimension, v string) { r.dims[orSlot[d]] = v }

type orOracle struct {
	recs     []orRec
	keys     []string // user id -> key
	delDay   []int    // first deletion day, or MaxInt
	firstAct []int    // first activity day not voided by deletion, or MaxInt
	today    int
	cacheMu  sync.Mutex // the cold tests share one oracle, in parallel
	cache    map[string]*orGroups
}

// orTable is the oracle's copy of SPEC §10: status, and reason (for
// interrupts: the reason if reported as a failure).
func orTable(code int) (insights.Status, string) {
	switch code {
	case 0:
		return insights.StatusSuccess, ""
	case 50074, 50076, 50072, 50079, 50158:
		return insights.StatusInterrupted, "incomplete"
	case 50140, 50125:
		return insights.StatusInterrupted, ""
	case 50078:
		return insights.StatusFailure, "incomplete"
	case 500121, 50126, 50053, 53003, 530035, 53004:
		return insights.StatusFailure, "denied"
	case 50055, 50144, 50057:
		return insights.StatusFailure, "userError"
	case 50097, 50155:
		return insights.StatusFailure, "configError"
	case 50086, 50087, 50088:
		return insights.StatusFailure, "systemFailure"
	}
	return insights.StatusFailure, "other"
}

var orOSFamily = map[string]string{
	"Windows10": "Windows", "Windows 10": "Windows", "Windows": "Windows",
	"MacOs": "macOS", "Mac OS X": "macOS", "iOS": "iOS", "Android": "Android",
	"Linux": "Linux", "": "",
}

var orKindName = map[insights.Kind]string{
	insights.KindSignIn: "signIn", insights.KindSignUp: "signUp", insights.KindUserCreated: "userCreated",
	insights.KindUserDeleted: "userDeleted", insights.KindMFA: "mfa", insights.KindRegistration: "registration",
	insights.KindReset: "reset",
}

var orStatusName = map[insights.Status]string{
	insights.StatusSuccess: "success", insights.StatusFailure: "failure", insights.StatusInterrupted: "interrupted",
}

var orTypeName = map[insights.SignInType]string{
	insights.SignInUnset: "interactiveUser", insights.SignInInteractiveUser: "interactiveUser",
	insights.SignInNonInteractiveUser: "nonInteractiveUser", insights.SignInServicePrincipal: "servicePrincipal",
	insights.SignInManagedIdentity: "managedIdentity",
}

// orDimList are the dimensions the oracle derives; queries use only these.
var orDimList = [...]insights.Dimension{
	insights.DimKind, insights.DimAppID, insights.DimOS, insights.DimOSFamily, insights.DimBrowser,
	insights.DimCountry, insights.DimClientApp, insights.DimSignInType, insights.DimStatus,
	insights.DimErrorCode, insights.DimReason, insights.DimMFAMethod, insights.DimMFAResult,
	insights.DimMethod, insights.DimAction,
	insights.DimIP, insights.DimCity, insights.DimUser, insights.DimRequestID, // log fields
}

// orSlot maps a dimension to its index in orRec.dims, or -1.
var orSlot = func() (s [insights.DimState + 1]int) {
	for i := range s {
		s[i] = -1
	}
	for i, d := range orDimList {
		s[d] = i
	}
	return s
}()

// orBuild turns the events, in the order they were fed, into records.
func orBuild(evs []insights.Event, loc *time.Location, today int) *orOracle {
	o := &orOracle{today: today, recs: make([]orRec, 0, len(evs))}
	ids := map[string]int{}
	seen := map[string]bool{}
	for i := range evs {
		e := &evs[i]
		if e.RequestID != "" {
			if seen[e.RequestID] {
				continue
			}
			seen[e.RequestID] = true
		}
		y, m, d := e.Time.In(loc).Date()
		r := orRec{t: e.Time, reqID: e.RequestID, name: e.UserDisplayName, day: orCivil(y, m, d), kind: e.Kind, user: -1}
		if e.UserKey != "" {
			id, ok := ids[e.UserKey]
			if !ok {
				id = len(o.keys)
				ids[e.UserKey] = id
				o.keys = append(o.keys, e.UserKey)
			}
			r.user = id
		}
		st, reason := orTable(e.ErrorCode)
		if e.Status != insights.StatusUnset {
			st = e.Status
		}
		if st != insights.StatusFailure {
			reason = ""
		} else if e.Reason != "" {
			reason = e.Reason
		}
		r.status = st
		typ := ""
		if e.Kind == insights.KindSignIn {
			typ = orTypeName[e.SignInType]
			r.userSignIn = r.user >= 0 && (typ == "interactiveUser" || typ == "nonInteractiveUser")
		}
		r.activity = (r.userSignIn || e.Kind == insights.KindSignUp) && st == insights.StatusSuccess
		method, result := e.MFAMethod, e.MFAResult
		if method == "" {
			var last *insights.AuthStep
			for k := range e.AuthDetails {
				if e.AuthDetails[k].Requirement == insights.RequirementMultiFactor {
					last = &e.AuthDetails[k]
				}
			}
			if last != nil && last.Method != insights.MethodPreviouslySatisfied {
				method = last.Method
				if last.Succeeded {
					result = insights.MFASuccess
				}
			}
		}
		r.challenge = e.Kind == insights.KindMFA || (e.Kind == insights.KindSignIn && method != "" && method != insights.MethodPreviouslySatisfied)
		r.multi = e.MFAMethod != ""
		for _, s := range e.AuthDetails {
			if s.Requirement == insights.RequirementMultiFactor {
				r.multi = true
			} else if r.primary == "" {
				r.primary = s.Method
			}
		}
		r.mfaPol, r.caPol = e.MFAPolicies, e.CAPolicies
		r.mfaOK = result == insights.MFASuccess
		r.setDim(insights.DimKind, orKindName[e.Kind])
		r.setDim(insights.DimAppID, e.AppID)
		r.setDim(insights.DimOS, e.OS)
		fam, ok := orOSFamily[e.OS]
		if !ok {
			panic("oracle: no OS family for " + e.OS)
		}
		r.setDim(insights.DimOSFamily, fam)
		r.setDim(insights.DimBrowser, e.Browser)
		r.setDim(insights.DimCountry, strings.ToUpper(e.Country))
		r.setDim(insights.DimClientApp, e.ClientApp)
		r.setDim(insights.DimSignInType, typ)
		r.setDim(insights.DimStatus, orStatusName[st])
		r.setDim(insights.DimErrorCode, strconv.Itoa(e.ErrorCode))
		r.setDim(insights.DimReason, reason)
		r.setDim(insights.DimMFAMethod, method)
		r.setDim(insights.DimMFAResult, result)
		r.setDim(insights.DimMethod, e.Method)
		act := e.Action
		if act == "" {
			act = map[insights.Kind]string{insights.KindRegistration: insights.ActionRegistered, insights.KindReset: insights.ActionPasswordReset}[e.Kind]
		}
		r.setDim(insights.DimAction, act)
		r.setDim(insights.DimIP, e.IP)
		r.setDim(insights.DimCity, e.City)
		r.setDim(insights.DimUser, e.UserKey)
		r.setDim(insights.DimRequestID, e.RequestID)
		o.recs = append(o.recs, r)
	}
	o.delDay = make([]int, len(o.keys))
	o.firstAct = make([]int, len(o.keys))
	for i := range o.keys {
		o.delDay[i], o.firstAct[i] = math.MaxInt, math.MaxInt
	}
	for _, r := range o.recs {
		if r.kind == insights.KindUserDeleted {
			o.delDay[r.user] = min(o.delDay[r.user], r.day)
		}
	}
	for _, r := range o.recs {
		if r.activity && !o.voided(&r) {
			o.firstAct[r.user] = min(o.firstAct[r.user], r.day)
		}
	}
	return o
}

// voided: a user's events after the day of their deletion are ignored by
// user metrics.
func (o *orOracle) voided(r *orRec) bool { return r.user >= 0 && r.day > o.delDay[r.user] }

// ---- oracle filters ----

type orF struct {
	op   insights.Op
	dim  insights.Dimension
	vals []string
	args []orF
}

func fEq(d insights.Dimension, v string) orF {
	return orF{op: insights.OpEq, dim: d, vals: []string{v}}
}
func fIn(d insights.Dimension, vs ...string) orF {
	return orF{op: insights.OpIn, dim: d, vals: vs}
}
func fPre(d insights.Dimension, p string) orF {
	return orF{op: insights.OpPrefix, dim: d, vals: []string{p}}
}
func fCIDR(p string) orF {
	return orF{op: insights.OpCIDR, dim: insights.DimIP, vals: []string{p}}
}
func fNot(f orF) orF     { return orF{op: insights.OpNot, args: []orF{f}} }
func fAnd(fs ...orF) orF { return orF{op: insights.OpAnd, args: fs} }
func fOr(fs ...orF) orF  { return orF{op: insights.OpOr, args: fs} }

func (f orF) api() insights.Filter {
	var as []insights.Filter
	for _, a := range f.args {
		as = append(as, a.api())
	}
	switch f.op {
	case insights.OpOr:
		return insights.Or(as...)
	case insights.OpNot:
		return insights.Not(as[0])
	case insights.OpEq:
		return insights.Eq(f.dim, f.vals[0])
	case insights.OpIn:
		return insights.In(f.dim, f.vals...)
	case insights.OpPrefix:
		return insights.Prefix(f.dim, f.vals[0])
	case insights.OpCIDR:
		return insights.CIDR(f.vals[0])
	}
	return insights.And(as...)
}

func (f orF) match(r *orRec) bool {
	switch f.op {
	case insights.OpAnd:
		for _, a := range f.args {
			if !a.match(r) {
				return false
			}
		}
		return true
	case insights.OpOr:
		for _, a := range f.args {
			if a.match(r) {
				return true
			}
		}
		return false
	case insights.OpNot:
		return !f.args[0].match(r)
	case insights.OpEq:
		return r.dim(f.dim) == f.vals[0]
	case insights.OpIn:
		return slices.Contains(f.vals, r.dim(f.dim))
	case insights.OpPrefix:
		return strings.HasPrefix(r.dim(f.dim), f.vals[0])
	case insights.OpCIDR:
		a, err := netip.ParseAddr(r.dim(insights.DimIP))
		return err == nil && netip.MustParsePrefix(f.vals[0]).Contains(a)
	}
	panic("oracle: bad op")
}

func (f orF) dimsUsed(into map[insights.Dimension]bool) {
	if f.op >= insights.OpEq {
		into[f.dim] = true
	}
	for _, a := range f.args {
		a.dimsUsed(into)
	}
}

// ---- buckets ----

type orBucket struct {
	s, e       int // clipped to the range
	fs, fe     int // the full calendar bucket
	partial    bool
	incomplete bool
}

func orBuckets(q insights.Query, today int) []orBucket {
	from, to := orIdx(q.From), orIdx(q.To)
	var out []orBucket
	add := func(fs, fe int) {
		b := orBucket{s: max(fs, from), e: min(fe, to), fs: fs, fe: fe}
		b.partial = q.Granularity != insights.Total && (b.s != fs || b.e != fe)
		b.incomplete = b.s <= today && today < b.e
		out = append(out, b)
	}
	switch q.Granularity {
	case insights.Day:
		for d := from; d < to; d++ {
			add(d, d+1)
		}
	case insights.Week:
		ws := q.WeekStart
		if ws == 0 {
			ws = 1
		}
		for fs := from - (orISOWeekday(from)-ws+7)%7; fs < to; fs += 7 {
			add(fs, fs+7)
		}
	case insights.Month:
		d := orDate(from)
		for y, m := d.Year, d.Month; ; m++ {
			fs, fe := orCivil(y, m, 1), orCivil(y, m+1, 1)
			if fs >= to {
				break
			}
			add(fs, fe)
		}
	case insights.Total:
		add(from, to)
	}
	return out
}

// orPrev is the full calendar bucket before b's (lifecycle).
func orPrev(b orBucket, g insights.Granularity) (int, int) {
	switch g {
	case insights.Day:
		return b.fs - 1, b.fs
	case insights.Week:
		return b.fs - 7, b.fs
	case insights.Month:
		d := orDate(b.fs)
		return orCivil(d.Year, d.Month-1, 1), b.fs
	}
	panic("oracle: no previous bucket for this granularity")
}

// ---- day sets ----

type orSet [orWords]uint64

func (s *orSet) set(day int) {
	i := day - orBaseDay
	if i < 0 || i >= orWords*64 {
		panic("oracle: day out of the day set's span")
	}
	s[i>>6] |= 1 << (i & 63)
}

// any reports whether s has a day in [a, b).
func (s *orSet) any(a, b int) bool {
	if s == nil {
		return false
	}
	a, b = max(a-orBaseDay, 0), min(b-orBaseDay, orWords*64)
	for a < b {
		w := a >> 6
		mask := ^uint64(0) << (a & 63)
		if hi := b - w*64; hi < 64 {
			mask &= (1 << hi) - 1
		}
		if s[w]&mask != 0 {
			return true
		}
		a = (w + 1) * 64
	}
	return false
}

const orNegInf = math.MinInt / 2

// orUD is a set of users, by ascending id, each with a set of days.
type orUD struct {
	ids  []int
	sets []*orSet
}

func orUDOf(m map[int]*orSet) orUD {
	var x orUD
	for u := range m {
		x.ids = append(x.ids, u)
	}
	slices.Sort(x.ids)
	for _, u := range x.ids {
		x.sets = append(x.sets, m[u])
	}
	return x
}

// where returns the users of x whose days satisfy keep.
func (x *orUD) where(keep func(u int, s *orSet) bool) []int {
	var out []int
	for i, u := range x.ids {
		if keep(u, x.sets[i]) {
			out = append(out, u)
		}
	}
	return out
}

// get returns u's days, or nil.
func (x *orUD) get(u int) *orSet {
	if i, ok := slices.BinarySearch(x.ids, u); ok {
		return x.sets[i]
	}
	return nil
}

type orGroup struct {
	vals          []string
	act, sign, cr orUD
	all           []int // users with an activity or a user-created event
}

type orGroups struct {
	byKey map[string]*orGroup
	keys  []string // sorted
}

func orSetOf(m map[int]*orSet, u int) *orSet {
	s := m[u]
	if s == nil {
		s = new(orSet)
		m[u] = s
	}
	return s
}

func orGroupKey(r *orRec, gb []insights.Dimension) (string, []string) {
	if len(gb) == 0 {
		return "", nil
	}
	vals := make([]string, len(gb))
	for i, d := range gb {
		vals[i] = r.dim(d)
	}
	return strings.Join(vals, "\x1f"), vals
}

// userGroups collects, per group, each user's matching activity days,
// user sign-in days and user-created days. Queries with the same filter and
// group-by share the answer.
func (o *orOracle) userGroups(f orF, gb []insights.Dimension) *orGroups {
	ck := fmt.Sprintf("%v|%v", f, gb)
	o.cacheMu.Lock()
	defer o.cacheMu.Unlock()
	if gs := o.cache[ck]; gs != nil {
		return gs
	}
	type build struct{ act, sign, cr map[int]*orSet }
	tmp := map[string]*build{}
	gs := &orGroups{byKey: map[string]*orGroup{}}
	for i := range o.recs {
		r := &o.recs[i]
		if r.user < 0 {
			continue
		}
		live := !o.voided(r)
		act := r.activity && live
		sign := r.userSignIn && live
		cr := r.kind == insights.KindUserCreated
		if !act && !sign && !cr {
			continue
		}
		if !f.match(r) {
			continue
		}
		k, vals := orGroupKey(r, gb)
		t := tmp[k]
		if t == nil {
			t = &build{map[int]*orSet{}, map[int]*orSet{}, map[int]*orSet{}}
			tmp[k] = t
			gs.byKey[k] = &orGroup{vals: vals}
			gs.keys = append(gs.keys, k)
		}
		if act {
			orSetOf(t.act, r.user).set(r.day)
		}
		if sign {
			orSetOf(t.sign, r.user).set(r.day)
		}
		if cr {
			orSetOf(t.cr, r.user).set(r.day)
		}
	}
	for k, t := range tmp {
		g := gs.byKey[k]
		g.act, g.sign, g.cr = orUDOf(t.act), orUDOf(t.sign), orUDOf(t.cr)
		g.all = orUnion(g.act.ids, g.cr.ids)
	}
	sort.Strings(gs.keys)
	if o.cache == nil {
		o.cache = map[string]*orGroups{}
	}
	o.cache[ck] = gs
	return gs
}

// activeIn returns the users with an activity matching f in [s, e).
func (o *orOracle) activeIn(f orF, s, e int) []int {
	g := o.userGroups(f, nil).byKey[""]
	if g == nil {
		return nil
	}
	return g.act.where(func(_ int, ds *orSet) bool { return ds.any(s, e) })
}

// orRow is one expected row; users is the user set behind it (user metrics).
type orRow struct {
	start  int
	series string
	offset int
	groups []string
	value  float64
	users  []int
}

func orKey(start insights.Date, series string, offset int, groups []string) string {
	return fmt.Sprintf("%s|%s|%d|%s", start, series, offset, strings.Join(groups, ","))
}

func (r orRow) key() string { return orKey(orDate(r.start), r.series, r.offset, r.groups) }

func orFilterUsers(us []int, keep func(int) bool) []int {
	var out []int
	for _, u := range us {
		if keep(u) {
			out = append(out, u)
		}
	}
	return out
}

func orMinus(a, b []int) []int {
	in := map[int]bool{}
	for _, u := range b {
		in[u] = true
	}
	return orFilterUsers(a, func(u int) bool { return !in[u] })
}

func orIntersect(a, b []int) []int {
	in := map[int]bool{}
	for _, u := range b {
		in[u] = true
	}
	return orFilterUsers(a, func(u int) bool { return in[u] })
}

func orUnion(sets ...[]int) []int {
	seen := map[int]bool{}
	var out []int
	for _, s := range sets {
		for _, u := range s {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	slices.Sort(out)
	return out
}

var orFirstSeries = map[insights.Metric]string{
	insights.Authentications: "attempts", insights.MFAChallenges: "attempts", insights.Lifecycle: "new",
	insights.MFAProtectedSignIns: "multiFactor", insights.PasswordlessSignIns: "passwordless",
	insights.MFAPolicyPrompts: "attempts",
}

func orIsUserMetric(m insights.Metric) bool {
	return m < insights.Authentications
}

// expect computes the expected rows of q (whose filter is f).
func (o *orOracle) expect(q insights.Query, f orF) ([]orRow, []orBucket) {
	bs := orBuckets(q, o.today)
	var rows []orRow
	switch {
	case q.Metric == insights.Summary:
		// Entra's summary rows: active users, and the sign-ins, SMS and
		// voice challenges of each app and OS.
		if len(q.GroupBy) == 0 {
			q.GroupBy = []insights.Dimension{insights.DimAppID, insights.DimOS}
		}
		au := q
		au.Metric = insights.ActiveUsers
		for _, r := range o.userRows(au, f, bs) {
			r.series, r.users = "activeUsers", nil
			rows = append(rows, r)
		}
		rows = append(rows, o.eventRows(q, f, bs)...)
	case orIsUserMetric(q.Metric):
		rows = o.userRows(q, f, bs)
	default:
		rows = o.eventRows(q, f, bs)
	}
	if q.Top > 0 {
		rows = orTop(q, rows)
	}
	if q.Metric == insights.MFAChallenges {
		rows = orSuccessRates(rows)
	}
	return rows, bs
}

func (o *orOracle) userRows(q insights.Query, f orF, bs []orBucket) []orRow {
	gs := o.userGroups(f, q.GroupBy)
	var rows []orRow
	emit := func(b orBucket, series string, offset int, g *orGroup, us []int) {
		rows = append(rows, orRow{start: b.s, series: series, offset: offset, groups: g.vals, value: float64(len(us)), users: us})
	}
	n := q.Days
	for _, k := range gs.keys {
		g := gs.byKey[k]
		active := func(s, e int) []int {
			return g.act.where(func(_ int, ds *orSet) bool { return ds.any(s, e) })
		}
		isNew := func(s, e int) func(int) bool {
			return func(u int) bool { return o.firstAct[u] >= s && o.firstAct[u] < e }
		}
		for bi, b := range bs {
			d := b.e - 1 // as-of day
			notDeleted := func(u int) bool { return o.delDay[u] > d }
			switch q.Metric {
			case insights.ActiveUsers:
				emit(b, "", 0, g, active(b.s, b.e))
			case insights.SigningInUsers:
				emit(b, "", 0, g, g.sign.where(func(_ int, ds *orSet) bool { return ds.any(b.s, b.e) }))
			case insights.NewUsers:
				emit(b, "", 0, g, orFilterUsers(active(b.s, b.e), isNew(b.s, b.e)))
			case insights.ReturningUsers:
				a := active(b.s, b.e)
				emit(b, "", 0, g, orMinus(a, orFilterUsers(a, isNew(b.s, b.e))))
			case insights.RollingActiveUsers:
				emit(b, "", 0, g, active(d-n+1, d+1))
			case insights.InactiveUsers:
				if n > 0 {
					emit(b, "", 0, g, g.act.where(func(u int, ds *orSet) bool {
						return ds.any(orNegInf, d+1) && !ds.any(d-n+1, d+1) && notDeleted(u)
					}))
				} else {
					emit(b, "", 0, g, g.act.where(func(u int, ds *orSet) bool {
						return ds.any(orNegInf, b.s) && !ds.any(b.s, b.e) && notDeleted(u)
					}))
				}
			case insights.NeverActiveUsers:
				emit(b, "", 0, g, g.cr.where(func(u int, ds *orSet) bool {
					return ds.any(orNegInf, d+1) && o.firstAct[u] > d && notDeleted(u)
				}))
			case insights.TotalUsers:
				emit(b, "", 0, g, orFilterUsers(g.all, func(u int) bool {
					return (g.act.get(u).any(orNegInf, d+1) || g.cr.get(u).any(orNegInf, d+1)) && notDeleted(u)
				}))
			case insights.Stickiness:
				dau, roll := len(active(d, d+1)), len(active(d-n+1, d+1))
				v := 0.0
				if roll > 0 {
					v = float64(dau) / float64(roll)
				}
				rows = append(rows, orRow{start: b.s, groups: g.vals, value: v})
			case insights.Lifecycle:
				ps, pe := orPrev(b, q.Granularity)
				a, p := active(b.s, b.e), active(ps, pe)
				nw := orFilterUsers(a, isNew(b.s, b.e))
				emit(b, "new", 0, g, nw)
				emit(b, "returning", 0, g, orMinus(orIntersect(a, p), nw))
				emit(b, "resurrecting", 0, g, orMinus(orMinus(a, p), nw))
				emit(b, "dormant", 0, g, orMinus(p, a))
			case insights.Retention:
				cohort := orFilterUsers(active(b.s, b.e), isNew(b.s, b.e))
				for k := 0; bi+k < len(bs); k++ {
					c := bs[bi+k]
					emit(b, "", k, g, orIntersect(cohort, active(c.s, c.e)))
				}
			default:
				panic("oracle: metric not covered: " + q.Metric.String())
			}
		}
	}
	return rows
}

func (o *orOracle) eventRows(q insights.Query, f orF, bs []orBucket) []orRow {
	from := orIdx(q.From)
	at := make([]int, orIdx(q.To)-from) // day -> bucket
	for i, b := range bs {
		for d := b.s; d < b.e; d++ {
			at[d-from] = i
		}
	}
	type cell struct {
		bucket int
		series string
		group  string
	}
	counts := map[cell]float64{}
	vals := map[string][]string{}
	for i := range o.recs {
		r := &o.recs[i]
		if r.day < from || r.day-from >= len(at) || !f.match(r) {
			continue
		}
		var series []string
		var policies [][]string // leading group values, one list per count
		switch q.Metric {
		case insights.MFAProtectedSignIns, insights.PasswordlessSignIns:
			if r.kind != insights.KindSignIn || r.status != insights.StatusSuccess {
				continue
			}
			if q.Metric == insights.MFAProtectedSignIns {
				series = []string{map[bool]string{true: "multiFactor", false: "singleFactor"}[r.multi]}
			} else {
				series = []string{map[bool]string{true: "passwordless", false: "other"}[orPasswordless[r.primary]]}
			}
		case insights.MFAPolicyPrompts:
			if !r.challenge {
				continue
			}
			series = []string{"attempts", "failures"}
			if r.mfaOK {
				series[1] = "successes"
			}
			for _, p := range r.mfaPol {
				policies = append(policies, []string{p})
			}
			if len(policies) == 0 {
				policies = [][]string{{""}}
			}
		case insights.ConditionalAccessPolicies:
			if r.kind != insights.KindSignIn {
				continue
			}
			series = []string{""}
			for _, p := range r.caPol {
				policies = append(policies, []string{p.Name, p.Result})
			}
			if len(policies) == 0 {
				continue
			}
		case insights.Registrations, insights.Resets:
			kind := map[insights.Metric]insights.Kind{insights.Registrations: insights.KindRegistration, insights.Resets: insights.KindReset}[q.Metric]
			if r.kind != kind || r.dim(insights.DimAction) == insights.ActionSnapshot {
				continue
			}
			series = []string{"attempts"}
			switch r.status {
			case insights.StatusSuccess:
				series = append(series, "successes")
			case insights.StatusFailure:
				series = append(series, "failures")
			}
		case insights.Authentications:
			if r.kind != insights.KindSignIn {
				continue
			}
			series = []string{"attempts", map[insights.Status]string{
				insights.StatusSuccess: "successes", insights.StatusFailure: "failures", insights.StatusInterrupted: "interrupts",
			}[r.status]}
		case insights.Requests:
			series = []string{""}
		case insights.SignUps:
			if r.kind != insights.KindSignUp || r.status != insights.StatusSuccess {
				continue
			}
			series = []string{""}
		case insights.MFAChallenges:
			if !r.challenge {
				continue
			}
			series = []string{"attempts", "failures"}
			if r.mfaOK {
				series[1] = "successes"
			}
		case insights.Summary:
			if r.kind == insights.KindSignIn {
				series = append(series, "authenticationRequests")
				if r.status == insights.StatusSuccess {
					series = append(series, "authenticationCompletions")
				}
			}
			if r.challenge {
				pre := map[string]string{"Text message": "sms", "Phone call": "voice"}[r.dim(insights.DimMFAMethod)]
				if pre != "" {
					series = append(series, pre+"MfaRequests")
					if r.mfaOK {
						series = append(series, pre+"MfaCompletions")
					}
				}
			}
		default:
			panic("oracle: metric not covered: " + q.Metric.String())
		}
		k, gv := orGroupKey(r, q.GroupBy)
		if policies == nil {
			vals[k] = gv
			for _, s := range series {
				counts[cell{at[r.day-from], s, k}]++
			}
			continue
		}
		for _, p := range policies {
			pk := strings.Join(p, "\x1f") + "\x1e" + k
			vals[pk] = append(slices.Clone(p), gv...)
			for _, s := range series {
				counts[cell{at[r.day-from], s, pk}]++
			}
		}
	}
	var rows []orRow
	for c, v := range counts {
		rows = append(rows, orRow{start: bs[c.bucket].s, series: c.series, groups: vals[c.group], value: v})
	}
	return rows
}

// orSuccessRates adds MFAChallenges' successRate row to each bucket and
// group with attempts: successes / attempts.
func orSuccessRates(rows []orRow) []orRow {
	type key struct {
		start int
		group string
	}
	att, ok := map[key]float64{}, map[key]float64{}
	groups := map[key][]string{}
	for _, r := range rows {
		k := key{r.start, strings.Join(r.groups, "\x1f")}
		groups[k] = r.groups
		switch r.series {
		case "attempts":
			att[k] = r.value
		case "successes":
			ok[k] = r.value
		}
	}
	for k, a := range att {
		if a > 0 {
			rows = append(rows, orRow{start: k.start, series: "successRate", groups: groups[k], value: ok[k] / a})
		}
	}
	return rows
}

// orTop keeps, per bucket, the q.Top groups with the largest value of the
// first series (ties by group values), and adds the "(other)" row: the
// distinct union of the rest for user metrics, the sum for event metrics.
func orTop(q insights.Query, rows []orRow) []orRow {
	first := orFirstSeries[q.Metric]
	type bucketRows struct {
		byGroup map[string][]orRow
		gvals   map[string][]string
	}
	per := map[int]*bucketRows{}
	var starts []int
	for _, r := range rows {
		b := per[r.start]
		if b == nil {
			b = &bucketRows{byGroup: map[string][]orRow{}, gvals: map[string][]string{}}
			per[r.start] = b
			starts = append(starts, r.start)
		}
		k := strings.Join(r.groups, "\x1f")
		b.byGroup[k] = append(b.byGroup[k], r)
		b.gvals[k] = r.groups
	}
	other := make([]string, len(q.GroupBy)+map[insights.Metric]int{insights.MFAPolicyPrompts: 1, insights.ConditionalAccessPolicies: 2}[q.Metric])
	for i := range other {
		other[i] = insights.OtherGroup
	}
	var out []orRow
	for _, s := range starts {
		b := per[s]
		var ks []string
		val := map[string]float64{}
		for k, rs := range b.byGroup {
			ks = append(ks, k)
			for _, r := range rs {
				if r.series == first {
					val[k] = r.value
				}
			}
		}
		sort.Slice(ks, func(i, j int) bool {
			if val[ks[i]] != val[ks[j]] {
				return val[ks[i]] > val[ks[j]]
			}
			return slices.Compare(b.gvals[ks[i]], b.gvals[ks[j]]) < 0
		})
		for i, k := range ks {
			if i < q.Top {
				out = append(out, b.byGroup[k]...)
			}
		}
		if !q.Other || len(ks) <= q.Top {
			continue
		}
		sums := map[string]float64{}
		sets := map[string][][]int{}
		var series []string
		for _, k := range ks[q.Top:] {
			for _, r := range b.byGroup[k] {
				if _, ok := sums[r.series]; !ok {
					series = append(series, r.series)
				}
				sums[r.series] += r.value
				sets[r.series] = append(sets[r.series], r.users)
			}
		}
		for _, se := range series {
			r := orRow{start: s, series: se, groups: other, value: sums[se]}
			if orIsUserMetric(q.Metric) {
				r.users = orUnion(sets[se]...)
				r.value = float64(len(r.users))
			}
			out = append(out, r)
		}
	}
	return out
}

// ---- the test ----

type orQuery struct {
	q insights.Query
	f orF
}

func orDescribe(q insights.Query) string {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Sprintf("%+v", q)
	}
	return string(b)
}

// orCheck compares the engine's answer to q with the oracle's, reporting the
// first few mismatches; it returns whether they agree.
func orCheck(t *testing.T, ctx context.Context, eng *insights.Engine, o *orOracle, label string, oq orQuery) bool {
	t.Helper()
	q := oq.q
	q.Filter = oq.f.api()
	res, err := eng.Query(ctx, q)
	if err != nil {
		t.Errorf("%s: query %s: %v", label, orDescribe(q), err)
		return false
	}
	exp, bs := o.expect(q, oq.f)
	var problems []string
	bucketAt := map[insights.Date]orBucket{}
	for _, b := range bs {
		bucketAt[orDate(b.s)] = b
	}
	got := map[string]float64{}
	for _, r := range res.Rows {
		k := orKey(r.Start, r.Series, r.Offset, r.Groups)
		if _, dup := got[k]; dup {
			problems = append(problems, fmt.Sprintf("row %s appears twice", k))
		}
		got[k] = r.Value
		b, ok := bucketAt[r.Start]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("row %s: start is no bucket of the range", k))
		case r.End != orDate(b.e) || r.Partial != b.partial || r.Incomplete != b.incomplete:
			problems = append(problems, fmt.Sprintf("row %s: bucket end/partial/incomplete = %s/%v/%v, want %s/%v/%v",
				k, r.End, r.Partial, r.Incomplete, orDate(b.e), b.partial, b.incomplete))
		}
	}
	want := map[string]float64{}
	for _, r := range exp {
		want[r.key()] += r.value
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		if math.Abs(w-g) > 1e-9*math.Max(1, math.Abs(w)) {
			problems = append(problems, fmt.Sprintf("row %s: got %v, want %v", k, g, w))
		}
	}
	if len(problems) > 0 {
		if len(problems) > 6 {
			problems = append(problems[:6], fmt.Sprintf("... and %d more", len(problems)-6))
		}
		t.Errorf("%s: %s\n\t%s", label, orDescribe(q), strings.Join(problems, "\n\t"))
		return false
	}
	return true
}

// orCheckUsers compares Engine.Users for q with the oracle's user sets.
func orCheckUsers(t *testing.T, ctx context.Context, eng *insights.Engine, o *orOracle, label string, oq orQuery) {
	t.Helper()
	q := oq.q
	q.Filter = oq.f.api()
	cur, err := eng.Users(ctx, q)
	if err != nil {
		t.Errorf("%s: users %s: %v", label, orDescribe(q), err)
		return
	}
	got := map[string]bool{}
	for cur.Next() {
		u := cur.User()
		got[orKey(u.Start, u.Series, u.Offset, u.Groups)+"|"+u.UserKey] = true
	}
	if err := cur.Err(); err != nil {
		t.Errorf("%s: users %s: %v", label, orDescribe(q), err)
		return
	}
	exp, _ := o.expect(q, oq.f)
	want := map[string]bool{}
	for _, r := range exp {
		for _, u := range r.users {
			want[r.key()+"|"+o.keys[u]] = true
		}
	}
	var problems []string
	for k := range want {
		if !got[k] {
			problems = append(problems, "missing "+k)
		}
	}
	for k := range got {
		if !want[k] {
			problems = append(problems, "unexpected "+k)
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		n := len(problems)
		if n > 6 {
			problems = append(problems[:6], fmt.Sprintf("... and %d more", n-6))
		}
		t.Errorf("%s: users of %s: %d differences (%d expected entries, %d got)\n\t%s",
			label, orDescribe(q), n, len(want), len(got), strings.Join(problems, "\n\t"))
	}
}

func orD(y int, m time.Month, d int) insights.Date { return insights.Date{Year: y, Month: m, Day: d} }

// orQueries returns the queries compared after all events are in.
func orQueries() (queries []orQuery, users []orQuery) {
	type rng struct{ from, to insights.Date }
	var (
		rAll    = rng{orD(2024, 10, 15), orD(2025, 3, 24)} // Tue mid-month .. Mon
		rMid    = rng{orD(2024, 10, 30), orD(2025, 1, 17)} // Wed .. Fri, mid-month both ends
		rMonths = rng{orD(2024, 11, 1), orD(2025, 3, 1)}
		rNow    = rng{orD(2025, 3, 5), orD(2025, 3, 27)} // contains the clock's day, 25 Mar
		rFall   = rng{orD(2024, 10, 29), orD(2024, 11, 12)}
		rSpring = rng{orD(2025, 3, 6), orD(2025, 3, 13)}
		rLate   = rng{orD(2025, 1, 8), orD(2025, 3, 20)} // as-of metrics look back before From
	)
	const (
		app, os, fam, country = insights.DimAppID, insights.DimOS, insights.DimOSFamily, insights.DimCountry
		status, reason, code  = insights.DimStatus, insights.DimReason, insights.DimErrorCode
		typ, kind, mfaMethod  = insights.DimSignInType, insights.DimKind, insights.DimMFAMethod
		mfaResult, browser    = insights.DimMFAResult, insights.DimBrowser
	)
	all := orF{}
	fApp := fEq(app, "portal")
	fCountry := fIn(country, "US", "DE")
	fPrefix := fPre(app, "app-")
	fNotIOS := fNot(fEq(os, "iOS"))
	fOrF := fOr(fEq(app, "mail"), fEq(fam, "Android"))
	fNested := fAnd(fOr(fEq(app, "portal"), fPre(app, "app-")), fNot(fIn(country, "US", "")),
		fOr(fEq(fam, "Windows"), fNot(fEq(typ, "nonInteractiveUser"))))
	fPair := fAnd(fEq(app, "crm"), fEq(fam, "iOS")) // per-dimension sets over-count this
	fPair2 := fAnd(fEq(country, "DE"), fEq(os, "Windows 10"))
	fWinPre := fPre(os, "Windows")
	fLower := fEq(country, "us") // countries are upper-cased: matches nothing
	fFail := fEq(status, "failure")
	fNoOS := fEq(os, "")
	fNI := fEq(typ, "nonInteractiveUser")
	// Log fields, answered from the event log.
	fNet := fCIDR("10.1.0.0/16")
	fCityApp := fAnd(fEq(insights.DimCity, "Lyon"), fEq(app, "crm")) // one event has both
	fNotV6 := fOr(fNot(fCIDR("2001:db8::/32")), fIn(insights.DimUser, "user-0001@example.test", "user-0002@example.test"))
	fUsers := fPre(insights.DimUser, "user-00")
	filters := []orF{all, fApp, fCountry, fPrefix, fNotIOS, fOrF, fNested, fPair, fPair2, fWinPre, fLower, fNoOS, fNI,
		fNet, fCityApp, fNotV6, fUsers}

	add := func(m insights.Metric, r rng, g insights.Granularity, f orF, mod ...func(*insights.Query)) {
		q := insights.Query{Metric: m, From: r.from, To: r.to, Granularity: g}
		for _, fn := range mod {
			fn(&q)
		}
		queries = append(queries, orQuery{q, f})
	}
	days := func(n int) func(*insights.Query) { return func(q *insights.Query) { q.Days = n } }
	by := func(ds ...insights.Dimension) func(*insights.Query) {
		return func(q *insights.Query) { q.GroupBy = ds }
	}
	sunday := func(q *insights.Query) { q.WeekStart = 7 }
	top := func(n int, other bool) func(*insights.Query) {
		return func(q *insights.Query) { q.Top, q.Other = n, other }
	}

	// The basic user metrics at every granularity, filters rotating.
	fi := 0
	next := func() orF { fi++; return filters[fi%len(filters)] }
	for _, m := range []insights.Metric{insights.ActiveUsers, insights.SigningInUsers, insights.NewUsers, insights.ReturningUsers} {
		add(m, rMid, insights.Day, next())
		add(m, rAll, insights.Week, next())
		add(m, rMid, insights.Week, next(), sunday)
		add(m, rMid, insights.Month, next())
		add(m, rMid, insights.Total, all)
		add(m, rFall, insights.Day, all)
	}
	// Every filter on a few metrics.
	for _, f := range filters {
		add(insights.ActiveUsers, rMid, insights.Week, f)
		add(insights.NewUsers, rMonths, insights.Month, f)
		add(insights.Authentications, rMid, insights.Week, f)
	}
	add(insights.ActiveUsers, rMid, insights.Week, fFail) // 0: activities are successes
	add(insights.SigningInUsers, rMid, insights.Week, fFail)
	add(insights.SigningInUsers, rMonths, insights.Month, fEq(reason, "incomplete"))
	add(insights.ActiveUsers, rSpring, insights.Day, all)

	// As-of metrics.
	add(insights.RollingActiveUsers, rLate, insights.Day, all, days(7))
	add(insights.RollingActiveUsers, rMid, insights.Week, fApp, days(30))
	add(insights.RollingActiveUsers, rMid, insights.Month, fNested, days(1), by(fam))
	add(insights.InactiveUsers, rLate, insights.Day, all, days(30))
	add(insights.InactiveUsers, rMid, insights.Week, fApp, days(7), sunday)
	add(insights.InactiveUsers, rAll, insights.Total, fPair, days(90))
	add(insights.InactiveUsers, rMid, insights.Month, all, days(0))
	add(insights.InactiveUsers, rAll, insights.Week, fCountry, days(0), by(app))
	add(insights.InactiveUsers, rLate, insights.Month, all, days(60), by(app))
	add(insights.NeverActiveUsers, rAll, insights.Day, all)
	add(insights.NeverActiveUsers, rMid, insights.Week, fApp)
	add(insights.NeverActiveUsers, rMid, insights.Month, all, by(country))
	add(insights.TotalUsers, rAll, insights.Day, all)
	add(insights.TotalUsers, rMid, insights.Week, fPrefix)
	add(insights.TotalUsers, rMid, insights.Month, all, by(app))
	add(insights.Stickiness, rLate, insights.Day, all, days(7))
	add(insights.Stickiness, rMid, insights.Week, fNotIOS, days(30))
	add(insights.Stickiness, rMid, insights.Month, all, days(30), by(fam))

	// Lifecycle and retention.
	add(insights.Lifecycle, rFall, insights.Day, all)
	add(insights.Lifecycle, rMid, insights.Week, all)
	add(insights.Lifecycle, rMid, insights.Week, fOrF, sunday)
	add(insights.Lifecycle, rMid, insights.Month, all, by(app))
	add(insights.Retention, rMid, insights.Week, all)
	add(insights.Retention, rAll, insights.Month, fCountry)
	add(insights.Retention, rMid, insights.Week, all, sunday, by(country))
	add(insights.Retention, rSpring, insights.Day, fNested)

	// Event metrics.
	add(insights.Authentications, rFall, insights.Day, all)
	add(insights.Authentications, rMid, insights.Week, all, by(reason))
	add(insights.Authentications, rAll, insights.Month, fFail, by(code))
	add(insights.Authentications, rMid, insights.Total, all, by(typ))
	add(insights.Authentications, rSpring, insights.Day, fNot(fEq(status, "success")), by(status, reason))
	add(insights.Requests, rSpring, insights.Day, all)
	add(insights.Requests, rAll, insights.Week, all, by(kind))
	add(insights.Requests, rMid, insights.Total, fNotIOS)
	add(insights.Requests, rMonths, insights.Month, fEq(status, "success"), by(kind))
	add(insights.SignUps, rMid, insights.Day, all)
	add(insights.SignUps, rAll, insights.Week, all, by(country))
	add(insights.SignUps, rMid, insights.Month, fPrefix)
	add(insights.MFAChallenges, rMid, insights.Week, all, by(mfaMethod))
	add(insights.MFAChallenges, rAll, insights.Month, all, by(mfaResult))
	add(insights.MFAChallenges, rMid, insights.Total, fApp)
	add(insights.MFAChallenges, rFall, insights.Day, fEq(kind, "signIn"))
	add(insights.Registrations, rMid, insights.Week, all, by(insights.DimMethod))
	add(insights.Registrations, rAll, insights.Month, fEq(insights.DimAction, "removed"), by(reason))
	add(insights.Resets, rMid, insights.Week, all, by(insights.DimAction))
	add(insights.Resets, rAll, insights.Total, fApp, by(insights.DimMethod, reason))
	add(insights.MFAProtectedSignIns, rMid, insights.Week, all)
	add(insights.MFAProtectedSignIns, rMonths, insights.Month, fNet, by(app))
	add(insights.PasswordlessSignIns, rMid, insights.Week, fApp)
	add(insights.PasswordlessSignIns, rAll, insights.Total, all, by(fam))
	add(insights.MFAPolicyPrompts, rMid, insights.Month, all)
	add(insights.MFAPolicyPrompts, rAll, insights.Week, fCountry, by(mfaMethod))
	add(insights.MFAPolicyPrompts, rMid, insights.Total, fCityApp)
	add(insights.ConditionalAccessPolicies, rMid, insights.Week, all)
	add(insights.ConditionalAccessPolicies, rMonths, insights.Total, fNotIOS, by(status))
	add(insights.ConditionalAccessPolicies, rAll, insights.Month, all, top(2, true))
	add(insights.MFAPolicyPrompts, rAll, insights.Month, all, top(1, true))

	// Group-by on two dimensions.
	add(insights.ActiveUsers, rMid, insights.Week, all, by(country, app))
	add(insights.NewUsers, rMid, insights.Month, fNotIOS, by(fam, app))
	add(insights.Authentications, rMid, insights.Week, all, by(app, status))
	add(insights.SigningInUsers, rFall, insights.Day, all, by(browser, typ))

	// Top N, with and without "(other)".
	add(insights.ActiveUsers, rAll, insights.Week, all, by(app), top(2, true))
	add(insights.NewUsers, rMid, insights.Month, all, by(country, fam), top(3, true))
	add(insights.SigningInUsers, rFall, insights.Day, all, by(os), top(2, true))
	add(insights.InactiveUsers, rMid, insights.Week, all, days(30), by(app), top(2, true))
	add(insights.ActiveUsers, rMid, insights.Month, fNested, by(country), top(1, false))
	add(insights.Authentications, rMid, insights.Week, all, by(reason), top(3, true))
	add(insights.Requests, rMid, insights.Month, all, by(app), top(2, true))
	add(insights.MFAChallenges, rMid, insights.Week, all, by(mfaMethod), top(2, false))
	// Unfiltered, by one dimension, without "(other)": only the groups
	// that can rank are unioned (topbound.go).
	add(insights.ActiveUsers, rMid, insights.Week, all, by(country), top(1, false))
	add(insights.ActiveUsers, rAll, insights.Month, all, by(app), top(2, false))
	add(insights.ActiveUsers, rMid, insights.Total, all, by(os), top(3, false))

	// Edge cases: empty Or and In match nothing, Not of them everything;
	// a Wednesday week start; calendar-day inactivity; one-bucket retention.
	add(insights.ActiveUsers, rMid, insights.Week, fOr(fIn(app), fNot(fAnd())))
	add(insights.Authentications, rMid, insights.Week, fNot(fOr()), by(typ))
	add(insights.ActiveUsers, rMid, insights.Week, fApp, func(q *insights.Query) { q.WeekStart = 3 })
	add(insights.InactiveUsers, rFall, insights.Day, all, days(0))
	add(insights.Retention, rMid, insights.Total, fCountry)
	add(insights.Lifecycle, rAll, insights.Month, fNotIOS)

	// Entra's summary rows.
	add(insights.Summary, rMid, insights.Week, all)
	add(insights.Summary, rAll, insights.Month, fCountry)
	add(insights.Summary, rFall, insights.Total, all, by(fam))

	// Buckets containing the clock's present are incomplete.
	add(insights.ActiveUsers, rNow, insights.Day, all)
	add(insights.Authentications, rNow, insights.Week, all)
	add(insights.TotalUsers, rNow, insights.Week, all, sunday)

	uq := func(m insights.Metric, r rng, g insights.Granularity, f orF, mod ...func(*insights.Query)) {
		q := insights.Query{Metric: m, From: r.from, To: r.to, Granularity: g}
		for _, fn := range mod {
			fn(&q)
		}
		users = append(users, orQuery{q, f})
	}
	uq(insights.NewUsers, rMid, insights.Week, fApp)
	uq(insights.InactiveUsers, rMid, insights.Month, all, days(30))
	uq(insights.Lifecycle, rFall, insights.Week, all)
	uq(insights.NeverActiveUsers, rMid, insights.Month, fCountry)
	uq(insights.Retention, rMid, insights.Month, fNotIOS, by(fam))
	uq(insights.SigningInUsers, rFall, insights.Day, fFail)
	uq(insights.TotalUsers, rMonths, insights.Month, all, by(app))
	uq(insights.ActiveUsers, rMid, insights.Week, all, by(app), top(2, true))
	uq(insights.RollingActiveUsers, rSpring, insights.Total, fPair, days(28))
	return queries, users
}

func TestOracle(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(orZone)
	if err != nil {
		t.Fatal(err)
	}
	queries, userQueries := orQueries()
	for _, oq := range append(slices.Clone(queries), userQueries...) {
		used := map[insights.Dimension]bool{}
		oq.f.dimsUsed(used)
		for _, d := range oq.q.GroupBy {
			used[d] = true
		}
		for d := range used {
			if orSlot[d] < 0 {
				t.Fatalf("query uses %s, which the oracle does not derive", d)
			}
		}
	}
	for _, seed := range oracleSeeds() {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			orRunSeed(t, seed, loc, queries, userQueries)
		})
	}
}

func orRunSeed(t *testing.T, seed uint64, loc *time.Location, queries, userQueries []orQuery) {
	ctx := context.Background()
	now := time.Date(2025, time.March, 25, 15, 0, 0, 0, loc)
	y, m, d := now.Date()
	today := orCivil(y, m, d)
	// Seeds 1 and 2 answer on one goroutine and on four, whatever the
	// machine's cores; seed 3 takes the default. Seeds 1 and 2 checkpoint
	// often and keep little in memory (4 MiB and 256 KiB of some 13 MiB),
	// so that days are evicted and read back during the run (thousands of
	// times); seed 3 keeps every day.
	opts := map[uint64]insights.Options{
		1: {QueryParallelism: 1, MemoryLimit: 4 << 20, CheckpointBytes: 32 << 10},
		2: {QueryParallelism: 4, MemoryLimit: 256 << 10, CheckpointBytes: 2 << 20},
	}[seed]
	opts.Zone, opts.Now = orZone, func() time.Time { return now }
	eng, err := insights.Open(ctx, store.NewMemory(), &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	defer func() {
		if mem := eng.Memory(); opts.MemoryLimit != 0 && mem.Evictions == 0 {
			t.Errorf("seed %d: no day was evicted under a memory limit of %d bytes: %+v", seed, opts.MemoryLimit, mem)
		} else {
			t.Logf("seed %d: %+v", seed, mem)
		}
	}()
	start := time.Now()
	evs := orGenerate(seed, loc)
	batches := orBatches(seed, evs)

	// Feed in batches; between them, queries seal days that later batches
	// (the late events) change, and the answers must match the events fed so far.
	between := []orQuery{
		{insights.Query{Metric: insights.ActiveUsers, From: orStart, To: orD(2025, 3, 24), Granularity: insights.Day}, orF{}},
		{insights.Query{Metric: insights.NewUsers, From: orStart, To: orD(2025, 3, 24), Granularity: insights.Week}, fEq(insights.DimAppID, "mail")},
		{insights.Query{Metric: insights.Authentications, From: orStart, To: orD(2025, 3, 24), Granularity: insights.Week}, orF{}},
		{insights.Query{Metric: insights.InactiveUsers, From: orStart, To: orD(2025, 3, 24), Granularity: insights.Month, Days: 30}, orF{}},
		{insights.Query{Metric: insights.Requests, From: orStart, To: orD(2025, 3, 24), Granularity: insights.Day}, orF{}},
	}
	var fed []insights.Event
	for i, b := range batches {
		if err := eng.Add(ctx, b...); err != nil {
			t.Fatalf("seed %d: Add batch %d: %v", seed, i, err)
		}
		fed = append(fed, b...)
		if i == len(batches)-1 {
			break
		}
		// Compare with the oracle after the first batch, the last on-time
		// batch and the first late one; elsewhere only query (and seal).
		var o *orOracle
		if i == 0 || i == len(batches)-3 || i == len(batches)-2 {
			o = orBuild(fed, loc, today)
		}
		for j := 0; j < 2; j++ {
			oq := between[(i*2+j)%len(between)]
			if o != nil {
				orCheck(t, ctx, eng, o, fmt.Sprintf("seed %d after batch %d", seed, i), oq)
				continue
			}
			q := oq.q
			q.Filter = oq.f.api()
			if _, err := eng.Query(ctx, q); err != nil {
				t.Errorf("seed %d after batch %d: query %s: %v", seed, i, orDescribe(q), err)
			}
		}
	}
	o := orBuild(fed, loc, today)
	t.Logf("seed %d: %d events fed in %d batches, %d after deduplication, %d user keys (%v)",
		seed, len(fed), len(batches), len(o.recs), len(o.keys), time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// The data must tell event-level filters from per-dimension sets: some
	// week has users on app crm (other OS) and on iOS (other app) who never
	// used crm on iOS.
	overCount := false
	for _, b := range orBuckets(insights.Query{From: orD(2024, 10, 30), To: orD(2025, 1, 17), Granularity: insights.Week}, today) {
		crm := o.activeIn(fEq(insights.DimAppID, "crm"), b.s, b.e)
		ios := o.activeIn(fEq(insights.DimOSFamily, "iOS"), b.s, b.e)
		pair := o.activeIn(fAnd(fEq(insights.DimAppID, "crm"), fEq(insights.DimOSFamily, "iOS")), b.s, b.e)
		if len(orIntersect(crm, ios)) > len(pair) {
			overCount = true
		}
	}
	if !overCount {
		t.Errorf("seed %d: the data never makes per-dimension sets over-count", seed)
	}

	failed := 0
	for i, oq := range queries {
		if testing.Short() && i%2 == 1 {
			continue
		}
		if !orCheck(t, ctx, eng, o, fmt.Sprintf("seed %d query %d", seed, i), oq) {
			failed++
		}
	}
	for i, oq := range userQueries {
		orCheckUsers(t, ctx, eng, o, fmt.Sprintf("seed %d user query %d", seed, i), oq)
	}
	t.Logf("seed %d: %d queries, %d disagree with the oracle; %d user lists (%v)",
		seed, len(queries), failed, len(userQueries), time.Since(start).Round(time.Millisecond))
}

// oracleSeeds are the seeds of the oracle tests: three, or only the first
// under the race detector, which makes these comparisons about ten times
// slower and finds nothing in them that the concurrency tests miss (they
// run on one goroutine but for the background checkpoints, which the
// first seed exercises). .ci/run runs every seed without it as well.
func oracleSeeds() []uint64 {
	if insights.RaceEnabled {
		return []uint64{1}
	}
	return []uint64{1, 2, 3}
}
