package segment

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
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

// TestDecodeSectionNotZstd: DecodeSection of a section that is not a
// zstd one (the active set, the request ids, past them, before them) is
// an error naming the section that does not wrap ErrCorrupt (a caller's
// bug, not damage), and leaves the index as it was; never a panic.
func TestDecodeSectionNotZstd(t *testing.T) {
	x, _, lim, seg := fixture(t)
	_, dec := codec()
	_, g, err := ReadRanged(t.Context(), memOf(t, seg), "seg", testDay, lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{SecActive, SecRequestIDs, NumSections, -1} {
		got := Index{Combos: x.Combos}
		err := got.DecodeSection("seg", 0, &g.Dir, s, nil, lim, dec)
		if err == nil || errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("section %d", s)) {
			t.Errorf("section %d: %v, want an error naming it, not ErrCorrupt", s, err)
		}
		if !reflect.DeepEqual(got, Index{Combos: x.Combos}) {
			t.Errorf("section %d: the index changed", s)
		}
	}
}
