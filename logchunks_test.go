package insights

import (
	"fmt"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// TestDayLogGrowsAChunkAtATime: a day's log keeps its records in chunks
// of logChunk, so appending never copies the records already held (a day
// of 100,000 users copied 13 MB into 16 under the write lock when its log
// outgrew its room: the slowest Adds of bench -history); a view taken
// before more appends reads what it read; every record reads back, and
// the segment's log section is the one the records laid end to end make.
func TestDayLogGrowsAChunkAtATime(t *testing.T) {
	l := newEventLog()
	var want []string
	add := func(n int) {
		for range n {
			i := len(want)
			rec := fmt.Sprintf("r%d-%s", i, strings.Repeat("x", i%37))
			l.add(int64(i), uint32(i%5), uint32(i%3), rec)
			want = append(want, rec)
		}
	}
	add(logChunk)
	first := &l.chunks[0][0]
	add(1)
	v := l.view()
	seen := append([]string(nil), want...)
	add(2*logChunk + 7)
	if &l.chunks[0][0] != first {
		t.Errorf("the first %d records were copied when the log grew", logChunk)
	}
	if len(l.chunks) != 4 {
		t.Errorf("%d chunks for %d records of %d a chunk", len(l.chunks), len(want), logChunk)
	}
	wantRecords(t, "the log", &l, want)
	wantRecords(t, "the view", &v, seen)

	// The segment's log section: as from the records laid end to end,
	// cut into chunks apart from the log's appends.
	got := encodesFlat(t, "the log", &l)
	_, dec := newCodec()
	back, err := decodeLog("days/x", got, frame.SegmentVersion, 3, uint64(l.len()), 5, dec)
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "decoded", &back, want)
	p, err := back.plain()
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "plain", &p, want)
	if p.recordBytes() != l.recordBytes() {
		t.Errorf("plain: %d record bytes, want %d", p.recordBytes(), l.recordBytes())
	}
}

// TestThawLeavesTheSealedLogAsItWas: a builder thawed from a sealed day
// whose log is at hand shares its records; its appends never write what
// the day holds, not even a chunk's header (which a checkpoint encoding
// the day reads meanwhile, holding no lock).
func TestThawLeavesTheSealedLogAsItWas(t *testing.T) {
	b := newDayBuilder()
	var want []string
	for i := range logChunk + 500 { // a full chunk, and one in progress
		rec := fmt.Sprintf("rec %d", i)
		b.add(combo{1}, uint32(i%7), true, true, int64(i), rec)
		want = append(want, rec)
	}
	d := b.seal()
	lens := []int{len(d.log.chunks[0]), len(d.log.chunks[1])}
	thawed := d.thaw()
	for i := range 700 {
		thawed.add(combo{2}, uint32(i), true, true, int64(i), "late")
	}
	if got := []int{len(d.log.chunks[0]), len(d.log.chunks[1])}; got[0] != lens[0] || got[1] != lens[1] || len(d.log.chunks) != 2 {
		t.Errorf("the sealed day's chunks: %d of %v bytes, after the thawed builder's appends; were 2 of %v", len(d.log.chunks), got, lens)
	}
	c := d.log.cursor()
	for i, w := range want {
		if got, err := c.record(i); err != nil || string(got) != w {
			t.Fatalf("the sealed day's record %d: %q, %v; want %q", i, got, err, w)
		}
	}
}
