package risk

import (
	"net/netip"
	"testing"
)

// TestNetworkID: two addresses have the same networkID exactly when they
// have the same Network, and only the zero Addr has 0.
func TestNetworkID(t *testing.T) {
	var addrs []netip.Addr
	for _, s := range []string{"10.1.2.3", "10.1.9.9", "10.2.2.3", "11.1.2.3", "::ffff:10.1.7.7", "::ffff:10.3.7.7",
		"2001:db8:1::1", "2001:db8:1:ffff::1", "2001:db8:2::1", "2001:db9:1::1", "3001:db8:1::1", "fe80::1%eth0", "fe80::2%eth1",
		"::a01:203", "0.0.0.0", "::"} {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	addrs = append(addrs, netip.Addr{})
	for _, a := range addrs {
		if (networkID(a) == 0) != !a.IsValid() {
			t.Errorf("networkID(%v) = %d", a, networkID(a))
		}
		for _, b := range addrs {
			if same := networkID(a) == networkID(b); same != (Network(a) == Network(b)) {
				t.Errorf("%v, %v: same id %v, networks %q and %q", a, b, same, Network(a), Network(b))
			}
		}
	}
}
