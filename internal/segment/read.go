package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
)

// readCodes reads code column k: combos codes below its dictionary's size.
// Codes below 128 take one byte each: when the next combos bytes are all
// such, they are the column (the usual case, read in one pass).
func readCodes(r *frame.Reader, k, combos int, lim *Limits) Column {
	if r.Err != nil {
		return Column{}
	}
	size := lim.DictSizes[k]
	if raw := r.Body[r.Off:]; combos > 0 && len(raw) >= combos {
		raw = raw[:combos]
		lo, hi := raw[0], raw[0]
		for _, c := range raw {
			lo, hi = min(lo, c), max(hi, c)
		}
		if hi < 0x80 {
			if int(hi) >= size {
				r.Fail("code %d of %s past its dictionary of %d", hi, lim.Names[k], size)
				return Column{}
			}
			r.Off += combos
			return byteColumn(raw, lo, hi)
		}
	}
	codes := make([]uint32, combos)
	for i := 0; i < combos && r.Err == nil; i++ {
		c := r.Uvarint()
		if c >= uint64(size) {
			r.Fail("code %d of %s past its dictionary of %d", c, lim.Names[k], size)
		}
		codes[i] = uint32(c)
	}
	return NewColumn(combos, func(i int) uint32 { return codes[i] })
}

// readCounts reads the event counts of combos combinations.
func readCounts(r *frame.Reader, combos int) Column {
	if r.Err != nil {
		return Column{}
	}
	counts := make([]uint32, combos)
	for i := 0; i < combos && r.Err == nil; i++ {
		c := r.Uvarint()
		if c > 1<<32-1 {
			r.Fail("count %d overflows", c)
		}
		counts[i] = uint32(c)
	}
	return NewColumn(combos, func(i int) uint32 { return counts[i] })
}

// readUsers reads the users of each of x's combinations (x.Offs is sized),
// ids below users. When r holds the users section alone (whole), x.Users
// is allocated once: each uvarint ends with the one byte of it below
// 0x80, so the section's uvarints, less one count per combination, are
// its users.
func readUsers(r *frame.Reader, x *Index, users int, whole bool) {
	if whole && r.Err == nil {
		n := 0
		for _, c := range r.Body[r.Off:] {
			if c < 0x80 {
				n++
			}
		}
		x.Users = make([]uint32, 0, max(0, n-x.Combos))
	}
	for i := 0; i < x.Combos && r.Err == nil; i++ {
		m := r.Count(users, 1)
		prev := uint64(0)
		for j := 0; j < m && r.Err == nil; j++ {
			u := prev
			if r.Off < len(r.Body) && r.Body[r.Off] < 0x80 { // a one-byte uvarint, the usual delta
				u += uint64(r.Body[r.Off])
				r.Off++
			} else {
				u += r.Uvarint()
			}
			if u >= uint64(users) || j > 0 && u == prev {
				r.Fail("user %d of combination %d out of order or range", u, i)
			}
			x.Users = append(x.Users, uint32(u))
			prev = u
		}
		x.Offs[i+1] = uint32(len(x.Users))
	}
}

// readRequestIDs reads n request-id hashes, which must ascend.
func readRequestIDs(r *frame.Reader, n int) []uint64 {
	var ids []uint64
	for i := 0; i < n && r.Err == nil; i++ {
		raw := r.Bytes(8)
		if raw == nil {
			break
		}
		id := binary.LittleEndian.Uint64(raw)
		if i > 0 && id <= ids[i-1] {
			r.Fail("request ids out of order")
		}
		ids = append(ids, id)
	}
	return ids
}

// readActive decodes raw, a roaring set whose members are below n.
func readActive(r *frame.Reader, raw []byte, n int) *roaring.Bitmap {
	if r.Err != nil {
		return roaring.New()
	}
	s, err := readBitmap(raw)
	switch {
	case err != nil:
		r.Fail("user set: %v", err)
	case !s.IsEmpty() && s.Maximum() >= uint32(n):
		r.Fail("user %d past the %d users", s.Maximum(), n)
	}
	return s
}

// readBitmap decodes a roaring portable serialization and validates it.
// The library's decoder is not written for hostile input, so a panic in
// it is turned into an error: a corrupt file must never crash the host.
// The set shares no memory with raw.
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
