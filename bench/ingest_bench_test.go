package main

import (
	"context"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
)

// BenchmarkAddDir measures Add of batches of 1,000 generated events (20,000
// users, the bench's shape) into an engine on a directory store with the
// default options: validation, the log record, the WAL's group write and
// the apply, and the checkpoints Add starts in the background. One
// operation is one batch; events/s and ns/event (wall time, which the
// store's fsyncs dominate) are reported, and cpu-ns/event: the process's
// user and system CPU time over the loop, background work and garbage
// collection included, per event. Once the
// generated days are used up, a new engine in a new directory takes the
// rest of the operations (setup untimed).
//
//	go test -run '^$' -bench AddDir -benchtime 200x .
func BenchmarkAddDir(b *testing.B) {
	const users, days, batch = 20000, 30, 1000
	ctx := context.Background()
	g := newGenerator(genConfig{Users: users, Days: days, Seed: 1})
	var evs []insights.Event
	var buf []ev
	for d := range days {
		buf = g.day(d, buf)
		evs = append(evs, g.dayEvents(d, buf, nil)...)
	}
	open := func() *insights.Engine {
		st, err := store.Dir(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		eng, err := openEngine(ctx, st, days, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { eng.Close() })
		return eng
	}
	eng, next, added := open(), 0, 0
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if next >= len(evs) {
			b.StopTimer()
			eng, next = open(), 0
			b.StartTimer()
		}
		end := min(next+batch, len(evs))
		if err := eng.Add(ctx, evs[next:end]...); err != nil {
			b.Fatal(err)
		}
		added += end - next
		next = end
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(added)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(added), "cpu-ns/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(added), "ns/event")
}
