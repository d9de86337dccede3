package risk

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// BenchmarkDetectorAdd folds sign-ins of 100,000 users from 10,000
// addresses in order, 5% failing with a bad password, 10 per second of
// event time, numbered as the engine numbers them (UserNumber): the
// detector's own cost per event, and its state.
func BenchmarkDetectorAdd(b *testing.B) {
	for _, h := range []time.Duration{15 * time.Minute, 2 * time.Hour} {
		b.Run("lateHorizon="+h.String(), func(b *testing.B) { benchmarkDetectorAdd(b, h) })
	}
}

func benchmarkDetectorAdd(b *testing.B, horizon time.Duration) {
	users, ips := make([]string, 100_000), make([]netip.Addr, 10_000)
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
