package insights

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseFilter: any input gives an error wrapping ErrInvalidQuery or a
// filter that prints to an expression parsing back to the same filter
// (ParseFilter validates what it returns).
// Seeds are in testdata/fuzz/FuzzParseFilter.
func FuzzParseFilter(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("ParseFilter(%q): error %v wraps no sentinel", s, err)
			}
			return
		}
		h, err := ParseFilter(g.String())
		if err != nil {
			t.Fatalf("ParseFilter(%q) = %s, which does not parse: %v", s, g, err)
		}
		if h.String() != g.String() {
			t.Fatalf("ParseFilter(%q) = %s, which parses to %s", s, g, h)
		}
		gj, err1 := json.Marshal(g)
		hj, err2 := json.Marshal(h)
		if err1 != nil || err2 != nil || string(gj) != string(hj) {
			t.Fatalf("ParseFilter(%q): JSON %s (%v) becomes %s (%v)", s, gj, err1, hj, err2)
		}
	})
}
