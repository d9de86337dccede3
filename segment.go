package insights

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"
)

// A segment frame (kind 'S') holds one sealed day:
//
//	day (varint) | combos (uvarint)
//	for each indexed dimension: one code per combination (uvarint)
//	for each combination: its event count (uvarint)
//	for each combination: its user count, then its users ascending, delta-coded (uvarints)
//	active users: length (uvarint) + roaring portable serialization
//	request ids: count (uvarint), then each 64-bit hash, ascending (8 bytes, little-endian)
//	event log: length (uvarint) + the section of logsegment.go

// encodeDay returns the segment frame of day d, number n, and the offset
// of its log section. It fails only if d's log, read from an earlier
// segment, is corrupt.
func encodeDay(n int32, d *day, enc *zstd.Encoder) ([]byte, int, error) {
	b := newFrame(kindSegment)
	b = appendVarint(b, int64(n))
	b = appendUvarint(b, uint64(d.numCombos()))
	for k := range d.cols {
		for i := range uint32(d.numCombos()) {
			b = appendUvarint(b, uint64(d.cols[k].at(i)))
		}
	}
	for i := range uint32(d.numCombos()) {
		b = appendUvarint(b, uint64(d.counts.at(i)))
	}
	for i := range d.numCombos() {
		us := d.usersOf(i)
		b = appendUvarint(b, uint64(len(us)))
		prev := uint32(0)
		for _, u := range us {
			b = appendUvarint(b, uint64(u-prev))
			prev = u
		}
	}
	active, _ := d.active.ToBytes() // writes to memory: cannot fail
	b = appendUvarint(b, uint64(len(active)))
	b = append(b, active...)
	b = appendUvarint(b, uint64(len(d.requestIDs)))
	for _, id := range d.requestIDs {
		b = binary.LittleEndian.AppendUint64(b, id)
	}
	l, err := d.events()
	if err != nil {
		return nil, 0, err
	}
	log := encodeLog(l, enc)
	off := len(b)
	b = appendUvarint(b, uint64(len(log)))
	b = append(b, log...)
	return sealFrame(b), off, nil
}

// limits bounds what a decoded segment may reference: the dictionaries'
// sizes and the number of users of the catalog it belongs to.
type limits struct {
	dictSizes [numIndexed]int
	users     int
}

// decodeDay decodes the segment stored under key, which must be of day
// n and reference only codes and users within lim. The day's log stays in
// b until first needed (day.events): a caller that does not want b kept
// sets the day's logGet to read it again.
func decodeDay(key string, b []byte, n int32, lim limits, dec *zstd.Decoder) (*day, error) {
	r, err := openFrame(key, kindSegment, b)
	if err != nil {
		return nil, err
	}
	if got := r.day32(); r.err == nil && got != n {
		r.fail("holds day %s, expected %s", dateOfNum(got), dateOfNum(n))
	}
	combos := r.count(1<<31-1, numIndexed+2)
	d := &day{offs: make([]uint32, combos+1)}
	codes := make([]uint32, combos)
	for k := range d.cols {
		for i := range codes {
			c := r.uvarint()
			if c >= uint64(lim.dictSizes[k]) {
				r.fail("code %d of %s past its dictionary of %d", c, Dimension(k+1), lim.dictSizes[k])
			}
			codes[i] = uint32(c)
		}
		d.cols[k] = newColumn(combos, func(i int) uint32 { return codes[i] })
	}
	for i := range codes {
		c := r.uvarint()
		if c > 1<<32-1 {
			r.fail("count %d overflows", c)
		}
		codes[i] = uint32(c)
	}
	d.counts = newColumn(combos, func(i int) uint32 { return codes[i] })
	for i := 0; i < combos && r.err == nil; i++ {
		m := r.count(lim.users, 1)
		prev := uint64(0)
		for j := 0; j < m && r.err == nil; j++ {
			u := prev + r.uvarint()
			if u >= uint64(lim.users) || j > 0 && u == prev {
				r.fail("user %d of combination %d out of order or range", u, i)
			}
			d.users = append(d.users, uint32(u))
			prev = u
		}
		d.offs[i+1] = uint32(len(d.users))
	}
	d.active = r.bitmap(lim.users)
	ids := r.count(1<<31-1, 8)
	for i := 0; i < ids && r.err == nil; i++ {
		raw := r.bytes(8)
		if raw == nil {
			break
		}
		id := binary.LittleEndian.Uint64(raw)
		if i > 0 && id <= d.requestIDs[i-1] {
			r.fail("request ids out of order")
		}
		d.requestIDs = append(d.requestIDs, id)
	}
	d.logKey, d.logOff, d.logUsers, d.logDec = key, frameHeader+r.off, lim.users, dec
	d.logGet = func() ([]byte, error) { return b, nil }
	r.bytes(r.count(len(r.b), 1))
	if err := r.end(); err != nil {
		return nil, err
	}
	return d, nil
}

// bitmap reads a length-prefixed roaring set whose members are below n.
func (r *reader) bitmap(n int) *roaring.Bitmap {
	raw := r.bytes(r.count(len(r.b), 1))
	if r.err != nil {
		return roaring.New()
	}
	s, err := readBitmap(raw)
	switch {
	case err != nil:
		r.fail("user set: %v", err)
	case !s.IsEmpty() && s.Maximum() >= uint32(n):
		r.fail("user %d past the %d users", s.Maximum(), n)
	}
	return s
}

// readBitmap decodes a roaring portable serialization and validates it.
// The library's decoder is not written for hostile input, so a panic in
// it is turned into an error: a corrupt file must never crash the host.
func readBitmap(raw []byte) (s *roaring.Bitmap, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = roaring.New(), fmt.Errorf("undecodable (%v)", p)
		}
	}()
	s = roaring.New()
	if _, err := s.ReadFrom(bytes.NewReader(raw)); err != nil {
		return roaring.New(), err
	}
	if err := s.Validate(); err != nil {
		return roaring.New(), err
	}
	return s, nil
}

// segmentKey names version gen of day n's segment.
func segmentKey(n int32, gen uint64) string {
	return fmt.Sprintf("days/%s/%016x", dateOfNum(n), gen)
}
