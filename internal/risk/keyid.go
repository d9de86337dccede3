package risk

import (
	"encoding/binary"
	"net/netip"
)

// keyID is how a table's map finds a key: a source's prefix packed in two
// words (sourceID), or an app's number in Detector.apps. With no pointer
// and no padding it hashes and compares as 16 bytes, where key (a string
// and a netip.Prefix) took the generic hash and equality of a 48-byte
// struct at every event (#18, session 12). A state is named by its key,
// made from the id when the state is (Detector.keyOf).
type keyID [2]uint64

// The tags of keyID's first word.
const (
	idApp = iota
	idSource4
	idSource6
)

// sourceID returns the id of ip's source (sourcePrefix: its IPv4 /24 or
// IPv6 /64, zone dropped), false for the zero Addr.
func sourceID(ip netip.Addr) (keyID, bool) {
	if !ip.IsValid() {
		return keyID{}, false
	}
	ip = ip.Unmap()
	b := ip.As16()
	if ip.Is4() {
		return keyID{idSource4, uint64(b[12])<<16 | uint64(b[13])<<8 | uint64(b[14])}, true
	}
	return keyID{idSource6, binary.BigEndian.Uint64(b[:8])}, true
}

// source returns the prefix of a source's id.
func (id keyID) source() netip.Prefix {
	if id[0] == idSource4 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(id[1] >> 16), byte(id[1] >> 8), byte(id[1])}), 24)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], id[1])
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// appID returns the id of app (numbered in d.apps).
func (d *Detector) appID(app string) keyID { return keyID{idApp, uint64(d.apps.number(app))} }

// keyOf returns the key of rule i's state of id, or of user (the user's
// number) for the user-keyed rules.
func (d *Detector) keyOf(i int, id keyID, user uint32) key {
	switch {
	case i == ruleUser:
		return key{s: d.userKeys.name(user)}
	case id[0] == idApp:
		return key{s: d.apps.name(uint32(id[1]))}
	default:
		return key{p: id.source()}
	}
}
