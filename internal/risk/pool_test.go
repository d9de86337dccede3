package risk

import (
	"slices"
	"testing"
)

// TestPoolTrim checks by hand that a sweep releases what its pool did not
// hand out since the sweep before, and keeps the rest.
func TestPoolTrim(t *testing.T) {
	var p pool[string]
	for _, s := range []string{"a", "b", "c"} {
		p.put(s)
	}
	p.trim(false) // put since the last trim: kept
	if !slices.Equal(p.items, []string{"a", "b", "c"}) {
		t.Fatalf("after the first trim: %q, want a b c", p.items)
	}
	if v := p.take(); v != "c" {
		t.Fatalf("take = %q, want c", v)
	}
	p.put("x")
	p.trim(false) // a and b were not taken for a whole interval
	if !slices.Equal(p.items, []string{"x"}) {
		t.Fatalf("after the second trim: %q, want x", p.items)
	}
	p.take()
	if v := p.take(); v != "" {
		t.Fatalf("take of an empty pool = %q", v)
	}
	p.put("y")
	p.trim(true)
	if len(p.items) != 0 {
		t.Fatalf("after trim(true): %q, want nothing", p.items)
	}
}
