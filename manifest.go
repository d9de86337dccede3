package insights

import (
	"fmt"
	"strconv"
)

// The manifest frame (kind 'M', key "MANIFEST") names the current state;
// writing it is the atomic commit of a checkpoint:
//
//	generation (uvarint) | first log sequence to replay (uvarint) | retention horizon day (varint) |
//	catalog key (string, "" for none)
//	days (uvarint), then each day number (varint) and its segment key (string)
type manifest struct {
	gen      uint64
	walFrom  uint64
	horizon  int32 // retention dropped the days before it
	catalog  string
	segments map[int32]string
}

const manifestKey = "MANIFEST"

func (m *manifest) encode() []byte {
	b := newFrame(kindManifest)
	b = appendUvarint(b, m.gen)
	b = appendUvarint(b, m.walFrom)
	b = appendVarint(b, int64(m.horizon))
	b = appendString(b, m.catalog)
	b = appendUvarint(b, uint64(len(m.segments)))
	for n, k := range m.segments {
		b = appendVarint(b, int64(n))
		b = appendString(b, k)
	}
	return sealFrame(b)
}

func decodeManifest(b []byte) (*manifest, error) {
	r, err := openFrame(manifestKey, kindManifest, b)
	if err != nil {
		return nil, err
	}
	m := &manifest{gen: r.uvarint(), walFrom: r.uvarint(), horizon: r.day32(), catalog: r.string(256), segments: map[int32]string{}}
	n := r.count(1<<31-1, 2)
	for i := 0; i < n && r.err == nil; i++ {
		day := r.day32()
		if k := r.string(256); r.err == nil && k != segmentKey(day, keyGen(k)) {
			r.fail("segment key %q does not name day %s", k, dateOfNum(day))
		} else {
			m.segments[day] = k
		}
	}
	if r.err == nil && m.catalog != "" && m.catalog != catalogKey(keyGen(m.catalog)) {
		r.fail("catalog key %q is malformed", m.catalog)
	}
	return m, r.end()
}

// names reports whether key is m's catalog, its users frame or one of
// its segments.
func (m *manifest) names(key string) bool {
	if key == m.catalog || key == m.usersKey() {
		return true
	}
	for _, k := range m.segments {
		if k == key {
			return true
		}
	}
	return false
}

// usersKey returns the key of the users frame of m's catalog (which a
// catalog of version frameVersion does not have), "" if m has no catalog.
func (m *manifest) usersKey() string {
	if m.catalog == "" {
		return ""
	}
	return usersKey(keyGen(m.catalog))
}

// keyGen returns the hexadecimal generation or sequence that ends key.
func keyGen(key string) uint64 {
	i := len(key) - 16
	if i < 0 {
		return 0
	}
	v, _ := strconv.ParseUint(key[i:], 16, 64)
	return v
}

// walKey names log record seq; keys sort in sequence order.
func walKey(seq uint64) string { return fmt.Sprintf("wal/%016x", seq) }
