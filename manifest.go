package insights

import (
	"fmt"
	"strconv"

	"github.com/insightslab/insights/internal/frame"
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
	b := frame.New(frame.KindManifest)
	b = frame.AppendUvarint(b, m.gen)
	b = frame.AppendUvarint(b, m.walFrom)
	b = frame.AppendVarint(b, int64(m.horizon))
	b = frame.AppendString(b, m.catalog)
	b = frame.AppendUvarint(b, uint64(len(m.segments)))
	for n, k := range m.segments {
		b = frame.AppendVarint(b, int64(n))
		b = frame.AppendString(b, k)
	}
	return frame.Seal(b)
}

func decodeManifest(b []byte) (*manifest, error) {
	r, err := frame.Open(manifestKey, frame.KindManifest, b)
	if err != nil {
		return nil, err
	}
	m := &manifest{gen: r.Uvarint(), walFrom: r.Uvarint(), horizon: r.Day32(), catalog: r.String(256), segments: map[int32]string{}}
	n := r.Count(1<<31-1, 2)
	for i := 0; i < n && r.Err == nil; i++ {
		day := r.Day32()
		if k := r.String(256); r.Err == nil && k != segmentKey(day, keyGen(k)) {
			r.Fail("segment key %q does not name day %s", k, dateOfNum(day))
		} else {
			m.segments[day] = k
		}
	}
	if r.Err == nil && m.catalog != "" && m.catalog != catalogKey(keyGen(m.catalog)) {
		r.Fail("catalog key %q is malformed", m.catalog)
	}
	return m, r.End()
}

// names reports whether key is m's catalog or one of its segments.
func (m *manifest) names(key string) bool {
	if key == m.catalog {
		return true
	}
	for _, k := range m.segments {
		if k == key {
			return true
		}
	}
	return false
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
