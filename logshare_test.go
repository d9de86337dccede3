package insights

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/insightslab/insights/internal/frame"
	"github.com/insightslab/insights/internal/segment"
	"github.com/insightslab/insights/internal/segmenttest"
)

// A sealed day's log and the builders made from it (seal, thaw, joined)
// share chunks: a builder's appends must never write what the day holds.
// These tests break if one of those places hands its log on instead of a
// view or a copy (review of the chunked log, session 10).

// recordsBuilder returns a builder of n events whose records, returned
// too, vary in length and are tagged tag.
func recordsBuilder(n int, tag string) (*dayBuilder, []string) {
	b := newDayBuilder()
	var want []string
	for i := range n {
		r := fmt.Sprintf("%s%d-%s", tag, i, strings.Repeat("y", i%41))
		b.add(combo{uint32(i % 3)}, uint32(i%11), true, true, int64(i), r)
		want = append(want, r)
	}
	return b, want
}

// wantRecords checks that l holds exactly the records want and, when its
// records are plain, that each chunk holds its logChunk records' bytes.
func wantRecords(t *testing.T, what string, l *eventLog, want []string) {
	t.Helper()
	if l.len() != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, l.len(), len(want))
	}
	c := l.cursor()
	for i, w := range want {
		if got, err := c.record(i); err != nil || string(got) != w {
			t.Fatalf("%s: record %d: %q, %v; want %q", what, i, got, err, w)
		}
	}
	if l.blocks != nil {
		return
	}
	if len(l.chunks) != (l.len()+logChunk-1)/logChunk {
		t.Fatalf("%s: %d chunks for %d entries", what, len(l.chunks), l.len())
	}
	for k, ch := range l.chunks {
		end := min((k+1)*logChunk, l.len())
		if n := l.offs[end] - l.offs[k*logChunk]; uint32(len(ch)) != n {
			t.Fatalf("%s: chunk %d holds %d bytes, its records %d", what, k, len(ch), n)
		}
	}
}

// encodesFlat checks that l's log section is the one its records laid end
// to end make, cut into chunks apart from l's appends, and returns it.
func encodesFlat(t *testing.T, what string, l *eventLog) []byte {
	t.Helper()
	var all []byte
	c := l.cursor()
	for i := range l.len() {
		r, err := c.record(i)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r...)
	}
	enc, _ := newCodec()
	got, err := encodeLog(l, enc.log)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := segment.EncodeLog(&segment.Log{Times: l.times, Users: l.users, Combos: l.combos, Offs: l.offs, Chunks: segmenttest.Chunks(all, l.offs)}, enc.log)
	if err != nil || !bytes.Equal(got, flat) {
		t.Fatalf("%s: the log section differs from that of the records laid end to end", what)
	}
	return got
}

// TestJoinedLeavesTheDayLogAsItWas: a day's log joined with the late
// events of a builder (a day thawed while its log was not at hand), across
// chunk edges, its base plain or decoded from a segment: the joined log
// reads every record and encodes as the flat records do, and appending to
// it, as the builder made of it does, changes neither the day's log nor
// the late one.
func TestJoinedLeavesTheDayLogAsItWas(t *testing.T) {
	for _, bn := range []int{0, 1, logChunk - 1, logChunk, logChunk + 1, 2 * logChunk} {
		for _, nn := range []int{0, 1, logChunk - 1, logChunk, logChunk + 1} {
			for _, stored := range []bool{false, true} {
				what := fmt.Sprintf("day of %d, %d late, stored %v", bn, nn, stored)
				b, want := recordsBuilder(bn, "b")
				d := b.seal()
				if stored {
					enc, dec := newCodec()
					raw, err := encodeLog(&d.log, enc.log)
					if err != nil {
						t.Fatal(err)
					}
					if d.log, err = decodeLog("days/x", raw, frame.SegmentVersion, 3, uint64(bn), 11, dec); err != nil {
						t.Fatal(err)
					}
				}
				d.logReady = true
				lens := make([]int, len(d.log.chunks))
				for k := range d.log.chunks {
					lens[k] = len(d.log.chunks[k])
				}
				late, lateWant := recordsBuilder(nn, "n")
				j, err := d.joined(&late.log, nil)
				if err != nil {
					t.Fatal(err)
				}
				wantRecords(t, what, &j, append(append([]string(nil), want...), lateWant...))
				encodesFlat(t, what, &j)
				for i := range logChunk + 476 {
					j.add(int64(i), 1, 0, strings.Repeat("z", 38))
				}
				wantRecords(t, what+", the day's log after", &d.log, want)
				for k := range d.log.chunks {
					if len(d.log.chunks[k]) != lens[k] {
						t.Fatalf("%s: the day's chunk %d holds %d bytes, held %d", what, k, len(d.log.chunks[k]), lens[k])
					}
				}
				wantRecords(t, what+", the late log after", &late.log, lateWant)
			}
		}
	}
}

// TestThawOfADayWithABaseLeavesItsLateLog: a day sealed from a builder
// thawed after a stored day (logBase set), thawed again: the new builder's
// appends leave the sealed day's late log as it was.
func TestThawOfADayWithABaseLeavesItsLateLog(t *testing.T) {
	b0, _ := recordsBuilder(10, "s")
	d0 := b0.seal()
	enc, dec := newCodec()
	raw, err := encodeLog(&d0.log, enc.log)
	if err != nil {
		t.Fatal(err)
	}
	if d0.log, err = decodeLog("days/x", raw, frame.SegmentVersion, 3, 10, 11, dec); err != nil {
		t.Fatal(err)
	}
	b1 := d0.thaw() // the log is compressed: the thawed builder starts after it
	if b1.logBase != d0 {
		t.Fatal("the builder thawed from a stored day has no base")
	}
	for i := range 5 {
		b1.add(combo{1}, 1, true, true, int64(100+i), "late")
	}
	d1 := b1.seal()
	if d1.logBase == nil {
		t.Fatal("sealed without its base")
	}
	n := len(d1.log.chunks[0])
	b2 := d1.thaw()
	for i := range 5 {
		b2.add(combo{1}, 1, true, true, int64(200+i), "later")
	}
	if len(d1.log.chunks) != 1 || len(d1.log.chunks[0]) != n {
		t.Fatalf("the sealed day's late log: %d chunks, the first of %d bytes; was 1 of %d", len(d1.log.chunks), len(d1.log.chunks[0]), n)
	}
}

// TestSealedLogEncodesWhileBuildersAppend: a checkpoint encodes a sealed
// day, holding no lock, while the builder it was sealed from (still open)
// and a builder thawed from it append: the encoding never changes (and
// go test -race sees no race).
func TestSealedLogEncodesWhileBuildersAppend(t *testing.T) {
	b, want := recordsBuilder(logChunk+476, "s")
	d := b.seal()
	enc, _ := newCodec()
	ref, err := encodeLog(&d.log, enc.log)
	if err != nil {
		t.Fatal(err)
	}
	thawed := d.thaw()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		enc, _ := newCodec()
		for range 20 {
			if got, err := encodeLog(&d.log, enc.log); err != nil || !bytes.Equal(got, ref) {
				t.Error("the sealed day's encoding changed while builders appended")
				return
			}
		}
	}()
	for i := range 3000 {
		b.add(combo{1}, 3, true, true, int64(i), "late-open")
		thawed.add(combo{2}, 4, true, true, int64(i), "late-thawed")
	}
	wg.Wait()
	wantRecords(t, "sealed", &d.log, want)
}
