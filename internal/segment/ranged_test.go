package segment

import (
	"bytes"
	"slices"
	"testing"

	"github.com/insightslab/insights/internal/storetest"
	"github.com/insightslab/insights/store"
)

// TestReadRestClaimsMore: ReadRest asked for more bytes than the value
// holds (a head's claim) returns the value's, and sizes its buffer by the
// bytes that arrived, not by the claim; asked for fewer, it returns those.
func TestReadRestClaimsMore(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	v := make([]byte, 3<<20+5)
	for i := range v {
		v[i] = byte(i * 7)
	}
	if err := m.Put(ctx, "seg", v); err != nil {
		t.Fatal(err)
	}
	for _, rg := range []store.RangeGetter{m, storetest.Capped{Memory: m}} {
		b, err := ReadRest(ctx, rg, "seg", 100, 64<<20, slices.Clone(v[100:110]))
		if err != nil || !bytes.Equal(b, v[100:]) {
			t.Fatalf("%T: %d bytes (%v), want the value's %d from offset 100", rg, len(b), err, len(v)-100)
		}
		if cap(b) > 2*len(v) {
			t.Fatalf("%T: a buffer of %d bytes for %d read", rg, cap(b), len(b))
		}
		if b, err := ReadRest(ctx, rg, "seg", 100, 2<<20, v[100:110]); err != nil || !bytes.Equal(b, v[100:100+2<<20]) {
			t.Fatalf("%T: %d bytes (%v), want 2 MiB", rg, len(b), err)
		}
	}
}
