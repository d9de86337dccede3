package risk

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzHistory checks the user-keyed rules' packed state (unfamiliarState's
// one array of recent times and value pairs, travel's latest sign-in, the
// parts copied into reused states) against the oracle: every 4 bytes are
// one user's sign-in — the hours since the previous event, the user and
// success, and two bytes of values picked from few, so that values
// repeat, go stale past a short history and get pruned; an odd first
// byte sets a minimum of 12 times, more than fit in the state.
func FuzzHistory(f *testing.F) {
	f.Add([]byte{1, 0, 0x11, 0x11, 1, 0, 0x11, 0x11, 1, 0, 0x11, 0x11, 1, 0, 0x22, 0x22, 30, 1, 0x35, 0x43})
	f.Add([]byte("a steady user, then a stranger from elsewhere on another OS"))
	f.Add([]byte{0, 2, 0x01, 0x23, 0, 2, 0x45, 0x67, 0, 2, 0x89, 0xab, 0, 2, 0xcd, 0xef, 0, 2, 0x12, 0x34, 0, 2, 0x56, 0x78})
	long := make([]byte, 2000) // a long run: values pruned, histories full
	for i := range long {
		long[i] = byte(i*7919 + i/3)
	}
	f.Add(long)
	f.Add(append([]byte{1}, long...))
	f.Fuzz(func(t *testing.T, b []byte) {
		countries, systems := []string{"", "FR", "DE", "US", "JP", "BR"}, []string{"", "Windows", "macOS", "Linux"}
		opt := Options{UnfamiliarMinimum: 2, UnfamiliarHistory: 72 * time.Hour}
		if len(b) > 0 && b[0]&1 == 1 { // too many times for the state's inline array
			opt = Options{UnfamiliarMinimum: 12}
		}
		var es events
		tm := trafficStart.UnixNano()
		for i := 0; i+4 <= len(b) && i < 4*500; i += 4 {
			tm += int64(b[i]%16) * int64(time.Hour)
			o := Observation{Time: tm, Kind: KindSignIn, User: []string{"u", "v"}[b[i+1]&1], Status: StatusSuccess, App: "a",
				Country: countries[int(b[i+2]>>4)%len(countries)], OSFamily: systems[int(b[i+2]&3)],
				BrowserFamily: systems[int(b[i+3]>>4)%len(systems)]}
			if b[i+1]&2 != 0 {
				o.Status, o.FirstFactorFailure = StatusFailure, true
			}
			if n := b[i+3] & 15 % 6; n > 0 {
				o.IP = netip.AddrFrom4([4]byte{10, n, 1, 1})
				c := cities[int(n)%len(cities)]
				o.Lat, o.Lon = c.lat, c.lon
			}
			es.add(o)
		}
		sameDetections(t, "fuzz", Detect(opt, append(events(nil), es...)), oracle(opt, es))
	})
}
