package insights

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/store"
)

// TestNeedDamagedSection: a day read by ranges whose zstd section s is
// damaged behind its checksum (its content cut, torn or lengthened, then
// compressed and summed again) fails need with ErrCorrupt naming the
// segment, decoding the sections read in the same run that are sound and
// none of s: s stays undecoded, holding nothing, and fails again on the
// next need, while the others decode as read whole.
func TestNeedDamagedSection(t *testing.T) {
	ctx := context.Background()
	e, seg, n, lim, whole := segmentFixture(t)
	m := store.NewMemory()
	if err := m.Put(ctx, "seg", seg); err != nil {
		t.Fatal(err)
	}
	damages := map[string]func([]byte) []byte{
		"cut":        func(p []byte) []byte { return p[:len(p)-1] },
		"torn":       func(p []byte) []byte { p = slices.Clone(p); p[len(p)-1] = 0x80; return p },
		"lengthened": func(p []byte) []byte { return append(slices.Clone(p), 0) },
	}
	for s := range secActive {
		for what, damage := range damages {
			d, err := rangedIndex(ctx, m, "seg", n, lim, e.zdec, 0)
			if err != nil {
				t.Fatal(err)
			}
			damageSection(t, d, seg, e, s, damage)
			err = d.need(ctx, lazySections)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "seg") {
				t.Fatalf("section %d %s: need: %v, want ErrCorrupt naming seg", s, what, err)
			}
			pending := sectionSet(d.pending.Load())
			if pending&(1<<s) == 0 {
				t.Fatalf("section %d %s: decoded despite the error", s, what)
			}
			checkSections(t, d, whole, pending)
			if err := d.need(ctx, 1<<s); !errors.Is(err, ErrCorrupt) || sectionSet(d.pending.Load())&(1<<s) == 0 {
				t.Fatalf("section %d %s: needed again: %v, want ErrCorrupt and the section undecoded", s, what, err)
			}
			if err := d.need(ctx, lazySections&^(1<<s)); err != nil {
				t.Fatalf("section %d %s: the other sections: %v", s, what, err)
			}
			checkSections(t, d, whole, 1<<s)
		}
	}
}

// damageSection makes d read its zstd sections from a copy of seg's in
// which section s holds damage of its content, compressed again, under
// directory lengths and checksums made right.
func damageSection(t *testing.T, d *day, seg []byte, e *Engine, s int, damage func([]byte) []byte) {
	t.Helper()
	g := *d.lazy.ranged
	base := g.At[0]
	var buf []byte
	for k := range secActive {
		raw := seg[g.At[k] : g.At[k]+g.Dir.Lens[k]]
		if k == s {
			p, err := e.zdec.DecodeAll(raw, make([]byte, 0, g.Dir.Plain[k]))
			if err != nil {
				t.Fatal(err)
			}
			p = damage(p)
			raw, g.Dir.Plain[k] = e.zenc.index.EncodeAll(p, nil), len(p)
		}
		g.At[k], g.Dir.Lens[k], g.Dir.Sums[k] = base+len(buf), len(raw), frame.Checksum(raw)
		buf = append(buf, raw...)
	}
	d.lazy.ranged = &g
	d.lazy.get = func(_ context.Context, off, n int) ([]byte, error) {
		return buf[off-base : min(off-base+n, len(buf))], nil
	}
}

// checkSections fails t unless each zstd section of d in pending holds
// nothing, and each other holds whole's.
func checkSections(t *testing.T, d, whole *day, pending sectionSet) {
	t.Helper()
	for k := range secActive {
		want := sectionOf(whole, k)
		if pending&(1<<k) != 0 {
			want = sectionOf(&day{}, k)
		}
		if got := sectionOf(d, k); !reflect.DeepEqual(got, want) {
			t.Fatalf("section %d (undecoded: %t): %v, want %v", k, pending&(1<<k) != 0, got, want)
		}
	}
}

// sectionOf returns what zstd section k of d holds.
func sectionOf(d *day, k int) any {
	switch k {
	case secCounts:
		return d.ix.Counts
	case secUsers:
		return [2][]uint32{d.ix.Offs, d.ix.Users}
	}
	return d.ix.Cols[k]
}
