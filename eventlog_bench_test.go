package insights

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkDayLogAppend appends a day of 45,000 log records of 290 bytes
// (13 MB: a day of the bench's 100,000 users) to a day's log opened
// without room, one at a time, as apply does under the write lock. One
// operation is the whole day. It reports the bytes allocated (B/op: the
// growth of the records' storage) and the slowest single append
// (max-append-µs: a growth that copies what the log holds).
//
//	go test -run '^$' -bench DayLogAppend -benchmem -benchtime 20x .
func BenchmarkDayLogAppend(b *testing.B) {
	const entries = 45_000
	rec := strings.Repeat("r", 290)
	var worst time.Duration
	for b.Loop() {
		l := newEventLog()
		for i := range entries {
			t := time.Now()
			l.add(int64(i), uint32(i), uint32(i%100), rec)
			worst = max(worst, time.Since(t))
		}
	}
	b.ReportMetric(float64(worst.Microseconds()), "max-append-µs")
}
