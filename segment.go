package insights

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// A segment frame (kind 'S') holds one sealed day. Format v3, written
// (frame version frame.SegmentVersion):
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
// (segrange.go). Format v2 (frame version frame.SegmentV2Version), read only: v3
// without the section and head checksums, its sections in the directory's
// order (the active users after the users, sectionLayout), and its event
// log's blocks of rows (logblock.Rows, not cut into columns: logsegment.go).
// Format v1 (frame version
// frame.Version), read only: day | combos | the code columns, the counts
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
	if v == frame.SegmentVersion {
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
			raw = frame.AppendUvarint(raw, uint64(d.cols[k].at(i)))
		}
		zip(k, raw)
	}
	raw = raw[:0]
	for i := range combos {
		raw = frame.AppendUvarint(raw, uint64(d.counts.at(i)))
	}
	zip(secCounts, raw)
	raw = raw[:0]
	for i := range int(combos) {
		us := d.usersOf(i)
		raw = frame.AppendUvarint(raw, uint64(len(us)))
		prev := uint32(0)
		for _, u := range us {
			raw = frame.AppendUvarint(raw, uint64(u-prev))
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
	b = frame.AppendUvarint(b, uint64(len(log)))
	b = append(b, log...)
	return frame.Seal(b), off, nil
}

// segmentSectionsFrame returns the start of the segment frame of day n
// with combos combinations, up to its log section: the head (allIDs, each
// section's length, uncompressed length plain for a zstd section, and
// checksum, then the head's checksum) and the sections secs in their
// layout.
func segmentSectionsFrame(n int32, combos uint32, allIDs bool, secs *[segmentSections][]byte, plain *[segmentSections]int) []byte {
	b := frame.New(frame.KindSegment)
	b = frame.AppendVarint(b, int64(n))
	b = frame.AppendUvarint(b, uint64(combos))
	b = frame.AppendFlag(b, allIDs)
	for s := range secs {
		b = frame.AppendUvarint(b, uint64(len(secs[s])))
		if isZstdSection(s) {
			b = frame.AppendUvarint(b, uint64(plain[s]))
		}
		b = binary.LittleEndian.AppendUint32(b, frame.Checksum(secs[s]))
	}
	b = binary.LittleEndian.AppendUint32(b, frame.Checksum(b))
	for _, s := range sectionLayout(frame.SegmentVersion) {
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
	r, err := frame.Open(key, frame.KindSegment, b)
	if err != nil {
		return nil, err
	}
	if got := r.Day32(); r.Err == nil && got != n {
		r.Fail("holds day %s, expected %s", dateOfNum(got), dateOfNum(n))
	}
	var d *day
	if r.Version == frame.Version {
		d = decodeDayV1(r, lim)
	} else {
		dir := readDirectory(r, len(r.Body), b)
		var secs [segmentSections][]byte
		for _, s := range sectionLayout(r.Version) {
			secs[s] = r.Bytes(dir.lens[s])
		}
		d = decodeSections(r, &dir, &secs, lim, dec)
	}
	if r.Err != nil {
		return nil, r.Err
	}
	d.logKey, d.logOff, d.logUsers, d.logDec = key, frame.Header+r.Off, lim.users, dec
	d.logGet = func() ([]byte, error) { return b, nil }
	r.Bytes(r.Count(len(r.Body), 1))
	if err := r.End(); err != nil {
		return nil, err
	}
	return d, nil
}

// decodeDayV1 reads the index of a format v1 segment, after its day.
func decodeDayV1(r *frame.Reader, lim limits) *day {
	combos := r.Count(1<<31-1, numIndexed+2)
	d := &day{combos: combos, offs: make([]uint32, combos+1), fullIDs: true}
	for k := range d.cols {
		d.cols[k] = readCodes(r, k, combos, lim.dictSizes[k])
	}
	d.counts = readCounts(r, combos)
	readUsers(r, d, lim.users, false)
	d.active = readActive(r, r.Bytes(r.Count(len(r.Body), 1)), lim.users)
	d.requestIDs = readRequestIDs(r, r.Count(1<<31-1, 8))
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

// readDirectory reads the head of a format v2 or v3 segment after its day,
// sections of at most limit bytes, and checks a v3 head's checksum, of
// seg's bytes (the frame's start) up to it. The zstd sections may hold
// at most maxZstdExpansion times limit in all, and maxFrameBytes.
func readDirectory(r *frame.Reader, limit int, seg []byte) segmentDir {
	dir := segmentDir{combos: r.Count(1<<31-1, 0), fullIDs: r.Flag(), summed: r.Version == frame.SegmentVersion}
	budget := min(maxZstdExpansion*limit, maxFrameBytes) // of all the zstd sections
	for s := range dir.lens {
		dir.lens[s] = r.Count(limit, 0)
		if isZstdSection(s) {
			dir.plain[s] = r.Count(min(maxZstdExpansion*dir.lens[s], budget), 0)
			budget -= dir.plain[s]
			if r.Err == nil && dir.combos > dir.plain[s] { // each combination takes a byte of each at least
				r.Fail("%d combinations in a section of %d bytes", dir.combos, dir.plain[s])
			}
		}
		if dir.summed {
			dir.sums[s] = r.Uint32()
		}
	}
	if dir.summed && r.Err == nil {
		end := frame.Header + r.Off
		if got := r.Uint32(); r.Err == nil && got != frame.Checksum(seg[:end]) {
			r.Fail("head checksum mismatch")
		}
	}
	return dir
}

// checkSection checks section s, raw, against the directory's checksum
// (format v3; v2 sections are checked by their frame's).
func checkSection(r *frame.Reader, dir *segmentDir, s int, raw []byte) {
	if dir.summed && r.Err == nil && frame.Checksum(raw) != dir.sums[s] {
		r.Fail("checksum mismatch in section %d", s)
	}
}

// decodeSections decodes the sections of a format v2 or v3 segment, secs, as its
// directory gives them. It decompresses every zstd section before it
// allocates anything sized by the combinations, so what it allocates is
// at most a few times what it decompressed; what it decompresses is at
// most what the directory gives (readDirectory).
func decodeSections(r *frame.Reader, dir *segmentDir, secs *[segmentSections][]byte, lim limits, dec *zstd.Decoder) *day {
	for s := range secs {
		checkSection(r, dir, s, secs[s])
	}
	var zs [secActive]*frame.Reader
	for s := range zs {
		zs[s] = unzipSection(r, secs[s], dir.plain[s], sectionName(s), dec)
		if r.Err == nil {
			r.Err = zs[s].Err
		}
	}
	if r.Err != nil {
		return nil
	}
	d := &day{fullIDs: dir.fullIDs, combos: dir.combos}
	for s := range zs {
		decodeSection(r, d, s, zs[s], lim)
	}
	d.active = readActive(r, secs[secActive], lim.users)
	d.requestIDs = requestIDSection(r, secs[secRequestIDs])
	return d
}

// requestIDSection decodes raw, the request ids section of a format v2
// or v3 segment.
func requestIDSection(r *frame.Reader, raw []byte) []uint64 {
	if len(raw)%8 != 0 {
		r.Fail("request ids of %d bytes", len(raw))
	}
	c := &frame.Reader{Key: r.Key, Body: raw}
	ids := readRequestIDs(c, len(c.Body)/8)
	endSub(r, c)
	return ids
}

// decodeSection decodes zstd section s of d's segment, which z holds
// decompressed, into d: a code column, the event counts or the users.
func decodeSection(r *frame.Reader, d *day, s int, z *frame.Reader, lim limits) {
	switch s {
	case secCounts:
		d.counts = readCounts(z, d.combos)
	case secUsers:
		d.offs = make([]uint32, d.combos+1)
		readUsers(z, d, lim.users, true)
	default:
		d.cols[s] = readCodes(z, s, d.combos, lim.dictSizes[s])
	}
	endSub(r, z)
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

// unzipSection returns a reader over the zstd frame z of the segment, which must
// hold exactly plain bytes: section what, named in errors. It checks the
// frame's header against plain before it allocates plain bytes.
func unzipSection(r *frame.Reader, z []byte, plain int, what string, dec *zstd.Decoder) *frame.Reader {
	c := &frame.Reader{Key: r.Key + " (" + what + ")", Err: r.Err}
	if r.Err != nil {
		return c
	}
	var h zstd.Header
	err := h.Decode(z)
	if err == nil && h.HasFCS && h.FrameContentSize != uint64(plain) {
		err = fmt.Errorf("a frame of %d bytes, not %d", h.FrameContentSize, plain)
	}
	if err == nil {
		c.Body, err = dec.DecodeAll(z, make([]byte, 0, plain))
	}
	if err == nil && len(c.Body) != plain {
		err = fmt.Errorf("%d bytes, not %d", len(c.Body), plain)
	}
	if err != nil {
		c.Fail("%v", err)
	}
	return c
}

// endSub takes the first error of c, a reader of a section, which must have
// been read whole.
func endSub(r *frame.Reader, c *frame.Reader) {
	if err := c.End(); err != nil && r.Err == nil {
		r.Err = err
	}
}

// readCodes reads the column of dimension column k: combos codes below size.
// Codes below 128 take one byte each: when the next combos bytes are all
// such, they are the column (the usual case, read in one pass).
func readCodes(r *frame.Reader, k, combos, size int) column {
	if r.Err != nil {
		return column{}
	}
	if raw := r.Body[r.Off:]; combos > 0 && len(raw) >= combos {
		raw = raw[:combos]
		lo, hi := raw[0], raw[0]
		for _, c := range raw {
			lo, hi = min(lo, c), max(hi, c)
		}
		if hi < 0x80 {
			if int(hi) >= size {
				r.Fail("code %d of %s past its dictionary of %d", hi, Dimension(k+1), size)
				return column{}
			}
			r.Off += combos
			return byteColumn(raw, lo, hi)
		}
	}
	codes := make([]uint32, combos)
	for i := 0; i < combos && r.Err == nil; i++ {
		c := r.Uvarint()
		if c >= uint64(size) {
			r.Fail("code %d of %s past its dictionary of %d", c, Dimension(k+1), size)
		}
		codes[i] = uint32(c)
	}
	return newColumn(combos, func(i int) uint32 { return codes[i] })
}

// readCounts reads the event counts of combos combinations.
func readCounts(r *frame.Reader, combos int) column {
	if r.Err != nil {
		return column{}
	}
	counts := make([]uint32, combos)
	for i := 0; i < combos && r.Err == nil; i++ {
		c := r.Uvarint()
		if c > 1<<32-1 {
			r.Fail("count %d overflows", c)
		}
		counts[i] = uint32(c)
	}
	return newColumn(combos, func(i int) uint32 { return counts[i] })
}

// readUsers reads the users of each of d's combinations (d.offs is sized),
// ids below users. When r holds the users section alone (whole), d.users
// is allocated once: each uvarint ends with the one byte of it below
// 0x80, so the section's uvarints, less one count per combination, are
// its users.
func readUsers(r *frame.Reader, d *day, users int, whole bool) {
	if whole && r.Err == nil {
		n := 0
		for _, c := range r.Body[r.Off:] {
			if c < 0x80 {
				n++
			}
		}
		d.users = make([]uint32, 0, max(0, n-d.numCombos()))
	}
	for i := 0; i < d.numCombos() && r.Err == nil; i++ {
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
			d.users = append(d.users, uint32(u))
			prev = u
		}
		d.offs[i+1] = uint32(len(d.users))
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
