package insights

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDayLogChunksHoldLittleUnseenRoom: records of a day vary in length;
// the room a day's log holds beyond its records' bytes (which MemoryLimit
// counts, TestDayLogBytesCountChunksRoom, but no record uses) stays within
// a few per cent, and a chunk after the first is never copied
// (a chunk given exactly the room of the one before outgrew it in about
// half of the chunks, and append copied it into a quarter more: 14% of
// the records' bytes held for nothing, unseen when lengths were counted).
func TestDayLogChunksHoldLittleUnseenRoom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := newEventLog()
	var firsts []*byte
	for i := range 200 * logChunk {
		l.add(int64(i), 1, 0, strings.Repeat("r", 130+r.IntN(40)))
		if k := i / logChunk; i%logChunk == 0 {
			firsts = append(firsts, &l.chunks[k][0])
		}
	}
	held := 0
	for k, c := range l.chunks {
		held += cap(c)
		if k > 0 && &c[0] != firsts[k] { // the first grows from one record's room in a log opened without any
			t.Errorf("chunk %d was copied as it grew", k)
		}
	}
	if ratio := float64(held) / float64(l.recordBytes()); ratio > 1.06 {
		t.Errorf("the chunks hold %d bytes for %d of records: %.3f×, want at most 1.06×", held, l.recordBytes(), ratio)
	}
}

// TestDayLogBytesCountChunksRoom: a sealed day's size (memBytes, what
// MemoryLimit bounds) counts its log's chunks by what they hold, their
// capacity, not by their records' bytes: the room a chunk is given beyond
// them (appendChunked) is held as long as the day.
func TestDayLogBytesCountChunksRoom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := newDayBuilder()
	for i := range 3*logChunk + 10 {
		b.log.add(int64(i), 1, 0, strings.Repeat("r", 130+r.IntN(40)))
	}
	d := &day{log: b.log.view()}
	room := 0
	for _, c := range d.log.chunks {
		room += cap(c)
	}
	if room == d.log.recordBytes() {
		t.Fatalf("the chunks hold no room beyond their %d bytes of records: nothing to check", room)
	}
	l := &d.log
	want := 8*int64(len(l.times)) + 4*int64(len(l.users)+len(l.combos)+len(l.offs)) + int64(room)
	if got := d.logBytes(); got != want {
		t.Errorf("the log counts %d bytes, want %d: its columns and its chunks' %d bytes of room (%d of records)", got, want, room, l.recordBytes())
	}
}
