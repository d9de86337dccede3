package insights

import (
	"errors"
	"testing"
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
