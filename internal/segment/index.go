package segment

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/klauspost/compress/zstd"
)

// NumColumns is the number of code columns of a segment, one per indexed
// dimension: the format has one section for each.
const NumColumns = 27

// The sections of a format v2 or v3 segment, in the directory's order:
// the code columns 0 to NumColumns-1, then these.
const (
	SecCounts     = NumColumns + iota // event counts
	SecUsers                          // users of each combination
	SecActive                         // active users
	SecRequestIDs                     // request-id hashes
	NumSections
)

// Index is a sealed day's index as a segment holds it: Combos
// combinations, each with one code per column in Cols and its event
// count in Counts; the users of combination i are
// Users[Offs[i]:Offs[i+1]], ascending; Active the day's active users;
// RequestIDs hashes of request ids, ascending: every one of the day's when
// FullIDs, else only those its log lacks. A value holds slices, not
// copies: it is converted to and from the engine's day by copying slice
// headers, and is immutable once built.
type Index struct {
	Combos     int
	Cols       [NumColumns]Column
	Counts     Column
	Offs       []uint32
	Users      []uint32
	Active     *roaring.Bitmap
	RequestIDs []uint64
	FullIDs    bool
}

// UsersOf returns the users of combination i (shared; do not modify).
func (x *Index) UsersOf(i int) []uint32 { return x.Users[x.Offs[i]:x.Offs[i+1]] }

// Limits bounds what a decoded segment may reference: the size of each
// column's dictionary and the number of users of the catalog it belongs
// to. Names names each column in errors.
type Limits struct {
	DictSizes [NumColumns]int
	Users     int
	Names     [NumColumns]string
}

// Layout returns the sections of a segment of frame version v (format v2
// or v3) in the order they are laid out: the directory's order, but that
// format v3 puts the active set first, right after the head, so that one
// read of a segment's start holds both (RangedActive).
func Layout(v byte) [NumSections]int {
	var l [NumSections]int
	for s := range l {
		l[s] = s
	}
	if v == frame.SegmentVersion {
		copy(l[1:], l[:SecActive])
		l[0] = SecActive
	}
	return l
}

// maxZstdExpansion bounds what a zstd frame of n bytes holds (logblock).
const maxZstdExpansion = logblock.MaxZstdExpansion

// Encode returns the segment frame (format v3) of day n whose index is x
// and whose event log section (EncodeLog) is log, and the frame offset of
// the log section. It writes x.RequestIDs as they are and x.FullIDs as
// the flag saying they are all the day's. enc compresses the zstd
// sections (EncodeAll: safe for concurrent use). Cost: one pass over the
// index, and the compression of the columns, counts and users.
func Encode(n int32, x *Index, log []byte, enc *zstd.Encoder) ([]byte, int) {
	var secs [NumSections][]byte
	var plain [NumSections]int
	zip := func(s int, raw []byte) {
		secs[s], plain[s] = enc.EncodeAll(raw, nil), len(raw)
	}
	combos := uint32(x.Combos)
	var raw []byte
	for k := range x.Cols {
		raw = raw[:0]
		for i := range combos {
			raw = frame.AppendUvarint(raw, uint64(x.Cols[k].At(i)))
		}
		zip(k, raw)
	}
	raw = raw[:0]
	for i := range combos {
		raw = frame.AppendUvarint(raw, uint64(x.Counts.At(i)))
	}
	zip(SecCounts, raw)
	raw = raw[:0]
	for i := range x.Combos {
		us := x.UsersOf(i)
		raw = frame.AppendUvarint(raw, uint64(len(us)))
		prev := uint32(0)
		for _, u := range us {
			raw = frame.AppendUvarint(raw, uint64(u-prev))
			prev = u
		}
	}
	zip(SecUsers, raw)
	secs[SecActive], _ = x.Active.ToBytes() // writes to memory: cannot fail
	for _, id := range x.RequestIDs {
		secs[SecRequestIDs] = binary.LittleEndian.AppendUint64(secs[SecRequestIDs], id)
	}
	b := sectionsFrame(n, combos, x.FullIDs, &secs, &plain)
	off := len(b)
	b = frame.AppendUvarint(b, uint64(len(log)))
	b = append(b, log...)
	return frame.Seal(b), off
}

// sectionsFrame returns the start of the segment frame of day n with
// combos combinations, up to its log section: the head (allIDs, each
// section's length, uncompressed length plain for a zstd section, and
// checksum, then the head's checksum) and the sections secs in their
// layout.
func sectionsFrame(n int32, combos uint32, allIDs bool, secs *[NumSections][]byte, plain *[NumSections]int) []byte {
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
	for _, s := range Layout(frame.SegmentVersion) {
		b = append(b, secs[s]...)
	}
	return b
}

// isZstdSection reports whether section s is a zstd frame.
func isZstdSection(s int) bool { return s < SecActive }

// Decode decodes the segment stored under key, b, of format v1, v2 or
// v3, which must be of day n and reference only codes and users within
// lim. It returns the index and the frame offset of the log section,
// which it checks for its length only: DecodeLog decodes it. The index
// shares no memory with b. dec decompresses the zstd sections (DecodeAll:
// safe for concurrent use). Errors wrap frame.ErrCorrupt and name key.
func Decode(key string, b []byte, n int32, lim *Limits, dec *zstd.Decoder) (*Index, int, error) {
	r, err := frame.Open(key, frame.KindSegment, b)
	if err != nil {
		return nil, 0, err
	}
	checkDay(r, n)
	var x *Index
	if r.Version == frame.Version {
		x = decodeV1(r, lim)
	} else {
		dir := readDirectory(r, len(r.Body), b)
		var secs [NumSections][]byte
		for _, s := range Layout(r.Version) {
			secs[s] = r.Bytes(dir.Lens[s])
		}
		x = decodeSections(r, &dir, &secs, lim, dec)
	}
	if r.Err != nil {
		return nil, 0, r.Err
	}
	off := frame.Header + r.Off
	r.Bytes(r.Count(len(r.Body), 1))
	if err := r.End(); err != nil {
		return nil, 0, err
	}
	return x, off, nil
}

// checkDay reads the day of a segment, which must be n.
func checkDay(r *frame.Reader, n int32) {
	if got := r.Day32(); r.Err == nil && got != n {
		r.Fail("holds day %s, expected %s", dayName(got), dayName(n))
	}
}

// dayName spells day number n (days since 1970-01-01) as a date.
func dayName(n int32) string {
	t := time.Unix(int64(n)*86400, 0).UTC()
	return fmt.Sprintf("%04d-%02d-%02d", t.Year(), t.Month(), t.Day())
}

// decodeV1 reads the index of a format v1 segment, after its day.
func decodeV1(r *frame.Reader, lim *Limits) *Index {
	combos := r.Count(1<<31-1, NumColumns+2)
	x := &Index{Combos: combos, Offs: make([]uint32, combos+1), FullIDs: true}
	for k := range x.Cols {
		x.Cols[k] = readCodes(r, k, combos, lim)
	}
	x.Counts = readCounts(r, combos)
	readUsers(r, x, lim.Users, false)
	x.Active = readActive(r, r.Bytes(r.Count(len(r.Body), 1)), lim.Users)
	x.RequestIDs = readRequestIDs(r, r.Count(1<<31-1, 8))
	return x
}

// Dir is the head of a format v2 or v3 segment: what follows its day up
// to its first section.
type Dir struct {
	Combos  int
	FullIDs bool
	Lens    [NumSections]int    // of each section, in the segment
	Plain   [NumSections]int    // of what each zstd section holds
	Sums    [NumSections]uint32 // CRC-32C of each section (format v3)
	Summed  bool                // format v3: Sums are set
}

// readDirectory reads the head of a format v2 or v3 segment after its day,
// sections of at most limit bytes, and checks a v3 head's checksum, of
// seg's bytes (the frame's start) up to it. The zstd sections may hold
// at most maxZstdExpansion times limit in all, and MaxFrameBytes.
func readDirectory(r *frame.Reader, limit int, seg []byte) Dir {
	dir := Dir{Combos: r.Count(1<<31-1, 0), FullIDs: r.Flag(), Summed: r.Version == frame.SegmentVersion}
	budget := min(maxZstdExpansion*limit, MaxFrameBytes) // of all the zstd sections
	for s := range dir.Lens {
		dir.Lens[s] = r.Count(limit, 0)
		if isZstdSection(s) {
			dir.Plain[s] = r.Count(min(maxZstdExpansion*dir.Lens[s], budget), 0)
			budget -= dir.Plain[s]
			if r.Err == nil && dir.Combos > dir.Plain[s] { // each combination takes a byte of each at least
				r.Fail("%d combinations in a section of %d bytes", dir.Combos, dir.Plain[s])
			}
		}
		if dir.Summed {
			dir.Sums[s] = r.Uint32()
		}
	}
	if dir.Summed && r.Err == nil {
		end := frame.Header + r.Off
		if got := r.Uint32(); r.Err == nil && got != frame.Checksum(seg[:end]) {
			r.Fail("head checksum mismatch")
		}
	}
	return dir
}

// checkSection checks section s, raw, against the directory's checksum
// (format v3; v2 sections are checked by their frame's).
func checkSection(r *frame.Reader, dir *Dir, s int, raw []byte) {
	if dir.Summed && r.Err == nil && frame.Checksum(raw) != dir.Sums[s] {
		r.Fail("checksum mismatch in section %d", s)
	}
}

// decodeSections decodes the sections of a format v2 or v3 segment, secs, as its
// directory gives them. It decompresses every zstd section before it
// allocates anything sized by the combinations, so what it allocates is
// at most a few times what it decompressed; what it decompresses is at
// most what the directory gives (readDirectory).
func decodeSections(r *frame.Reader, dir *Dir, secs *[NumSections][]byte, lim *Limits, dec *zstd.Decoder) *Index {
	for s := range secs {
		checkSection(r, dir, s, secs[s])
	}
	var zs [SecActive]*frame.Reader
	for s := range zs {
		zs[s] = unzipSection(r, secs[s], dir.Plain[s], sectionName(s, lim), dec)
		if r.Err == nil {
			r.Err = zs[s].Err
		}
	}
	if r.Err != nil {
		return nil
	}
	x := &Index{FullIDs: dir.FullIDs, Combos: dir.Combos}
	for s := range zs {
		decodeSection(r, x, s, zs[s], lim)
	}
	x.Active = readActive(r, secs[SecActive], lim.Users)
	x.RequestIDs = requestIDSection(r, secs[SecRequestIDs])
	return x
}

// DecodeSection decodes zstd section s (a code column, the event counts
// or the users) of the format v3 segment under key, raw, at frame offset
// off, as its directory dir gives it, into x, whose Combos is set: it
// sets x's column s, Counts, or Offs and Users. Errors wrap
// frame.ErrCorrupt and name key and the section; x is then unchanged but
// for a part of that field.
func (x *Index) DecodeSection(key string, off int, dir *Dir, s int, raw []byte, lim *Limits, dec *zstd.Decoder) error {
	r := &frame.Reader{Key: key, Off: off - frame.Header, Version: frame.SegmentVersion}
	checkSection(r, dir, s, raw)
	c := unzipSection(r, raw, dir.Plain[s], sectionName(s, lim), dec)
	decodeSection(r, x, s, c, lim)
	return r.Err
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

// decodeSection decodes zstd section s of x's segment, which z holds
// decompressed, into x: a code column, the event counts or the users.
func decodeSection(r *frame.Reader, x *Index, s int, z *frame.Reader, lim *Limits) {
	switch s {
	case SecCounts:
		x.Counts = readCounts(z, x.Combos)
	case SecUsers:
		x.Offs = make([]uint32, x.Combos+1)
		readUsers(z, x, lim.Users, true)
	default:
		x.Cols[s] = readCodes(z, s, x.Combos, lim)
	}
	endSub(r, z)
}

// sectionName names zstd section s of a format v2 or v3 segment in errors.
func sectionName(s int, lim *Limits) string {
	switch s {
	case SecCounts:
		return "event counts"
	case SecUsers:
		return "users"
	}
	return "codes of " + lim.Names[s]
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
