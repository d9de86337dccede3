package logrecord

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// testLimits are the engine's.
var testLimits = Limits{Field: 4096, Value: 256, Steps: 64, Policies: 256}

// raw is a record of this package's steps and policies.
type raw = Record[Step, Policy]

// decodeRaw decodes b into a raw record.
func decodeRaw(key string, b []byte) (raw, error) {
	return Decode(key, b, testLimits, func(s Step) Step { return s }, func(p Policy) Policy { return p })
}

func full() *raw {
	return &raw{
		Text:        [NumText]string{"p", "r", "c", "s", "d", "2001:db8::1", "Lyon", "ARA", "ua", "Ann"},
		Steps:       []Step{{Time: 1735804800e9, Method: "Password", Succeeded: true, Requirement: "singleFactorAuthentication"}, {Method: "Text message", ResultDetail: "denied"}},
		MFAPolicies: []string{"p1", "p2"}, CAPolicies: []Policy{{"c1", "failure"}},
		Latitude: 47.674, Longitude: -122.1215,
	}
}

func decode(t *testing.T, b []byte) *raw {
	t.Helper()
	r, err := decodeRaw("rec", b)
	if err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestRoundTrip(t *testing.T) {
	noPlace := full()
	noPlace.Latitude, noPlace.Longitude = 0, 0
	longest := full()
	longest.Text[UserAgent] = strings.Repeat("u", testLimits.Field)
	for _, want := range []*raw{full(), noPlace, longest, {}} {
		b := Append(nil, want)
		if got := decode(t, b); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		for i := range NumText {
			if got := Text(b, i, testLimits.Field); got != want.Text[i] {
				t.Errorf("Text %d: %q, want %q", i, got, want.Text[i])
			}
		}
	}
}

// TestBytes checks records' bytes by hand (store/FORMAT.md): one without
// coordinates is what it was before they existed.
func TestBytes(t *testing.T) {
	r := raw{Steps: []Step{{Time: -1, Method: "m", Succeeded: true}}, MFAPolicies: []string{"x"}}
	r.Text[IP] = "ip"
	want := "\x00\x00\x00\x00\x00\x02ip\x00\x00\x00\x00" + "\x01\x01\x01m\x01\x00\x00" + "\x01\x01x" + "\x00"
	if got := string(Append(nil, &r)); got != want {
		t.Fatalf("record %q, want %q", got, want)
	}
	r.Latitude = -0.5
	if got := string(Append(nil, &r)); got != want+"\x00\x00\x00\x00\x00\x00\xe0\xbf"+"\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("record with coordinates %q", got)
	}
}

// TestRefused: records that decode to an error wrapping ErrCorrupt that
// names the key and the byte.
func TestRefused(t *testing.T) {
	b := Append(nil, full())
	long := full()
	long.Steps[0].Method = strings.Repeat("m", testLimits.Value+1)
	north := full()
	north.Latitude = 90.5
	nan := full()
	nan.Longitude = math.NaN()
	for _, c := range []struct {
		name, at string
		b        []byte
	}{
		{"truncated", "", b[:len(b)-20]},
		{"a field past its limit", "count 257 is out of bounds", Append(nil, long)},
		{"a latitude past 90", "coordinate 90.5", Append(nil, north)},
		{"a longitude not a number", "coordinate NaN", Append(nil, nan)},
		{"trailing bytes", "trailing", append(bytes.Clone(b), 0)},
		{"a bad flag", "flag byte 2", bytes.Replace(bytes.Clone(b), []byte("Password\x01"), []byte("Password\x02"), 1)},
	} {
		_, err := decodeRaw("rec/9", c.b)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "rec/9") || !strings.Contains(err.Error(), c.at) {
			t.Errorf("%s: %v, want an error wrapping ErrCorrupt naming the key and %q", c.name, err, c.at)
		}
	}
}

// FuzzDecode: a log record decodes to an error wrapping ErrCorrupt or to
// fields that encode back to the same record.
func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, full()))
	f.Add(Append(nil, &raw{}))
	f.Add(Append(nil, &raw{Latitude: 47.674, Longitude: -122.1215}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRaw("rec", b)
		if err != nil {
			if !errors.Is(err, frame.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if again, err := decodeRaw("rec", Append(nil, &r)); err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("record does not round-trip: %+v, then %+v (%v)", r, again, err)
		}
		for i := range NumText {
			if got := Text(b, i, testLimits.Field); got != r.Text[i] {
				t.Fatalf("Text %d: %q, Decode: %q", i, got, r.Text[i])
			}
		}
	})
}

// FuzzPlace: reading the place of any bytes as a log record never panics,
// and reads what Decode reads of a record it accepts.
func FuzzPlace(f *testing.F) {
	f.Add(Append(nil, &raw{Text: [NumText]string{IP: "203.0.113.7"}, Latitude: 48.85, Longitude: 2.35,
		Steps: []Step{{Method: "Password", Succeeded: true}}, MFAPolicies: []string{"p"}}))
	f.Add(Append(nil, &raw{Text: [NumText]string{IP: "2001:db8::1"}}))
	f.Add(Append(nil, full()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, lat, lon := Place(b, testLimits)
		r, err := decodeRaw("fuzz", b)
		if err != nil {
			return
		}
		if string(ip) != r.Text[IP] || lat != r.Latitude || lon != r.Longitude {
			t.Fatalf("Place %q %v %v, Decode %q %v %v", ip, lat, lon, r.Text[IP], r.Latitude, r.Longitude)
		}
	})
}
