package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// BenchmarkLogPut measures the floor that the directory store puts under
// an Add: one store.DirStore.Put of a value the size of a log record of
// 1,000 of the bench's events (585 KB in the -history phase: the engine's
// group commit writes one such record per group, with its two fsyncs),
// and of a 1 KB one, in keys as the log's. One operation is one Put; it
// reports the p50 and p99 of the Puts (wall time), which the disk's
// fsyncs dominate.
//
//	go test -run '^$' -bench LogPut -benchtime 300x .
func BenchmarkLogPut(b *testing.B) {
	for _, size := range []int{1 << 10, 585_000} {
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			st, err := store.Dir(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			value := make([]byte, size)
			for i := range value {
				value[i] = byte(i * 31)
			}
			var lat []time.Duration
			seq := 0
			for b.Loop() {
				t := time.Now()
				if err := st.Put(ctx, fmt.Sprintf("wal/%016x", seq), value); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
				seq++
			}
			b.ReportMetric(ms(percentile(lat, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(lat, 99)), "p99-ms")
		})
	}
}
