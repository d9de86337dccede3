package main

// The sign-in log's fields (SPEC §7) as the generator makes them: request
// and correlation ids, client address, city, user agent, authentication
// steps, MFA and conditional-access policies. Every value is a function of
// (seed, day, index in the day, generated event), so the engine, DuckDB and
// the scan see the same ones without storing them twice.

import (
	"strconv"
	"time"

	"github.com/insightslab/insights"
)

// Address plan: each country owns a few /16 blocks of an ISP's space (8 for
// the ten largest, 2 for the others). A user's home address sits in one of
// the home country's blocks; 12% of home-country events come from another
// address in those blocks (a phone on a mobile network, another office);
// events abroad come from a block of the visited country. Workloads sign in
// from 20.0.0.0/16, which no country block uses.

// blocksOf is the number of /16 blocks of country c.
func blocksOf(c uint8) int {
	if c <= 10 {
		return 8
	}
	return 2
}

// countryBlock returns the k-th /16 block of country c, first octet 24–216
// (not 127).
func countryBlock(c uint8, k int) uint32 {
	h := splitmix(uint64(c)<<8 | uint64(k) ^ 0xB10C)
	first := uint32(24 + h%192)
	if first == 127 {
		first = 217
	}
	return first<<24 | uint32(h>>8&0xff)<<16
}

// ipNum is the client address of event i of day d, by user (negative: a
// principal) from country.
func (g *generator) ipNum(d, i int, user int32, country uint8) uint32 {
	if user < 0 {
		return 0x14000000 | uint32(-user)<<8 | uint32(i&0xff) // 20.0.x.x, a cloud
	}
	a := &g.users[user]
	h := splitmix(g.cfg.Seed ^ 0x1F<<56 ^ uint64(d)<<32 ^ uint64(i))
	switch {
	case country != a.home:
		return countryBlock(country, int(h%uint64(blocksOf(country)))) | uint32(h>>32)&0xffff
	case h%100 < 12:
		return countryBlock(a.home, int(h>>8%uint64(blocksOf(a.home)))) | uint32(h>>32)&0xffff
	}
	return a.ip
}

// ipOf is ipNum in dotted form.
func (g *generator) ipOf(d, i int, user int32, country uint8) string {
	return ipString(g.ipNum(d, i, user, country))
}

func ipString(ip uint32) string {
	b := make([]byte, 0, 15)
	for s := 24; s >= 0; s -= 8 {
		b = strconv.AppendUint(b, uint64(ip>>s&0xff), 10)
		if s > 0 {
			b = append(b, '.')
		}
	}
	return string(b)
}

// cityNames: the main cities of the largest markets, largest first; other
// countries have their capital and a second city.
var cityNames = map[string][]string{
	"US": {"New York", "Los Angeles", "Chicago", "Houston", "Seattle", "San Francisco", "Atlanta", "Boston", "Dallas", "Denver"},
	"IN": {"Bengaluru", "Mumbai", "New Delhi", "Hyderabad", "Chennai", "Pune"},
	"GB": {"London", "Manchester", "Birmingham", "Edinburgh", "Leeds"},
	"DE": {"Berlin", "Munich", "Hamburg", "Frankfurt am Main", "Cologne"},
	"BR": {"São Paulo", "Rio de Janeiro", "Belo Horizonte", "Brasília"},
	"FR": {"Paris", "Lyon", "Marseille", "Toulouse"},
	"JP": {"Tokyo", "Osaka", "Yokohama", "Nagoya"},
	"CA": {"Toronto", "Montréal", "Vancouver", "Calgary"},
	"AU": {"Sydney", "Melbourne", "Brisbane", "Perth"},
	"MX": {"Mexico City", "Guadalajara", "Monterrey"},
}

// cities returns country c's cities, largest first.
func cities(c uint8) []string {
	if c == 0 {
		return []string{""}
	}
	return cityNames[countryCodes[c]]
}

// init gives every other country two cities.
func init() {
	for _, code := range countryCodes[1:] {
		if _, ok := cityNames[code]; !ok {
			cityNames[code] = []string{code + " Capital", code + " Second City"}
		}
	}
}

// pickCity draws a city index of country c from x in [0, 1): the first
// city half the time, then each next one half as likely.
func pickCity(c uint8, x float64) uint8 {
	n := len(cities(c))
	for k := range n - 1 {
		if x < 0.5 {
			return uint8(k)
		}
		x = (x - 0.5) * 2
	}
	return uint8(n - 1)
}

// cityOf is the city of event i of day d: the user's home city at home, a
// city of the visited country abroad, none for principals.
func (g *generator) cityOf(d, i int, user int32, country uint8) string {
	if user < 0 {
		return ""
	}
	a := &g.users[user]
	if country == a.home {
		return cities(country)[a.city]
	}
	h := splitmix(g.cfg.Seed ^ 0xC1<<56 ^ uint64(d)<<32 ^ uint64(i))
	return cities(country)[pickCity(country, float64(h>>11)/(1<<53))]
}

// correlationID groups the requests of one sign-in flow: an MFA prompt's
// completion and a retried sign-up share the first request's.
func (g *generator) correlationID(d, i int, e *ev) string {
	if e.follow && i > 0 {
		i--
	}
	a := splitmix(g.cfg.Seed ^ 0xC0<<56 ^ uint64(d)<<32 ^ uint64(i))
	return guid(a, splitmix(a^0xC0))
}

// userAgents[os][browser][client] is the user agent string of a device.
var userAgents = func() (t [9][8][4]string) {
	for os := range t {
		for br := range t[os] {
			for cl := range t[os][br] {
				t[os][br][cl] = userAgent(uint8(os), uint8(br), uint8(cl))
			}
		}
	}
	return t
}()

func userAgent(os, browser, client uint8) string {
	platform := map[string]string{
		"Windows 10": "Windows NT 10.0; Win64; x64", "Windows 11": "Windows NT 10.0; Win64; x64",
		"MacOs": "Macintosh; Intel Mac OS X 10_15_7", "Linux": "X11; Linux x86_64", "ChromeOS": "X11; CrOS x86_64 15633.69.0",
		"iOS": "iPhone; CPU iPhone OS 17_2 like Mac OS X", "iPadOS": "iPad; CPU OS 17_2 like Mac OS X",
		"Android": "Linux; Android 14; K", "": "compatible",
	}[osNames[os]]
	switch client {
	case 2: // a native app through an authentication library
		switch osNames[os] {
		case "iOS", "iPadOS":
			return "MSAL.iOS/1.2.22 (" + osNames[os] + " 17.2)"
		case "Android":
			return "MSAL.Android/5.1.0 (Android 14; SM-S918B)"
		case "MacOs":
			return "Microsoft Office/16.0 (Macintosh; Mac OS X 14.2; Microsoft Outlook 16.80)"
		}
		return "Microsoft Office/16.0 (" + platform + "; Microsoft Outlook 16.0.17126; Pro)"
	case 3: // a legacy protocol
		if osNames[os] == "iOS" || osNames[os] == "iPadOS" {
			return "Apple-iPhone15C2/2102.60"
		}
		return "Microsoft-Server-ActiveSync/16.0"
	}
	const webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
	switch browserNames[browser] {
	case "Edge 120.0.2210":
		return "Mozilla/5.0 (" + platform + ") " + webkit + " Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
	case "Chrome 120.0.6099":
		return "Mozilla/5.0 (" + platform + ") " + webkit + " Chrome/120.0.6099.130 Safari/537.36"
	case "Firefox 121.0":
		return "Mozilla/5.0 (" + platform + "; rv:121.0) Gecko/20100101 Firefox/121.0"
	case "Safari 17.2":
		return "Mozilla/5.0 (" + platform + ") AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
	case "Mobile Safari 17.2":
		return "Mozilla/5.0 (" + platform + ") AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
	case "Chrome Mobile 120.0":
		if osNames[os] == "Android" {
			return "Mozilla/5.0 (" + platform + ") " + webkit + " Chrome/120.0.6099.144 Mobile Safari/537.36"
		}
		return "Mozilla/5.0 (" + platform + ") AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"
	case "Samsung Internet 23.0":
		return "Mozilla/5.0 (" + platform + ") " + webkit + " SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
	}
	return ""
}

// Result details of authentication steps.
var (
	primaryFailures = map[int32]string{
		50126: "Invalid username or password or Invalid on-premise username or password.",
		50053: "Account is locked because the user tried to sign in too many times with an incorrect user ID or password.",
		50055: "The password is expired.",
		50057: "The user account is disabled.",
		50144: "The user's Active Directory password has expired.",
	}
	mfaDetails = []string{"", "MFA successfully completed", "MFA denied; user declined the authentication",
		"MFA denied; user did not respond to mobile app notification", "MFA denied; phone unreachable",
		"MFA denied; unknown result"}
)

// authDetails returns the authentication steps of an interactive user
// sign-in (nil otherwise): the password, then on an MFA sign-in the
// challenge performed or the claim that satisfied it.
func authDetails(t time.Time, e *ev) []insights.AuthStep {
	if e.kind != insights.KindSignIn || e.sit != insights.SignInInteractiveUser {
		return nil
	}
	pw := insights.AuthStep{Time: t, Method: "Password", Succeeded: true, ResultDetail: "Correct password",
		Requirement: insights.RequirementSingleFactor}
	if detail, failed := primaryFailures[e.code]; failed {
		pw.Succeeded, pw.ResultDetail = false, detail
		return []insights.AuthStep{pw}
	}
	switch {
	case e.mfaM != 0:
		return []insights.AuthStep{pw, {Time: t, Method: mfaMethods[e.mfaM], Succeeded: e.mfaR == mfaResSuccess,
			ResultDetail: mfaDetails[e.mfaR], Requirement: insights.RequirementMultiFactor}}
	case e.req == reqMulti && e.status == insights.StatusSuccess:
		return []insights.AuthStep{pw, {Time: t, Method: insights.MethodPreviouslySatisfied, Succeeded: true,
			ResultDetail: "MFA requirement satisfied by claim in the token", Requirement: insights.RequirementMultiFactor}}
	}
	return []insights.AuthStep{pw}
}

// The policies: shared slices (Add copies what it keeps).
var (
	mfaPolicyNames = [][]string{{"Require MFA for all users"}, {"Require MFA outside trusted locations"}, {"Require MFA for Azure management"}}
	caSets         = [][]insights.PolicyResult{
		{{Name: "Require MFA for all users", Result: "success"}, {Name: "Block legacy authentication", Result: "notApplied"}},
		{{Name: "Require MFA outside trusted locations", Result: "success"}, {Name: "Require compliant or hybrid joined device", Result: "notApplied"}, {Name: "Block legacy authentication", Result: "notApplied"}},
		{{Name: "Require compliant or hybrid joined device", Result: "success"}},
		{{Name: "Sign-in frequency 12 hours for unmanaged devices", Result: "success"}, {Name: "Block legacy authentication", Result: "notApplied"}},
	}
	caFailed = [][]insights.PolicyResult{
		{{Name: "Block access from untrusted countries", Result: "failure"}, {Name: "Require MFA for all users", Result: "notApplied"}},
		{{Name: "Require compliant or hybrid joined device", Result: "failure"}},
	}
)

// mfaPolicies names the policy that required MFA on an interactive MFA sign-in.
func mfaPolicies(e *ev) []string {
	if e.kind != insights.KindSignIn || e.sit != insights.SignInInteractiveUser || e.req != reqMulti {
		return nil
	}
	return mfaPolicyNames[int(e.app)%len(mfaPolicyNames)]
}

// caPolicies lists the conditional-access policies applied to a sign-in
// whose CA status is success or failure (none when not applied).
func caPolicies(d, i int, e *ev) []insights.PolicyResult {
	h := splitmix(uint64(d)<<32 ^ uint64(i) ^ 0xCA)
	switch e.ca {
	case caSuccess:
		return caSets[h%uint64(len(caSets))]
	case caFailure:
		return caFailed[h%uint64(len(caFailed))]
	}
	return nil
}
