package insights

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
	"github.com/klauspost/compress/zstd"
)

// benchDay returns an engine holding one day (number n) of 20,000 events
// of 8,000 users with varied dimensions, outside the dedupe horizon, not
// yet checkpointed.
func benchDay(b *testing.B) (*Engine, store.Store, int32, int) {
	ctx := context.Background()
	s := store.NewMemory()
	at := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	e, err := Open(ctx, s, &Options{Now: func() time.Time { return at.AddDate(0, 0, 7) }})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	apps := []string{"portal", "mail", "crm", "wiki", "hr"}
	oses := []string{"Windows 10", "iOS", "Android", "Mac OS X", "Linux"}
	countries := []string{"US", "DE", "FR", "IN", "BR", "JP"}
	evs := make([]Event, 20000)
	for i := range evs {
		t := at.Add(time.Duration(r.IntN(86400)) * time.Second)
		evs[i] = Event{Time: t, Kind: KindSignIn, UserKey: fmt.Sprintf("user-%05d", r.IntN(8000)),
			AppID: apps[r.IntN(len(apps))], OS: oses[r.IntN(len(oses))], Country: countries[r.IntN(len(countries))],
			RequestID: fmt.Sprintf("%016x-%08x", r.Uint64(), r.Uint32()), IP: fmt.Sprintf("203.0.113.%d", r.IntN(256)),
			AuthDetails: []AuthStep{{Time: t, Method: "Password", Succeeded: true}}}
	}
	if err := e.Add(ctx, evs...); err != nil {
		b.Fatal(err)
	}
	return e, s, dayOf(at, time.UTC), len(evs)
}

// benchSegment returns the segment of benchDay's day, stored under key,
// with what decoding it needs.
func benchSegment(b *testing.B) (key string, seg []byte, n int32, lim limits, dec *zstd.Decoder, events int) {
	ctx := context.Background()
	e, s, n, events := benchDay(b)
	if err := e.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	keys, _ := s.List(ctx, "days/")
	seg, _ = s.Get(ctx, keys[0])
	for k, d := range e.dims {
		lim.dictSizes[k] = len(d.values)
	}
	lim.users = len(e.userKeys)
	return keys[0], seg, n, lim, e.zdec, events
}

// BenchmarkEncodeDay measures a checkpoint's encoding of the day of
// benchDay, sealed, its log in memory.
//
//	go test -run '^$' -bench 'BenchmarkEncodeDay|BenchmarkDecodeDay' .
func BenchmarkEncodeDay(b *testing.B) {
	e, _, n, _ := benchDay(b)
	d := e.days[n].open.seal()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := encodeDay(context.Background(), n, d, e.zenc, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeLog measures the log section alone of BenchmarkEncodeDay:
// its columns and blocks compressed and laid out.
//
//	go test -run '^$' -bench 'BenchmarkEncode(Day|Log)$' .
func BenchmarkEncodeLog(b *testing.B) {
	e, _, n, _ := benchDay(b)
	l, err := e.days[n].open.seal().events()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeLog(l, e.zenc.log); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDay measures what a query's first read of a stored day
// costs: decoding the segment of benchDay's day (the index) and its log's
// columns. It reports the segment's bytes per event.
func BenchmarkDecodeDay(b *testing.B) {
	key, seg, n, lim, dec, events := benchSegment(b)
	b.ReportAllocs()
	for b.Loop() {
		d, err := decodeDay(key, seg, n, lim, dec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.events(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(seg))/float64(events), "segment-bytes/event")
}

// BenchmarkStoredLogRecords measures reading every record of a stored
// day's log, as a log-field filter's first pass or the risk rebuild do:
// each block decompressed (and, cut in columns, laid back into records).
//
//	go test -run '^$' -bench 'BenchmarkStored' -benchtime 30x .
func BenchmarkStoredLogRecords(b *testing.B) {
	key, seg, n, lim, dec, events := benchSegment(b)
	d, err := decodeDay(key, seg, n, lim, dec)
	if err != nil {
		b.Fatal(err)
	}
	l, err := d.events()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := l.cursor()
		for i := range l.len() {
			if _, err := c.record(i); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(events), "ns/record")
}

// BenchmarkStoredUserSignIns measures one user's sign-ins of a stored
// day, the store reopened: each call reads the blocks of the user's
// entries (UserSignIns keeps no decompressed block between calls).
func BenchmarkStoredUserSignIns(b *testing.B) {
	ctx := context.Background()
	e, s, n, _ := benchDay(b)
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	e, err := Open(ctx, s, &Options{Now: func() time.Time { return time.Date(2025, 1, 13, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	day := dateOfNum(n)
	b.ReportAllocs()
	k, entries := 0, 0
	for b.Loop() {
		p, err := e.UserSignIns(ctx, fmt.Sprintf("user-%05d", k%8000), day, dateOfNum(n+1))
		if err != nil {
			b.Fatal(err)
		}
		entries += len(p.Entries)
		k++
	}
	if entries == 0 {
		b.Fatal("no entry read")
	}
}

// BenchmarkRangedIndex measures a cold filtered query's read of a stored
// day: benchDay's day's index alone, by ranges (segrange.go), without its
// log.
func BenchmarkRangedIndex(b *testing.B) {
	ctx := context.Background()
	e, s, n, _ := benchDay(b)
	if err := e.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	keys, _ := s.List(ctx, "days/")
	lim := rangedLimits(e)
	rg := s.(store.RangeGetter)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rangedIndex(ctx, rg, keys[0], n, lim, e.zdec, lazySections); err != nil {
			b.Fatal(err)
		}
	}
}
