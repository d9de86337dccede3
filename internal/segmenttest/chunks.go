// Package segmenttest helps tests build the logs internal/segment encodes.
package segmenttest

import "github.com/insightslab/insights/internal/logblock"

// Chunks cuts recs, log records laid end to end (entry i's at
// offs[i]:offs[i+1], offs[0] = 0), into chunks of
// logblock.RecordsPerBlock records, the last holding the rest: a
// segment.Log's Chunks. The chunks share recs' memory; none if offs holds
// no entry. It takes offsets as positions in recs: below 4 GiB only (a
// Log's offsets wrap past it).
func Chunks(recs []byte, offs []uint32) [][]byte {
	var out [][]byte
	for from := 0; from < len(offs)-1; from += logblock.RecordsPerBlock {
		to := min(from+logblock.RecordsPerBlock, len(offs)-1)
		out = append(out, recs[offs[from]:offs[to]])
	}
	return out
}
