package logblock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestPackGUID: a value packs exactly when it is a GUID spelled as it
// unpacks (36 bytes, dashes at 8, 13, 18 and 23, lowercase hex digits
// elsewhere), into the 16 bytes its digits spell; every byte value at
// every position of a GUID is tried.
func TestPackGUID(t *testing.T) {
	want := func(v []byte) ([]byte, bool) {
		if len(v) != 36 {
			return nil, false
		}
		var digits []byte
		for i, c := range v {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' {
					return nil, false
				}
				continue
			}
			digits = append(digits, c)
		}
		b, err := hex.DecodeString(string(digits))
		if err != nil || string(unpackGUID(nil, b)) != string(v) {
			return nil, false
		}
		return b, true
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, g := range []string{"0f8fad5b-d9cb-469f-a165-70867728950e", "00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff", randomGUID(rng)} {
		for i := range len(g) {
			for c := range 256 {
				v := []byte(g)
				v[i] = byte(c)
				got, ok := packGUID([]byte("x"), v)
				w, wok := want(v)
				if ok != wok || ok && !bytes.Equal(got, append([]byte("x"), w...)) || !ok && string(got) != "x" {
					t.Fatalf("packGUID(%q) = %x, %v; want %x, %v", v, got, ok, w, wok)
				}
			}
		}
		for _, v := range []string{g[:35], g + "0", "", g[:8] + "+" + g[9:]} {
			if got, ok := packGUID(nil, []byte(v)); ok {
				t.Errorf("packGUID(%q) = %x, true", v, got)
			}
		}
	}
}

// TestPackIPv4: a value packs exactly when it is an IPv4 address spelled
// as it unpacks (dotted decimal, no leading zeros).
func TestPackIPv4(t *testing.T) {
	vals := []string{"0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.",
		"1.2.3.4.5", "1..3.4", ".1.2.3", "1.2.3.04", "1000.1.1.1", "::1", "1.2.3.4 ", "a.b.c.d", "", "0.0.0.00"}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		b := make([]byte, 1+rng.IntN(15))
		for i := range b {
			b[i] = "0123456789.x"[rng.IntN(12)]
		}
		vals = append(vals, string(b), randomIPv4(rng))
	}
	for _, v := range vals {
		a, err := netip.ParseAddr(v)
		wok := err == nil && a.Is4() && a.String() == v
		got, ok := packIPv4([]byte("x"), []byte(v))
		if ok != wok || ok && !bytes.Equal(got[1:], a.AsSlice()) || !ok && string(got) != "x" {
			t.Fatalf("packIPv4(%q) = %x, %v; want %v", v, got, ok, wok)
		}
	}
}

// TestColumnBytes: the column blocks of records of every kind, before
// compression, are byte for byte those the format's first writer wrote
// (their SHA-256), so that a faster encoder cannot change the format
// unnoticed; mixed string columns make each mode's choice count.
func TestColumnBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	h := sha256.New()
	w := NewWriter(nil)
	for _, n := range []int{1, 2, 3, 10, 100, 1024, 1024, 1024} {
		recs, offs := records(rng, n)
		b, ok := w.columns(recs, offs)
		if !ok {
			t.Fatalf("%d records: not cut into columns", n)
		}
		h.Write(b)
	}
	var sw stringsWriter
	for k := range 200 { // columns of GUIDs, addresses and others, k in 200 of them not packed
		var vals [][]byte
		for i := range 200 {
			switch {
			case i < k:
				vals = append(vals, []byte(fmt.Sprint("v", i%7)))
			case i%2 == 0:
				vals = append(vals, []byte(randomGUID(rng)))
			default:
				vals = append(vals, []byte(randomIPv4(rng)))
			}
		}
		h.Write(sw.appendStrings(nil, vals[:100]))
		h.Write(sw.appendStrings(nil, vals))
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "2d0cc8213cd228bc7d1227c9549648ff6d39b227b4cf1f0e08ce29288326451f"; got != want {
		t.Errorf("column bytes hash %s, want %s", got, want)
	}
}
