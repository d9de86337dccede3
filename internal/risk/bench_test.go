package risk

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDetectorAdd folds sign-ins of 100,000 users from 10,000
// addresses in order, 5% failing with a bad password, 10 per second of
// event time, numbered as the engine numbers them (UserNumber): the
// detector's own cost per event, and its state. With 100,000 users a
// run of under a million events mostly sees users for the first time;
// the 5,000-user case is the steady state (each user seen again about
// every 500 s of event time).
func BenchmarkDetectorAdd(b *testing.B) {
	for _, c := range []struct {
		users   int
		horizon time.Duration
	}{{100_000, 15 * time.Minute}, {100_000, 2 * time.Hour}, {5_000, 2 * time.Hour}} {
		b.Run(fmt.Sprintf("users=%d/lateHorizon=%s", c.users, c.horizon), func(b *testing.B) { benchmarkDetectorAdd(b, c.users, c.horizon) })
	}
}

func benchmarkDetectorAdd(b *testing.B, nUsers int, horizon time.Duration) {
	users, ips := make([]string, nUsers), make([]netip.Addr, 10_000)
	for i := range users {
		users[i] = fmt.Sprint("user", i)
	}
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{100, byte(64 + i%8), byte(i / 256 % 256), byte(1 + i%250)})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	d := New(Options{LateHorizon: horizon})
	t0 := trafficStart.UnixNano()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		u := rng.IntN(len(users))
		o := Observation{Time: t0 + int64(n)*int64(100*time.Millisecond), Ref: Ref(n), Kind: KindSignIn, User: users[u], UserNumber: uint32(u + 1),
			Status: StatusSuccess, App: "portal", IP: ips[u%len(ips)], Country: "FR", OSFamily: "Windows", BrowserFamily: "Edge",
			Lat: 48.85, Lon: 2.35}
		if rng.IntN(20) == 0 {
			o.Status, o.FirstFactorFailure = StatusFailure, true
		}
		if err := d.Add(&o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.Keys()), "keys")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d.Compact()
	runtime.KeepAlive(d)
	d = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(before.HeapAlloc)-float64(after.HeapAlloc), "state-bytes")
}

// BenchmarkDetectorTraffic folds, in order, 30 days of traffic's ordinary
// sign-ins of 20,000 users (about one a user a day, spread over working
// hours, as in the bench's risk phase) with its attacks: the detector's
// cost per event where most keys' buffers empty between two events. The
// users come with their keys alone (keys), or numbered as the engine
// numbers them (numbered: Observation.UserNumber, the engine's case).
// users=100000 is 10 days of 100,000 numbered users (a million events):
// the engine's case, where the states of the keys touched no longer fit
// the caches, as 20,000 users' do. cpu-ns/event is the process's CPU time
// (every goroutine, the garbage collector's included) per event: on a
// shared host it moves less than ns/event.
func BenchmarkDetectorTraffic(b *testing.B) {
	obs := traffic(1, 20_000, 30)
	slices.SortFunc(obs, func(a, b Observation) int { return compare(&a, &b) })
	b.Run("keys", func(b *testing.B) { benchmarkTraffic(b, obs) })
	b.Run("numbered", func(b *testing.B) { benchmarkTraffic(b, numbered(slices.Clone(obs))) })
	b.Run("users=100000/numbered", func(b *testing.B) {
		obs := traffic(1, 100_000, 10)
		slices.SortFunc(obs, func(a, b Observation) int { return compare(&a, &b) })
		benchmarkTraffic(b, numbered(obs))
	})
}

// numbered sets obs's UserNumber as the engine does (its number of the
// user plus one) and returns obs.
func numbered(obs []Observation) []Observation {
	numbers := map[string]uint32{}
	for i := range obs {
		if u := obs[i].User; u != "" {
			if numbers[u] == 0 {
				numbers[u] = uint32(len(numbers) + 1)
			}
			obs[i].UserNumber = numbers[u]
		}
	}
	return obs
}

// benchmarkTraffic adds obs, sorted, to a new Detector per iteration.
func benchmarkTraffic(b *testing.B, obs []Observation) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		d := New(Options{})
		for i := range obs {
			if err := d.Add(&obs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	events := float64(b.N * len(obs))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(cpuTime()-cpu0)/events, "cpu-ns/event")
}

// cpuTime returns the CPU time the process has used, user and system, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
