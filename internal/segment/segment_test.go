package segment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/logblock"
	"github.com/insightslab/insights/internal/segmenttest"
	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// testDay is the day number of the fixture's segment (2025-01-04).
const testDay = 20092

// codec returns zstd coders as the engine sets them up.
func codec() (*zstd.Encoder, *zstd.Decoder) {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxFrameBytes), zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true))
	return enc, dec
}

// fixture returns a day's index and log of 60 combinations, their
// columns of every width (one code throughout, below 128, one byte, two
// bytes, four bytes), principals and an erased user among the log's
// entries, and limits just wide enough; and the segment encoding them.
func fixture(tb testing.TB) (*Index, *Log, *Limits, []byte) {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	const combos, users = 60, 100
	lim := &Limits{Users: users}
	x := &Index{Combos: combos, Offs: make([]uint32, combos+1), Active: roaring.New()}
	widths := []uint32{1, 100, 250, 60000, 1 << 20}
	for k := range x.Cols {
		size := widths[k%len(widths)]
		codes := make([]uint32, combos)
		for i := range codes {
			codes[i] = r.Uint32N(size)
		}
		x.Cols[k] = NewColumn(combos, func(i int) uint32 { return codes[i] })
		lim.DictSizes[k], lim.Names[k] = int(size), fmt.Sprintf("dim%d", k)
	}
	counts := make([]uint32, combos)
	l := &Log{Offs: []uint32{0}}
	var recs []byte
	t := int64(1735948800e9)
	for i := range combos {
		counts[i] = 1 + r.Uint32N(4)
		us := roaring.New()
		for range r.IntN(4) {
			us.Add(r.Uint32N(users))
		}
		x.Users = append(x.Users, us.ToArray()...)
		x.Offs[i+1] = uint32(len(x.Users))
		x.Active.Or(us)
		for e := range counts[i] {
			t += int64(1+r.IntN(60)) * 1e9
			u := NoUser
			if m := x.UsersOf(i); len(m) > 0 {
				u = m[int(e)%len(m)]
			}
			if r.IntN(9) == 0 {
				u = ErasedUser
			}
			rec := fmt.Appendf(nil, "record %d of combination %d", e, i)
			if u == ErasedUser {
				rec = nil
			}
			l.Times, l.Users, l.Combos = append(l.Times, t), append(l.Users, u), append(l.Combos, uint32(i))
			recs = append(recs, rec...)
			l.Offs = append(l.Offs, uint32(len(recs)))
		}
	}
	l.Chunks = segmenttest.Chunks(recs, l.Offs)
	x.Counts = NewColumn(combos, func(i int) uint32 { return counts[i] })
	for range 20 {
		x.RequestIDs = append(x.RequestIDs, r.Uint64())
	}
	slices.Sort(x.RequestIDs)
	enc, _ := codec()
	seg, _ := Encode(testDay, x, encodeLog(tb, l, enc), enc)
	return x, l, lim, seg
}

// sameIndex reports whether two indexes hold the same.
func sameIndex(a, b *Index) bool {
	return a.Combos == b.Combos && reflect.DeepEqual(a.Cols, b.Cols) && reflect.DeepEqual(a.Counts, b.Counts) &&
		slices.Equal(a.Offs, b.Offs) && slices.Equal(a.Users, b.Users) && a.FullIDs == b.FullIDs &&
		a.Active.Equals(b.Active) && slices.Equal(a.RequestIDs, b.RequestIDs)
}

// sameLog reports whether two logs hold the same entries (their records
// aside).
func sameLog(a, b *Log) bool {
	return slices.Equal(a.Times, b.Times) && slices.Equal(a.Users, b.Users) && slices.Equal(a.Combos, b.Combos) &&
		slices.Equal(a.Offs, b.Offs)
}

// records returns every record of l, reading its blocks.
func records(l *Log, dec *zstd.Decoder) ([]byte, error) {
	if l.Blocks == nil {
		return bytes.Join(l.Chunks, nil), nil
	}
	var out []byte
	var rd logblock.Reader
	n := len(l.Times)
	for k, block := range l.Blocks {
		from, to := k*l.PerBlock, min((k+1)*l.PerBlock, n)
		recs, err := rd.Decode(dec, l.Format, block, nil, to-from, int(l.Offs[to]-l.Offs[from]))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// decodeLogOf decodes the log section of seg, whose index is x.
func decodeLogOf(key string, seg []byte, off int, x *Index, lim *Limits, dec *zstd.Decoder) (Log, error) {
	r, err := frame.Open(key, frame.KindSegment, seg)
	if err != nil {
		return Log{}, err
	}
	r.Off = off - frame.Header
	raw := r.Bytes(r.Count(len(r.Body), 1))
	if r.Err != nil {
		return Log{}, r.Err
	}
	events := uint64(0)
	for i := range uint32(x.Combos) {
		events += uint64(x.Counts.At(i))
	}
	return DecodeLog(key, raw, r.Version, x.Combos, events, lim.Users, dec)
}

// TestRoundTrip: a segment decodes to the index and log it was encoded
// from, whole, by ranges, and its zstd sections one at a time; encoded
// again, it gives the same bytes.
func TestRoundTrip(t *testing.T) {
	x, l, lim, seg := fixture(t)
	enc, dec := codec()
	got, off, err := Decode("seg", seg, testDay, lim, dec)
	if err != nil || !sameIndex(got, x) {
		t.Fatalf("decoded whole: %v, or a different index", err)
	}
	gl, err := decodeLogOf("seg", seg, off, got, lim, dec)
	if err != nil || !sameLog(&gl, l) {
		t.Fatalf("the log decodes with %v, or differs", err)
	}
	if recs, err := records(&gl, dec); err != nil || !bytes.Equal(recs, bytes.Join(l.Chunks, nil)) {
		t.Fatalf("the records read back with %v, or differ", err)
	}
	if again, _ := Encode(testDay, got, encodeLog(t, &gl, enc), enc); !bytes.Equal(again, seg) {
		t.Fatal("encoded again, the segment differs")
	}
	m := memOf(t, seg)
	part, g, err := ReadRanged(t.Context(), m, "seg", testDay, lim)
	if err != nil || g.LogOff != off {
		t.Fatalf("read by ranges: %v, log at %d, want %d", err, g.LogOff, off)
	}
	for s := range SecActive {
		raw := seg[g.At[s] : g.At[s]+g.Dir.Lens[s]]
		if err := part.DecodeSection("seg", g.At[s], &g.Dir, s, raw, lim, dec); err != nil {
			t.Fatalf("section %d: %v", s, err)
		}
	}
	if !sameIndex(part, x) {
		t.Fatal("read by ranges, a different index")
	}
	if a, err := RangedActive(t.Context(), m, "seg", testDay, lim.Users); err != nil || !a.Equals(x.Active) {
		t.Fatalf("the active set read alone: %v, or different", err)
	}
}

// TestSectionDamage: each section's content damaged (its checksums made
// right, so that its decoder meets the damage) is ErrCorrupt naming the
// key and the section, read whole and read by ranges.
func TestSectionDamage(t *testing.T) {
	x, l, lim, _ := fixture(t)
	enc, dec := codec()
	names := map[int]string{SecCounts: "(event counts)", SecUsers: "(users)", SecActive: "user set", SecRequestIDs: "request ids"}
	for s := range NumSections {
		want := names[s]
		if s < NumColumns {
			want = "(codes of " + lim.Names[s] + ")"
		}
		secs, plain := sections(x, enc)
		raw := secs[s]
		if isZstdSection(s) {
			raw, _ = dec.DecodeAll(raw, nil)
		}
		raw = append(slices.Clone(raw), 0xff) // a byte past what the section holds, or a torn value
		if s < NumColumns || s == SecCounts {
			raw[0] = 0xff // a code past its dictionary, or a count of more than 32 bits
			raw = append(raw, 0xff, 0xff, 0xff, 0x7f)
		}
		switch s {
		case SecActive:
			raw = raw[:len(raw)/2] // torn
		case SecRequestIDs:
			raw = raw[:len(raw)-1]
			copy(raw[8:16], raw[:8]) // twice the same: not ascending
		}
		plain[s] = len(raw)
		secs[s] = raw
		if isZstdSection(s) {
			secs[s] = enc.EncodeAll(raw, nil)
		}
		seg := frame.Seal(append(sectionsFrame(testDay, uint32(x.Combos), x.FullIDs, &secs, &plain), logSection(t, l, enc)...))
		_, _, err := Decode("seg", seg, testDay, lim, dec)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "seg") || !strings.Contains(err.Error(), want) {
			t.Errorf("section %d damaged, read whole: %v, want ErrCorrupt naming seg and %q", s, err, want)
		}
		if _, err = readRanged(t.Context(), memOf(t, seg), testDay, lim, dec, 1<<SecActive-1); err == nil {
			_, err = RangedActive(t.Context(), memOf(t, seg), "seg", testDay, lim.Users)
		}
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "seg") || !strings.Contains(err.Error(), want) {
			t.Errorf("section %d damaged, read by ranges: %v, want ErrCorrupt naming seg and %q", s, err, want)
		}
	}
}

// sections returns x's sections as Encode lays them, with the sizes of
// what the zstd ones hold.
func sections(x *Index, enc *zstd.Encoder) ([NumSections][]byte, [NumSections]int) {
	seg, _ := Encode(testDay, x, nil, enc)
	r, _ := frame.Open("seg", frame.KindSegment, seg)
	r.Day32()
	dir := readDirectory(r, len(r.Body), seg)
	var secs [NumSections][]byte
	for _, s := range Layout(frame.SegmentVersion) {
		secs[s] = r.Bytes(dir.Lens[s])
	}
	return secs, dir.Plain
}

// logSection returns the log section of l as a segment ends with it.
func logSection(tb testing.TB, l *Log, enc *zstd.Encoder) []byte {
	log := encodeLog(tb, l, enc)
	return append(frame.AppendUvarint(nil, uint64(len(log))), log...)
}

// encodeLog returns EncodeLog(l, enc), failing tb if it fails.
func encodeLog(tb testing.TB, l *Log, enc *zstd.Encoder) []byte {
	tb.Helper()
	log, err := EncodeLog(l, enc)
	if err != nil {
		tb.Fatal(err)
	}
	return log
}

// memOf returns a memory store holding seg under "seg".
func memOf(tb testing.TB, seg []byte) *store.Memory {
	m := store.NewMemory()
	if err := m.Put(context.Background(), "seg", seg); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestDamageIsCorrupt: the segment cut short anywhere, or with any byte
// changed (its checksum made right again, so that the body decoder meets
// the damage), decodes to ErrCorrupt naming its key, or to an index whose
// log and records read back or fail with ErrCorrupt naming the key; never
// a panic. Unsealed, a cut is refused.
func TestDamageIsCorrupt(t *testing.T) {
	_, _, lim, seg := fixture(t)
	_, dec := codec()
	const key = "days/2025-01-04/00000000000000a1"
	check := func(what string, b []byte) {
		t.Helper()
		x, off, err := Decode(key, b, testDay, lim, dec)
		if err == nil {
			var l Log
			if l, err = decodeLogOf(key, b, off, x, lim, dec); err == nil {
				if _, err = records(&l, dec); err != nil {
					return // the blocks' errors are logblock's: the engine names the key (recordCursor)
				}
			}
		}
		if err != nil && (!errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), key)) {
			t.Fatalf("%s: %v, want ErrCorrupt naming %s", what, err, key)
		}
	}
	for i := frame.Header; i < len(seg)-frame.Trailer; i++ {
		check("cut", frame.Seal(bytes.Clone(seg[:i])))
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(seg[:len(seg)-frame.Trailer])
			b[i] ^= x
			check("changed", frame.Seal(b))
		}
	}
	for i := range len(seg) { // unsealed: the checksum catches it
		if _, _, err := Decode(key, seg[:i], testDay, lim, dec); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Fatalf("cut at %d: %v, want ErrCorrupt naming %s", i, err, key)
		}
	}
}

// TestHostileSizes (review S2): a segment whose directory claims more
// combinations than some section holds bytes, that sections of garbage
// hold 32768 times their bytes, or that a section holds more than its
// zstd frame's header states, is ErrCorrupt naming its key and where the
// claim is refuted, and decoding it allocates under 1 MB: nothing is
// sized by a claim the directory or a section's frame header already
// contradicts, nor by the combinations before every section has
// decompressed. The segments are of format v3, their checksums right, so
// that the decoder meets the claims.
func TestHostileSizes(t *testing.T) {
	enc, dec := codec()
	const key = "days/2024-10-04/0000000000000001"
	lim := &Limits{Users: 10}
	for k := range lim.DictSizes {
		lim.DictSizes[k], lim.Names[k] = 10, fmt.Sprintf("dim%d", k)
	}
	empty := enc.EncodeAll(nil, nil)
	zeros := enc.EncodeAll(make([]byte, 1<<16), nil)
	big := enc.EncodeAll(make([]byte, 4<<20), nil) // a frame of 4 MiB whose header says so
	for _, c := range []struct {
		what           string
		combos         int
		garbage, plain int    // garbage sections 0 to n-1 of plain bytes each claim 32768 times that
		zero           []byte // else section 0 holds this frame of zeros
		zeros          int    // and claims it holds this many bytes
		want           []string
	}{
		{"section 0 garbage, the others empty", 64 * maxZstdExpansion, 1, 64, nil, 0,
			[]string{fmt.Sprintf("%d combinations in a section of 0 bytes", 64*maxZstdExpansion)}},
		{"section 0 garbage, the others empty", 8 << 10 * maxZstdExpansion, 1, 8 << 10, nil, 0,
			[]string{fmt.Sprintf("%d combinations in a section of 0 bytes", 8<<10*maxZstdExpansion)}},
		{"every zstd section garbage", 64 * maxZstdExpansion, SecActive, 64, nil, 0, []string{"(codes of dim0)", "magic number mismatch"}},
		{"every zstd section garbage, past the directory's budget", 8 << 10 * maxZstdExpansion, SecActive, 8 << 10, nil, 0,
			[]string{fmt.Sprintf("count %d is out of bounds", 8<<10*maxZstdExpansion)}},
		{"section 0 valid, the others empty", 1 << 16, 0, 0, zeros, 1 << 16, []string{"65536 combinations in a section of 0 bytes"}},
		{"section 0 claims more than its frame", 0, 0, 0, big, 8 << 20, []string{"(codes of dim0)", "a frame of 4194304 bytes, not 8388608"}},
		{"section 0 claims less than its frame", 0, 0, 0, big, 1 << 10, []string{"(codes of dim0)", "a frame of 4194304 bytes, not 1024"}},
	} {
		var secs [NumSections][]byte
		var plain [NumSections]int
		for s := range secs {
			switch {
			case s < c.garbage:
				secs[s], plain[s] = bytes.Repeat([]byte{0xab}, c.plain), c.plain*maxZstdExpansion
			case s == 0:
				secs[s], plain[s] = c.zero, c.zeros
			case isZstdSection(s):
				secs[s] = empty
			}
		}
		b := frame.Seal(frame.AppendUvarint(sectionsFrame(20000, uint32(c.combos), true, &secs, &plain), 0))
		Decode(key, b, 20000, lim, dec) // warm the decoder
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, _, err := Decode(key, b, 20000, lim, dec)
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s, %d combinations: %v, want ErrCorrupt naming %s", c.what, c.combos, err, key)
		}
		for _, want := range c.want {
			if err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("%s, %d combinations: %v, want it saying %q", c.what, c.combos, err, want)
			}
		}
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
			t.Errorf("%s, %d combinations: a segment of %d bytes allocated %d bytes to decode", c.what, c.combos, len(b), n)
		}
	}
}

// TestLogColumnsHostile: a log section whose columns are not a zstd frame,
// or whose frame states more than its events can take, is ErrCorrupt
// naming the key, found from the frame's header before the columns'
// buffer (up to 32 bytes an event) is allocated.
func TestLogColumnsHostile(t *testing.T) {
	enc, dec := codec()
	const key = "days/2024-10-04/0000000000000001"
	const events = 1 << 20 // a buffer of up to 32 MiB
	big := enc.EncodeAll(make([]byte, 64<<20), nil)
	for _, c := range []struct {
		what string
		cols []byte
	}{
		{"64 KiB of garbage", bytes.Repeat([]byte{0xa5}, 64<<10)},
		{"a frame of 64 MiB", big},
	} {
		raw := append(frame.AppendUvarint(nil, uint64(len(c.cols))), c.cols...)
		DecodeLog(key, raw, frame.SegmentVersion, 1, events, 1, dec) // warm the decoder
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, err := DecodeLog(key, raw, frame.SegmentVersion, 1, events, 1, dec)
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want ErrCorrupt naming %s", c.what, err, key)
		}
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20+uint64(2*len(raw)) {
			t.Errorf("%s: %d bytes allocated to refuse a section of %d", c.what, n, len(raw))
		}
	}
}

// corpusInput returns the input of the fuzz seed file at path (a single
// []byte, as go test writes it).
func corpusInput(tb testing.TB, path string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	lit, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "go test fuzz v1\n[]byte(")
	if !ok || !strings.HasSuffix(lit, ")") {
		tb.Fatalf("%s: not a []byte fuzz input", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// TestEngineSegmentAlike: a segment the engine wrote before this package
// owned the format (the FuzzRangedSegment seed) decodes, and its index and
// log encode again to the same bytes: the layout, the directory, the
// checksums and the zstd levels are the engine's.
func TestEngineSegmentAlike(t *testing.T) {
	_, _, lim, _ := fixture(t)
	lim = fuzzLimits(lim)
	seg := corpusInput(t, filepath.Join("testdata", "fuzz", "FuzzRangedSegment", "v3-segment"))
	enc, dec := codec()
	index, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	r := &frame.Reader{Body: seg[frame.Header:]}
	n := r.Day32()
	x, off, err := Decode("seg", seg, n, lim, dec)
	if err != nil {
		t.Fatal(err)
	}
	l, err := decodeLogOf("seg", seg, off, x, lim, dec)
	if err != nil {
		t.Fatal(err)
	}
	again, againOff := Encode(n, x, encodeLog(t, &l, enc), index)
	if !bytes.Equal(again, seg) || againOff != off {
		t.Fatalf("encoded again: %d bytes, log at %d; the engine's: %d bytes, log at %d", len(again), againOff, len(seg), off)
	}
}

// TestSectionChecksums: a byte of any section changed, the frame's
// checksum made right again, is ErrCorrupt naming the section's checksum,
// read whole and read by ranges.
func TestSectionChecksums(t *testing.T) {
	_, _, lim, seg := fixture(t)
	_, dec := codec()
	_, g, err := ReadRanged(t.Context(), memOf(t, seg), "seg", testDay, lim)
	if err != nil {
		t.Fatal(err)
	}
	for s := range NumSections {
		b := bytes.Clone(seg[:len(seg)-frame.Trailer])
		b[g.At[s]+g.Dir.Lens[s]/2] ^= 0x10
		b = frame.Seal(b)
		want := fmt.Sprintf("checksum mismatch in section %d", s)
		_, _, err := Decode("seg", b, testDay, lim, dec)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("section %d changed, read whole: %v, want ErrCorrupt saying %q", s, err, want)
		}
		if _, err = readRanged(t.Context(), memOf(t, b), testDay, lim, dec, 1<<SecActive-1); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("section %d changed, read by ranges: %v, want ErrCorrupt saying %q", s, err, want)
		}
	}
}

// TestLimitsExact: the fixture decodes within limits that just hold its
// codes and users, and is ErrCorrupt naming the column, or the users (of
// the users section, or of the active set, whichever is read first),
// within limits one smaller, read whole and read by ranges.
func TestLimitsExact(t *testing.T) {
	x, _, _, seg := fixture(t)
	_, dec := codec()
	exact := &Limits{}
	for k := range x.Cols {
		exact.Names[k] = fmt.Sprintf("dim%d", k)
		for i := range uint32(x.Combos) {
			exact.DictSizes[k] = max(exact.DictSizes[k], int(x.Cols[k].At(i))+1)
		}
	}
	exact.Users = int(x.Active.Maximum()) + 1
	for _, u := range x.Users {
		exact.Users = max(exact.Users, int(u)+1)
	}
	read := func(lim *Limits) (error, error) {
		_, _, err := Decode("seg", seg, testDay, lim, dec)
		_, rerr := readRanged(t.Context(), memOf(t, seg), testDay, lim, dec, 1<<SecActive-1)
		return err, rerr
	}
	if err, rerr := read(exact); err != nil || rerr != nil {
		t.Fatalf("within exact limits: %v, %v", err, rerr)
	}
	for k := range NumColumns + 1 {
		// Read whole, the users section comes before the active set; by
		// ranges, after it.
		lim, want, rwant := *exact, "(users)", "past the"
		if k < NumColumns {
			lim.DictSizes[k]--
			want = "of " + lim.Names[k] + " past its dictionary"
			rwant = want
		} else {
			lim.Users--
		}
		err, rerr := read(&lim)
		if !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("a limit one smaller (%d), read whole: %v, want ErrCorrupt saying %q", k, err, want)
		}
		if !errors.Is(rerr, frame.ErrCorrupt) || !strings.Contains(rerr.Error(), rwant) {
			t.Errorf("a limit one smaller (%d), read by ranges: %v, want ErrCorrupt saying %q", k, rerr, rwant)
		}
	}
}
