package insights

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// A segment frame (kind 'S') holds one sealed day. Format v3, written
// (frame version segmentVersion):
//
//	day (varint) | combos (uvarint) | request ids complete (1 byte)
//	directory: for each of the segmentSections sections below, its length and,
//	  for a zstd frame, the length of what it holds (uvarints), then its CRC-32C (4 bytes)
//	head checksum: CRC-32C of the frame from its magic through the directory (4 bytes)
//	sections, laid out active users first, then the others in order (sectionLayout):
//	  for each indexed dimension: one code per combination (uvarints), a zstd frame
//	  per combination its event count (uvarints), a zstd frame
//	  per combination its user count, then its users ascending, delta-coded (uvarints), a zstd frame
//	  active users: roaring portable serialization
//	  request ids: 64-bit hashes, ascending (8 bytes each, little-endian): every one of
//	    the day's when complete, else only those its log's records lack (requestids.go)
//	event log: length (uvarint) + the section of logsegment.go (its format v2)
//
// The directory locates every section without reading the others, and
// the checksums let a reader trust the sections it reads alone: on a store
// that reads ranges, a day's active set, or its index without its log
// (segrange.go). Format v2 (frame version segmentV2Version), read only: v3
// without the section and head checksums, its sections in the directory's
// order (the active users after the users, sectionLayout), and its event
// log's blocks of rows (logblock.Rows, not cut into columns: logsegment.go).
// Format v1 (frame version
// frameVersion), read only: day | combos | the code columns, the counts
// and the users as above but plain | active users, length-prefixed |
// request ids: count (uvarint), then every hash | event log.

// The sections of a format v2 or v3 segment, in order.
const (
	secCounts = numIndexed + iota // after one section per indexed dimension
	secUsers
	secActive
	secRequestIDs
	segmentSections
)

// sectionLayout returns the sections of a segment of frame version v
// (format v2 or v3) in the order they are laid out: the directory's
// order, but that format v3 puts the active set first, right after the
// head, so that one read of a segment's start holds both (rangedActive).
func sectionLayout(v byte) [segmentSections]int {
	var l [segmentSections]int
	for s := range l {
		l[s] = s
	}
	if v == segmentVersion {
		copy(l[1:], l[:secActive])
		l[0] = secActive
	}
	return l
}

// maxZstdExpansion bounds what a zstd frame of n bytes holds (logblock).
const maxZstdExpansion = logblock.MaxZstdExpansion

// encodeDay returns the segment frame of day d, number n, and the offset
// of its log section. allIDs keeps every request id of the day (a day
// inside the dedupe horizon), else only those its log cannot give back.
// It fails only if what it reads of d's earlier segment (sections not yet
// decoded, the log) fails to read or is corrupt.
func encodeDay(ctx context.Context, n int32, d *day, enc encoders, allIDs bool) ([]byte, int, error) {
	if err := d.need(ctx, lazySections); err != nil {
		return nil, 0, err
	}
	l, err := d.events()
	if err != nil {
		return nil, 0, err
	}
	ids, err := d.allRequestIDs()
	if err == nil && !allIDs {
		ids, err = idsBesideLog(ids, l)
	}
	if err != nil {
		return nil, 0, err
	}
	combos := uint32(d.numCombos())
	var secs [segmentSections][]byte
	var plain [segmentSections]int
	zip := func(s int, raw []byte) {
		secs[s], plain[s] = enc.index.EncodeAll(raw, nil), len(raw)
	}
	var raw []byte
	for k := range d.cols {
		raw = raw[:0]
		for i := range combos {
			raw = appendUvarint(raw, uint64(d.cols[k].at(i)))
		}
		zip(k, raw)
	}
	raw = raw[:0]
	for i := range combos {
		raw = appendUvarint(raw, uint64(d.counts.at(i)))
	}
	zip(secCounts, raw)
	raw = raw[:0]
	for i := range int(combos) {
		us := d.usersOf(i)
		raw = appendUvarint(raw, uint64(len(us)))
		prev := uint32(0)
		for _, u := range us {
			raw = appendUvarint(raw, uint64(u-prev))
			prev = u
		}
	}
	zip(secUsers, raw)
	secs[secActive], _ = d.active.ToBytes() // writes to memory: cannot fail
	for _, id := range ids {
		secs[secRequestIDs] = binary.LittleEndian.AppendUint64(secs[secRequestIDs], id)
	}

	b := segmentSectionsFrame(n, combos, allIDs, &secs, &plain)
	log, err := encodeLog(l, enc.log)
	if err != nil {
		return nil, 0, err
	}
	off := len(b)
	b = appendUvarint(b, uint64(len(log)))
	b = append(b, log...)
	return sealFrame(b), off, nil
}

// segmentSectionsFrame returns the start of the segment frame of day n
// with combos combinations, up to its log section: the head (allIDs, each
// section's length, uncompressed length plain for a zstd section, and
// checksum, then the head's checksum) and the sections secs in their
// layout.
func segmentSectionsFrame(n int32, combos uint32, allIDs bool, secs *[segmentSections][]byte, plain *[segmentSections]int) []byte {
	b := newFrame(kindSegment)
	b = appendVarint(b, int64(n))
	b = appendUvarint(b, uint64(combos))
	b = append(b, boolByte(allIDs))
	for s := range secs {
		b = appendUvarint(b, uint64(len(secs[s])))
		if isZstdSection(s) {
			b = appendUvarint(b, uint64(plain[s]))
		}
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(secs[s], castagnoli))
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	for _, s := range sectionLayout(segmentVersion) {
		b = append(b, secs[s]...)
	}
	return b
}

// isZstdSection reports whether section s is a zstd frame.
func isZstdSection(s int) bool { return s < secActive }

// limits bounds what a decoded segment may reference: the dictionaries'
// sizes and the number of users of the catalog it belongs to.
type limits struct {
	dictSizes [numIndexed]int
	users     int
}

// decodeDay decodes the segment stored under key, of format v1, v2 or
// v3, which must be of day n and reference only codes and users within
// lim. The day's log stays in b until first needed (day.events): a caller
// that does not want b kept sets the day's logGet to read it again.
func decodeDay(key string, b []byte, n int32, lim limits, dec *zstd.Decoder) (*day, error) {
	r, err := openFrame(key, kindSegment, b)
	if err != nil {
		return nil, err
	}
	if got := r.day32(); r.err == nil && got != n {
		r.fail("holds day %s, expected %s", dateOfNum(got), dateOfNum(n))
	}
	var d *day
	if r.version == frameVersion {
		d = r.dayV1(lim)
	} else {
		dir := r.directory(len(r.b), b)
		var secs [segmentSections][]byte
		for _, s := range sectionLayout(r.version) {
			secs[s] = r.bytes(dir.lens[s])
		}
		d = r.index(&dir, &secs, lim, dec)
	}
	if r.err != nil {
		return nil, r.err
	}
	d.logKey, d.logOff, d.logUsers, d.logDec = key, frameHeader+r.off, lim.users, dec
	d.logGet = func() ([]byte, error) { return b, nil }
	r.bytes(r.count(len(r.b), 1))
	if err := r.end(); err != nil {
		return nil, err
	}
	return d, nil
}

// dayV1 reads the index of a format v1 segment, after its day.
func (r *reader) dayV1(lim limits) *day {
	combos := r.count(1<<31-1, numIndexed+2)
	d := &day{combos: combos, offs: make([]uint32, combos+1), fullIDs: true}
	for k := range d.cols {
		d.cols[k] = r.codes(k, combos, lim.dictSizes[k])
	}
	d.counts = r.counts(combos)
	r.users(d, lim.users, false)
	d.active = r.bitmap(r.bytes(r.count(len(r.b), 1)), lim.users)
	d.requestIDs = r.requestIDs(r.count(1<<31-1, 8))
	return d
}

// segmentDir is the head of a format v2 or v3 segment: what follows its
// day up to its first section.
type segmentDir struct {
	combos  int
	fullIDs bool
	lens    [segmentSections]int    // of each section, in the segment
	plain   [segmentSections]int    // of what each zstd section holds
	sums    [segmentSections]uint32 // CRC-32C of each section (format v3)
	summed  bool                    // format v3: sums are set
}

// directory reads the head of a format v2 or v3 segment after its day,
// sections of at most limit bytes, and checks a v3 head's checksum, of
// frame's bytes (the frame's start) up to it. The zstd sections may hold
// at most maxZstdExpansion times limit in all, and maxFrameBytes.
func (r *reader) directory(limit int, frame []byte) segmentDir {
	dir := segmentDir{combos: r.count(1<<31-1, 0), fullIDs: r.flag(), summed: r.version == segmentVersion}
	budget := min(maxZstdExpansion*limit, maxFrameBytes) // of all the zstd sections
	for s := range dir.lens {
		dir.lens[s] = r.count(limit, 0)
		if isZstdSection(s) {
			dir.plain[s] = r.count(min(maxZstdExpansion*dir.lens[s], budget), 0)
			budget -= dir.plain[s]
			if r.err == nil && dir.combos > dir.plain[s] { // each combination takes a byte of each at least
				r.fail("%d combinations in a section of %d bytes", dir.combos, dir.plain[s])
			}
		}
		if dir.summed {
			dir.sums[s] = r.uint32()
		}
	}
	if dir.summed && r.err == nil {
		end := frameHeader + r.off
		if got := r.uint32(); r.err == nil && got != crc32.Checksum(frame[:end], castagnoli) {
			r.fail("head checksum mismatch")
		}
	}
	return dir
}

// uint32 reads 4 bytes, little-endian.
func (r *reader) uint32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// checkSection checks section s, raw, against the directory's checksum
// (format v3; v2 sections are checked by their frame's).
func (r *reader) checkSection(dir *segmentDir, s int, raw []byte) {
	if dir.summed && r.err == nil && crc32.Checksum(raw, castagnoli) != dir.sums[s] {
		r.fail("checksum mismatch in section %d", s)
	}
}

// index decodes the sections of a format v2 or v3 segment, secs, as its
// directory gives them. It decompresses every zstd section before it
// allocates anything sized by the combinations, so what it allocates is
// at most a few times what it decompressed; what it decompresses is at
// most what the directory gives (directory).
func (r *reader) index(dir *segmentDir, secs *[segmentSections][]byte, lim limits, dec *zstd.Decoder) *day {
	for s := range secs {
		r.checkSection(dir, s, secs[s])
	}
	var zs [secActive]*reader
	for s := range zs {
		zs[s] = r.unzip(secs[s], dir.plain[s], sectionName(s), dec)
		if r.err == nil {
			r.err = zs[s].err
		}
	}
	if r.err != nil {
		return nil
	}
	d := &day{fullIDs: dir.fullIDs, combos: dir.combos}
	for s := range zs {
		r.decodeSection(d, s, zs[s], lim)
	}
	d.active = r.bitmap(secs[secActive], lim.users)
	d.requestIDs = r.requestIDSection(secs[secRequestIDs])
	return d
}

// requestIDSection decodes raw, the request ids section of a format v2
// or v3 segment.
func (r *reader) requestIDSection(raw []byte) []uint64 {
	if len(raw)%8 != 0 {
		r.fail("request ids of %d bytes", len(raw))
	}
	c := &reader{key: r.key, b: raw}
	ids := c.requestIDs(len(c.b) / 8)
	r.sub(c)
	return ids
}

// decodeSection decodes zstd section s of d's segment, which z holds
// decompressed, into d: a code column, the event counts or the users.
func (r *reader) decodeSection(d *day, s int, z *reader, lim limits) {
	switch s {
	case secCounts:
		d.counts = z.counts(d.combos)
	case secUsers:
		d.offs = make([]uint32, d.combos+1)
		z.users(d, lim.users, true)
	default:
		d.cols[s] = z.codes(s, d.combos, lim.dictSizes[s])
	}
	r.sub(z)
}

// sectionName names zstd section s of a format v2 or v3 segment in errors.
func sectionName(s int) string {
	switch s {
	case secCounts:
		return "event counts"
	case secUsers:
		return "users"
	}
	return "codes of " + Dimension(s+1).String()
}

// unzip returns a reader over the zstd frame z of the segment, which must
// hold exactly plain bytes: section what, named in errors. It checks the
// frame's header against plain before it allocates plain bytes.
func (r *reader) unzip(z []byte, plain int, what string, dec *zstd.Decoder) *reader {
	c := &reader{key: r.key + " (" + what + ")", err: r.err}
	if r.err != nil {
		return c
	}
	var h zstd.Header
	err := h.Decode(z)
	if err == nil && h.HasFCS && h.FrameContentSize != uint64(plain) {
		err = fmt.Errorf("a frame of %d bytes, not %d", h.FrameContentSize, plain)
	}
	if err == nil {
		c.b, err = dec.DecodeAll(z, make([]byte, 0, plain))
	}
	if err == nil && len(c.b) != plain {
		err = fmt.Errorf("%d bytes, not %d", len(c.b), plain)
	}
	if err != nil {
		c.fail("%v", err)
	}
	return c
}

// sub takes the first error of c, a reader of a section, which must have
// been read whole.
func (r *reader) sub(c *reader) {
	if err := c.end(); err != nil && r.err == nil {
		r.err = err
	}
}

// codes reads the column of dimension column k: combos codes below size.
// Codes below 128 take one byte each: when the next combos bytes are all
// such, they are the column (the usual case, read in one pass).
func (r *reader) codes(k, combos, size int) column {
	if r.err != nil {
		return column{}
	}
	if raw := r.b[r.off:]; combos > 0 && len(raw) >= combos {
		raw = raw[:combos]
		lo, hi := raw[0], raw[0]
		for _, c := range raw {
			lo, hi = min(lo, c), max(hi, c)
		}
		if hi < 0x80 {
			if int(hi) >= size {
				r.fail("code %d of %s past its dictionary of %d", hi, Dimension(k+1), size)
				return column{}
			}
			r.off += combos
			return byteColumn(raw, lo, hi)
		}
	}
	codes := make([]uint32, combos)
	for i := 0; i < combos && r.err == nil; i++ {
		c := r.uvarint()
		if c >= uint64(size) {
			r.fail("code %d of %s past its dictionary of %d", c, Dimension(k+1), size)
		}
		codes[i] = uint32(c)
	}
	return newColumn(combos, func(i int) uint32 { return codes[i] })
}

// counts reads the event counts of combos combinations.
func (r *reader) counts(combos int) column {
	if r.err != nil {
		return column{}
	}
	counts := make([]uint32, combos)
	for i := 0; i < combos && r.err == nil; i++ {
		c := r.uvarint()
		if c > 1<<32-1 {
			r.fail("count %d overflows", c)
		}
		counts[i] = uint32(c)
	}
	return newColumn(combos, func(i int) uint32 { return counts[i] })
}

// users reads the users of each of d's combinations (d.offs is sized),
// ids below users. When r holds the users section alone (whole), d.users
// is allocated once: each uvarint ends with the one byte of it below
// 0x80, so the section's uvarints, less one count per combination, are
// its users.
func (r *reader) users(d *day, users int, whole bool) {
	if whole && r.err == nil {
		n := 0
		for _, c := range r.b[r.off:] {
			if c < 0x80 {
				n++
			}
		}
		d.users = make([]uint32, 0, max(0, n-d.numCombos()))
	}
	for i := 0; i < d.numCombos() && r.err == nil; i++ {
		m := r.count(users, 1)
		prev := uint64(0)
		for j := 0; j < m && r.err == nil; j++ {
			u := prev
			if r.off < len(r.b) && r.b[r.off] < 0x80 { // a one-byte uvarint, the usual delta
				u += uint64(r.b[r.off])
				r.off++
			} else {
				u += r.uvarint()
			}
			if u >= uint64(users) || j > 0 && u == prev {
				r.fail("user %d of combination %d out of order or range", u, i)
			}
			d.users = append(d.users, uint32(u))
			prev = u
		}
		d.offs[i+1] = uint32(len(d.users))
	}
}

// requestIDs reads n request-id hashes, which must ascend.
func (r *reader) requestIDs(n int) []uint64 {
	var ids []uint64
	for i := 0; i < n && r.err == nil; i++ {
		raw := r.bytes(8)
		if raw == nil {
			break
		}
		id := binary.LittleEndian.Uint64(raw)
		if i > 0 && id <= ids[i-1] {
			r.fail("request ids out of order")
		}
		ids = append(ids, id)
	}
	return ids
}

// bitmap decodes raw, a roaring set whose members are below n.
func (r *reader) bitmap(raw []byte, n int) *roaring.Bitmap {
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
