package segment

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/frame"
)

// v1Segment returns x as a format v1 segment of day n (frame version
// frame.Version, read only), with an empty log section.
func v1Segment(n int32, x *Index) []byte {
	b := append([]byte(frame.Magic), frame.KindSegment, frame.Version)
	b = frame.AppendVarint(b, int64(n))
	b = frame.AppendUvarint(b, uint64(x.Combos))
	for k := range x.Cols {
		for i := range uint32(x.Combos) {
			b = frame.AppendUvarint(b, uint64(x.Cols[k].At(i)))
		}
	}
	for i := range uint32(x.Combos) {
		b = frame.AppendUvarint(b, uint64(x.Counts.At(i)))
	}
	b = appendUsers(b, x)
	active, _ := x.Active.ToBytes()
	b = append(frame.AppendUvarint(b, uint64(len(active))), active...)
	b = frame.AppendUvarint(b, uint64(len(x.RequestIDs)))
	for _, id := range x.RequestIDs {
		b = binary.LittleEndian.AppendUint64(b, id)
	}
	return frame.Seal(frame.AppendUvarint(b, 0))
}

// TestDecodeV1: a format v1 segment decodes to the index it holds, its
// request ids taken as every one of the day's; cut short anywhere (sealed
// again), or with a code past its dictionary, it is ErrCorrupt naming its
// key.
func TestDecodeV1(t *testing.T) {
	x, _, lim, _ := fixture(t)
	_, dec := codec()
	const key = "days/2025-01-04/0000000000000001"
	seg := v1Segment(testDay, x)
	got, off, err := Decode(key, seg, testDay, lim, dec)
	want := *x
	want.FullIDs = true
	if err != nil || !sameIndex(got, &want) || off != len(seg)-frame.Trailer-1 {
		t.Fatalf("decoded: %v, log at %d of %d bytes, or a different index", err, off, len(seg))
	}
	for i := frame.Header; i < len(seg)-frame.Trailer; i++ {
		if _, _, err := Decode(key, frame.Seal(seg[:i:i]), testDay, lim, dec); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Fatalf("cut at %d: %v, want ErrCorrupt naming %s", i, err, key)
		}
	}
	small := *lim
	small.DictSizes[3] = 1
	if _, _, err := Decode(key, seg, testDay, &small, dec); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "of "+lim.Names[3]+" past its dictionary") {
		t.Fatalf("a code past its dictionary: %v, want ErrCorrupt naming %s", err, lim.Names[3])
	}
}
