package risk

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

var (
	trafficStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	sprayIP      = netip.MustParseAddr("203.0.113.7")
	floodIP      = netip.MustParseAddr("198.51.100.200")
	maliciousIP  = netip.MustParseAddr("192.0.2.66")
	anonIP       = netip.MustParseAddr("2001:db8:dead::1")
	listOptions  = Options{Malicious: []netip.Prefix{netip.MustParsePrefix("192.0.2.64/28")},
		Anonymized: []netip.Prefix{netip.MustParsePrefix("2001:db8:dead::/48")}}
)

type city struct {
	country  string
	lat, lon float64
}

var cities = []city{{"FR", 48.8566, 2.3522}, {"DE", 52.52, 13.405}, {"US", 40.7128, -74.006}, {"GB", 51.5074, -0.1278}}

// traffic generates days of ordinary sign-ins of users, with the attacks
// of issue #18 injected: a spray from one /24 across 500 users with a few
// successes after it, a brute force with a success, an MFA-fatigue burst
// with an approval, Paris then Tokyo 40 minutes later, a user from a new
// country on a new OS, sign-ins from listed addresses, a failure spike and
// a sign-up flood.
func traffic(seed uint64, users, days int) []Observation {
	rng := rand.New(rand.NewPCG(seed, 1))
	var obs []Observation
	add := func(o Observation) {
		o.Ref = Ref(len(obs) + 1)
		obs = append(obs, o)
	}
	at := func(day int, h, m int) int64 {
		return trafficStart.Add(time.Duration(day)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
			time.Duration(rng.IntN(60))*time.Second).UnixNano()
	}
	type profile struct {
		key       string
		home      city
		os, brows string
		ip        netip.Addr
	}
	ps := make([]profile, users)
	for i := range ps {
		ps[i] = profile{key: fmt.Sprintf("u%d", i), home: cities[rng.IntN(len(cities))],
			os: []string{"Windows", "macOS", "iOS"}[rng.IntN(3)], brows: []string{"Edge", "Chrome", "Safari"}[rng.IntN(3)],
			ip: netip.AddrFrom4([4]byte{100, byte(64 + rng.IntN(4)), byte(rng.IntN(256)), byte(1 + rng.IntN(250))})}
	}
	signIn := func(p profile, t int64, st Status) Observation {
		o := Observation{Time: t, Kind: KindSignIn, User: p.key, Status: st, App: []string{"portal", "mail", "hr"}[rng.IntN(3)],
			IP: p.ip, Country: p.home.country, OSFamily: p.os, BrowserFamily: p.brows, Lat: p.home.lat, Lon: p.home.lon}
		o.FirstFactorFailure = st == StatusFailure && rng.IntN(2) == 0
		if st == StatusSuccess && rng.IntN(3) == 0 {
			o.MFA, o.Remedy = MFAApproved, true
		}
		return o
	}
	for d := range days {
		for _, p := range ps {
			for range rng.IntN(3) {
				st := StatusSuccess
				if r := rng.IntN(20); r == 0 {
					st = StatusFailure
				} else if r == 1 {
					st = StatusOther
				}
				add(signIn(p, at(d, 7+rng.IntN(12), rng.IntN(60)), st))
			}
		}
		if rng.IntN(3) == 0 { // an occasional principal failure
			add(Observation{Time: at(d, rng.IntN(24), 0), Kind: KindSignIn, Principal: true, Status: StatusFailure, App: "api"})
		}
	}
	last := days - 1
	// A password spray from one /24 across 500 users, some unknown, then
	// three of the targeted users succeed from it.
	for i := range 500 {
		o := Observation{Time: at(last-3, 10, i%50), Kind: KindSignIn, Status: StatusFailure, FirstFactorFailure: true,
			App: "portal", IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%200)})}
		if i%7 != 0 {
			o.User = ps[i%len(ps)].key
			if i >= len(ps) {
				o.User = fmt.Sprintf("ghost%d", i)
			}
		}
		add(o)
	}
	for i := range 3 {
		o := signIn(ps[i+1], at(last-3, 13+i, 0), StatusSuccess)
		o.IP = sprayIP
		add(o)
	}
	// A brute force on one user, then a success.
	bf := ps[10%len(ps)]
	for i := range 12 {
		o := signIn(bf, at(last-2, 9, i/3), StatusFailure)
		o.FirstFactorFailure = true
		add(o)
	}
	add(signIn(bf, at(last-2, 9, 30), StatusSuccess))
	// MFA fatigue, then an approval.
	mf := ps[11%len(ps)]
	for i := range 6 {
		add(Observation{Time: at(last-2, 14, i*5), Kind: KindMFA, User: mf.key, Status: StatusFailure, MFA: MFADenied})
	}
	add(Observation{Time: at(last-2, 14, 40), Kind: KindMFA, User: mf.key, Status: StatusSuccess, MFA: MFAApproved})
	// Paris, then Tokyo 40 minutes later.
	tr := ps[12%len(ps)]
	p := signIn(tr, at(last-1, 8, 0), StatusSuccess)
	p.Country, p.Lat, p.Lon = "FR", 48.8566, 2.3522
	add(p)
	tk := signIn(tr, p.Time+int64(40*time.Minute), StatusSuccess)
	tk.Country, tk.Lat, tk.Lon = "JP", 35.6762, 139.6503
	add(tk)
	// A user from a new country on a new OS.
	nc := signIn(ps[13%len(ps)], at(last, 9, 0), StatusSuccess)
	nc.Country, nc.OSFamily, nc.Lat, nc.Lon = "BR", "Linux", 0, 0
	add(nc)
	// Listed addresses.
	for i := range 3 {
		o := signIn(ps[14%len(ps)], at(last, 10, i), StatusSuccess)
		o.IP = maliciousIP
		add(o)
		o = signIn(ps[15%len(ps)], at(last, 11, i), StatusFailure)
		o.IP = anonIP
		add(o)
	}
	// A failure spike on one app.
	for i := range 40 {
		add(Observation{Time: at(last, 15, i), Kind: KindSignIn, Status: StatusFailure, App: "hr",
			User: ps[(20+i)%len(ps)].key, IP: ps[(20+i)%len(ps)].ip})
	}
	// A sign-up flood.
	for i := range 60 {
		add(Observation{Time: at(last, 16, i/2), Kind: KindSignUp, User: fmt.Sprintf("new%d", i), Status: StatusSuccess, IP: floodIP})
	}
	// Decisions and a password reset.
	add(Observation{Time: at(last, 20, 0), Kind: KindDecision, User: ps[12%len(ps)].key, Decision: Dismissed})
	add(Observation{Time: at(last, 20, 5), Kind: KindDecision, User: ps[14%len(ps)].key, Decision: ConfirmedCompromised})
	add(Observation{Time: at(last, 21, 0), Kind: KindRemedy, User: ps[10%len(ps)].key, Status: StatusSuccess, Remedy: true})
	rng.Shuffle(len(obs), func(i, j int) { obs[i], obs[j] = obs[j], obs[i] })
	return obs
}
