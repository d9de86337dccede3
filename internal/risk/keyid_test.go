package risk

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestSourceIDIsTheSource: two addresses have the same sourceID exactly
// when they have the same source prefix, and the id gives that prefix
// back; the zero Addr has none. Addresses: IPv4, IPv4-mapped IPv6
// (the IPv4 source), IPv6 with and without a zone, and IPv6 whose first
// 64 bits are those of an IPv4 /24's id.
func TestSourceIDIsTheSource(t *testing.T) {
	if _, ok := sourceID(netip.Addr{}); ok {
		t.Fatal("the zero Addr has a source id")
	}
	ips := []netip.Addr{}
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "203.0.113.7", "203.0.113.200", "203.0.114.7",
		"::ffff:203.0.113.9", "::", "::1", "::cb00:7109", "::cb:71:0:0:0:0", "2001:db8:dead:beef::1",
		"2001:db8:dead:beef:ffff::1", "2001:db8:dead:bef0::1", "fe80::1%eth0", "fe80::2"} {
		ips = append(ips, netip.MustParseAddr(s))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(3)) // few values: sources shared
		}
		ips = append(ips, netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[:4])))
	}
	for _, a := range ips {
		id, ok := sourceID(a)
		if !ok || id.source() != sourcePrefix(a) {
			t.Fatalf("%s: id %v gives %v, want %v", a, id, id.source(), sourcePrefix(a))
		}
		for _, b := range ips {
			idB, _ := sourceID(b)
			if (id == idB) != (sourcePrefix(a) == sourcePrefix(b)) {
				t.Fatalf("%s and %s: ids %v and %v, prefixes %v and %v", a, b, id, idB, sourcePrefix(a), sourcePrefix(b))
			}
		}
	}
}
