package risk

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// at is a time of the hand-written cases, aligned on the hour so that a
// case stays inside one window bucket.
func at(d time.Duration) int64 { return trafficStart.Add(24*time.Hour + d).UnixNano() }

type events []Observation

func (es *events) add(o Observation) {
	o.Ref = Ref(len(*es) + 1)
	*es = append(*es, o)
}

func failure(user string, t int64) Observation {
	return Observation{Time: t, Kind: KindSignIn, User: user, Status: StatusFailure, FirstFactorFailure: true, App: "a",
		IP: netip.MustParseAddr("198.51.100.9")}
}

func success(user string, t int64) Observation {
	return Observation{Time: t, Kind: KindSignIn, User: user, Status: StatusSuccess, App: "a", IP: netip.MustParseAddr("198.51.100.9")}
}

// levels returns the detections of es as "type/level" counts, after
// checking them against the oracle.
func levels(t *testing.T, es events) map[string]int {
	t.Helper()
	got := Detect(Options{}, append(events(nil), es...))
	sameDetections(t, "oracle", got, oracle(Options{}, es))
	return countByType(got)
}

func TestThresholds(t *testing.T) {
	min := time.Minute
	cases := []struct {
		name  string
		build func(es *events)
		want  map[string]int
	}{
		{"9 failures in 10 min: no brute force", func(es *events) {
			for i := range 9 {
				es.add(failure("v", at(time.Duration(i)*min)))
			}
		}, map[string]int{}},
		{"10 failures in 10 min: brute force", func(es *events) {
			for i := range 10 {
				es.add(failure("v", at(time.Duration(i)*min)))
			}
		}, map[string]int{"bruteForce/medium": 1}},
		{"10 failures over 10 min exactly: the first leaves the window", func(es *events) {
			for i := range 10 {
				es.add(failure("v", at(time.Duration(i)*10*min/9)))
			}
		}, map[string]int{}},
		{"a success 1 h after the last failure: high", func(es *events) {
			for i := range 10 {
				es.add(failure("v", at(time.Duration(i)*min)))
			}
			es.add(success("v", at(9*min+time.Hour)))
		}, map[string]int{"bruteForce/high": 1}},
		{"a success 1 h 1 ns after the last failure: medium", func(es *events) {
			for i := range 10 {
				es.add(failure("v", at(time.Duration(i)*min)))
			}
			es.add(success("v", at(9*min+time.Hour+1)))
		}, map[string]int{"bruteForce/medium": 1}},
		{"failures across a bucket boundary: two detections", func(es *events) {
			for i := range 20 {
				es.add(failure("v", at(time.Duration(i)*min/2+5*min)))
			}
		}, map[string]int{"bruteForce/medium": 2}},
		{"4 MFA denials: no fatigue", func(es *events) {
			for i := range 4 {
				es.add(Observation{Time: at(time.Duration(i) * min), Kind: KindMFA, User: "v", MFA: MFADenied})
			}
		}, map[string]int{}},
		{"5 MFA denials then an approval: high fatigue", func(es *events) {
			for i := range 5 {
				es.add(Observation{Time: at(time.Duration(i) * min), Kind: KindMFA, User: "v", MFA: MFADenied})
			}
			es.add(Observation{Time: at(50 * min), Kind: KindMFA, User: "v", MFA: MFAApproved})
		}, map[string]int{"mfaFatigue/high": 1}},
		{"spray on 19 users: none", func(es *events) { spray(es, 19, 0) }, map[string]int{}},
		{"spray on 20 users: medium", func(es *events) { spray(es, 20, 0) }, map[string]int{"passwordSpray/medium": 1}},
		// 20 failures and 5 successes: 80% failing; 6 successes: 76.9%.
		{"spray at 80% failing", func(es *events) { spray(es, 20, 5) }, map[string]int{"passwordSpray/medium": 1}},
		{"spray at 77% failing: none", func(es *events) { spray(es, 20, 6) }, map[string]int{}},
		{"spray, then a target succeeds 24 h after its failure: high", func(es *events) {
			spray(es, 20, 0)
			es.add(fromSpray(success("s0", at(24*time.Hour))))
		}, map[string]int{"passwordSpray/medium": 1, "passwordSpray/high": 1}},
		{"spray, then a target succeeds twice: one high", func(es *events) {
			spray(es, 20, 0)
			es.add(fromSpray(success("s0", at(2*time.Hour))))
			es.add(fromSpray(success("s0", at(3*time.Hour))))
		}, map[string]int{"passwordSpray/medium": 1, "passwordSpray/high": 1}},
		{"spray, then a target succeeds 24 h 1 ns after: medium only", func(es *events) {
			spray(es, 20, 0)
			es.add(fromSpray(success("s0", at(24*time.Hour+1))))
		}, map[string]int{"passwordSpray/medium": 1}},
		{"49 sign-ups: none", func(es *events) { signUps(es, 49) }, map[string]int{}},
		{"50 sign-ups: flood", func(es *events) { signUps(es, 50) }, map[string]int{"signUpFlood/medium": 1}},
		{"new country and OS after 4 sign-ins: none", func(es *events) { unfamiliar(es, 4) }, map[string]int{}},
		{"new country and OS after 5 sign-ins: low", func(es *events) { unfamiliar(es, 5) }, map[string]int{"unfamiliarSignInProperties/low": 1}},
		{"new country and new /16 only: low", func(es *events) {
			unfamiliar(es, 5)
			last := &(*es)[5]
			last.OSFamily, last.IP = "Windows", netip.MustParseAddr("203.0.113.1")
		}, map[string]int{"unfamiliarSignInProperties/low": 1}},
		{"new country alone: none", func(es *events) {
			unfamiliar(es, 5)
			(*es)[5].OSFamily = "Windows"
		}, map[string]int{}},
		{"history 30 days old exactly counts", func(es *events) {
			unfamiliar(es, 5)
			(*es)[4].Time = at(-30 * 24 * time.Hour)
		}, map[string]int{"unfamiliarSignInProperties/low": 1}},
		{"history 30 days and 1 ns old does not", func(es *events) {
			unfamiliar(es, 5)
			(*es)[4].Time = at(-30*24*time.Hour - 1)
		}, map[string]int{}},
		{"Paris then Tokyo 40 min later: travel", func(es *events) { travel(es, 40*time.Minute) }, map[string]int{"atypicalTravel/medium": 1}},
		{"new country and new /16 only: low", func(es *events) {
			unfamiliar(es, 5)
			last := &(*es)[5]
			last.OSFamily, last.IP = "Windows", netip.MustParseAddr("203.0.113.1")
		}, map[string]int{"unfamiliarSignInProperties/low": 1}},
		{"new country alone: none", func(es *events) {
			unfamiliar(es, 5)
			(*es)[5].OSFamily = "Windows"
		}, map[string]int{}},
		{"history 30 days old exactly counts", func(es *events) {
			unfamiliar(es, 5)
			(*es)[4].Time = at(-30 * 24 * time.Hour)
		}, map[string]int{"unfamiliarSignInProperties/low": 1}},
		{"history 30 days and 1 ns old does not", func(es *events) {
			unfamiliar(es, 5)
			(*es)[4].Time = at(-30*24*time.Hour - 1)
		}, map[string]int{}},
		{"Paris and Tokyo at the same instant: travel", func(es *events) { travel(es, 0) }, map[string]int{"atypicalTravel/medium": 1}},
		{"Paris then Tokyo 11 h later: plausible", func(es *events) { travel(es, 11*time.Hour) }, map[string]int{}},
		{"20 failures of an app in an hour: none", func(es *events) { spike(es, 20) }, map[string]int{}},
		{"21 failures of an app in an hour: spike", func(es *events) { spike(es, 21) }, map[string]int{"failureSpike/low": 1}},
		// The same hour of the previous weeks: 5, 5, 9, 9 failures,
		// median 7, threshold 21.
		{"22 failures over a history of median 7: spike", func(es *events) { spikeOver(es, 22) }, map[string]int{"failureSpike/low": 1}},
		{"21 failures over a history of median 7: none", func(es *events) { spikeOver(es, 21) }, map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var es events
			c.build(&es)
			if got := levels(t, es); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// spray adds failed first-factor sign-ins against n users and ok
// successes of other users from one /24 within a minute.
func spray(es *events, n, ok int) {
	for i := range n {
		o := failure(fmt.Sprintf("s%d", i), at(time.Duration(i)*time.Second))
		o.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		es.add(o)
	}
	for i := range ok {
		o := success(fmt.Sprintf("ok%d", i), at(time.Duration(i)*time.Second))
		o.IP = netip.MustParseAddr("203.0.113.250")
		es.add(o)
	}
	// Later sign-ins of the targets from elsewhere do not raise it.
	es.add(success("s1", at(time.Hour)))
}

func fromSpray(o Observation) Observation {
	o.IP = netip.MustParseAddr("203.0.113.77")
	return o
}

func signUps(es *events, n int) {
	for i := range n {
		es.add(Observation{Time: at(time.Duration(i) * time.Second), Kind: KindSignUp, User: fmt.Sprint("n", i),
			Status: StatusSuccess, IP: netip.MustParseAddr("198.18.7.1")})
	}
}

func unfamiliar(es *events, history int) {
	for i := range history {
		o := success("h", at(-time.Duration(i+1)*24*time.Hour))
		o.Country, o.OSFamily, o.BrowserFamily = "FR", "Windows", "Edge"
		es.add(o)
	}
	o := success("h", at(0))
	o.Country, o.OSFamily, o.BrowserFamily = "BR", "Linux", "Edge"
	es.add(o)
}

func travel(es *events, gap time.Duration) {
	p := success("t", at(0))
	p.Lat, p.Lon = 48.8566, 2.3522
	es.add(p)
	k := success("t", at(gap))
	k.Lat, k.Lon = 35.6762, 139.6503
	es.add(k)
}

func spike(es *events, n int) {
	for i := range n {
		es.add(Observation{Time: at(time.Duration(i) * time.Minute), Kind: KindSignIn, Principal: true, Status: StatusFailure, App: "hr"})
	}
}

func spikeOver(es *events, n int) {
	for w, c := range []int{5, 5, 9, 9} {
		for i := range c {
			es.add(Observation{Time: at(-time.Duration(w+1)*7*24*time.Hour + time.Duration(i)*time.Second), Kind: KindSignIn,
				Principal: true, Status: StatusFailure, App: "hr"})
		}
	}
	for i := range n {
		es.add(Observation{Time: at(time.Duration(i) * time.Second), Kind: KindSignIn, Principal: true, Status: StatusFailure, App: "hr"})
	}
}
