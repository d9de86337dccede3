package insights

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// FuzzRiskCursor: a cursor decoded from any text is an error wrapping
// ErrInvalidQuery, or one that spells itself the same way again.
func FuzzRiskCursor(f *testing.F) {
	f.Add(riskCursor{level: 3, t: 1_700_000_000_000_000_000, id: "u1"}.String())
	f.Add(riskCursor{t: -1, id: "9f387d6fa3bb4e30"}.String())
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseRiskCursor(s)
		switch {
		case err != nil:
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
		case c == nil:
			if s != "" {
				t.Fatalf("no cursor from %q", s)
			}
		default:
			if d, err := parseRiskCursor(c.String()); err != nil || *d != *c {
				t.Fatalf("%q: %+v re-reads as %+v, %v", s, c, d, err)
			}
		}
	})
}

// FuzzRecordPlace: reading the place of any bytes as a log record never
// panics, and reads what decodeRecord reads of a record it accepts.
func FuzzRecordPlace(f *testing.F) {
	f.Add([]byte(encodeRecord(&Event{IP: "203.0.113.7", Latitude: 48.85, Longitude: 2.35,
		AuthDetails: []AuthStep{{Method: "Password", Succeeded: true}}, MFAPolicies: []string{"p"}})))
	f.Add([]byte(encodeRecord(&Event{IP: "2001:db8::1"})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, lat, lon := recordPlace(b)
		var ev Event
		if decodeRecord("fuzz", b, &ev, time.UTC) != nil {
			return
		}
		want, _ := netip.ParseAddr(ev.IP)
		if ip != want || lat != ev.Latitude || lon != ev.Longitude {
			t.Fatalf("recordPlace %v %v %v, decodeRecord %q %v %v", ip, lat, lon, ev.IP, ev.Latitude, ev.Longitude)
		}
	})
}
