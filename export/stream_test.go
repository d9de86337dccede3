package export_test

import (
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// countingWriter counts the bytes written and keeps none.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// heapProbe records the live heap, after a collection, at given rows.
type heapProbe struct {
	at   map[int]bool
	heap []uint64
}

func (p *heapProbe) observe(row int) {
	if p.at[row] {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		p.heap = append(p.heap, m.HeapAlloc)
	}
}

// generated is an EntrySource that makes n entries lazily, one at a time.
type generated struct {
	n, i  int
	probe *heapProbe
	cur   insights.LogEntry
}

func (g *generated) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.i++
	g.probe.observe(g.i)
	id := strconv.Itoa(g.i)
	g.cur = insights.LogEntry{ID: "2025-03-04/" + id, OSFamily: "Windows", Event: insights.Event{
		Time: time.Date(2025, 3, 4, 12, 0, 0, g.i, time.UTC), Kind: insights.KindSignIn, UserKey: "user-" + id,
		Status: insights.StatusSuccess, AppID: "portal", AppName: "Portal", OS: "Windows 10", Country: "FR",
		RequestID: "request-" + id, IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		AuthDetails: []insights.AuthStep{{Method: "Password", Succeeded: true}},
	}}
	return true
}
func (g *generated) Entry() insights.LogEntry { return g.cur }
func (g *generated) Err() error               { return nil }

// users is a UserSource that makes n users lazily.
type users struct {
	n, i  int
	probe *heapProbe
}

func (u *users) Next() bool {
	if u.i >= u.n {
		return false
	}
	u.i++
	if u.probe != nil {
		u.probe.observe(u.i)
	}
	return true
}
func (u *users) User() insights.UserRow {
	return insights.UserRow{Start: march3, End: march6, Groups: []string{"FR"}, UserKey: "user-" + strconv.Itoa(u.i)}
}
func (u *users) Err() error { return nil }

// TestListsStream writes 200,000 log rows (50,000 in the other formats)
// from sources that make them lazily: the live heap near the end is about
// what it was near the start (some 200 KB), while a writer that kept its
// rows would hold tens of megabytes.
func TestListsStream(t *testing.T) {
	const slack = 2 << 20
	formats := []struct {
		name  string
		rows  int
		write func(w io.Writer, n int, p *heapProbe) error
	}{
		{"log csv", 200_000, func(w io.Writer, n int, p *heapProbe) error {
			return export.LogCSV(w, &generated{n: n, probe: p}, &export.CSVOptions{Excel: true})
		}},
		{"log json array", 50_000, func(w io.Writer, n int, p *heapProbe) error {
			return export.LogJSON(w, &generated{n: n, probe: p}, &export.JSONOptions{Array: true})
		}},
		{"events json lines", 50_000, func(w io.Writer, n int, p *heapProbe) error {
			return export.EventsJSON(w, export.LogEvents(&generated{n: n, probe: p}))
		}},
		{"users csv", 50_000, func(w io.Writer, n int, p *heapProbe) error {
			return export.UsersCSV(w, &users{n: n, probe: p}, []insights.Dimension{insights.DimCountry}, nil)
		}},
		{"users json", 50_000, func(w io.Writer, n int, p *heapProbe) error {
			return export.UsersJSON(w, &users{n: n, probe: p}, nil)
		}},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			rows := f.rows
			probe := &heapProbe{at: map[int]bool{1000: true, rows - 1000: true}}
			var w countingWriter
			if err := f.write(&w, rows, probe); err != nil {
				t.Fatal(err)
			}
			if w.n < int64(rows)*30 {
				t.Fatalf("wrote %d bytes for %d rows", w.n, rows)
			}
			if len(probe.heap) != 2 {
				t.Fatalf("probed %d times", len(probe.heap))
			}
			start, end := probe.heap[0], probe.heap[1]
			if end > start+slack {
				t.Fatalf("live heap grew from %d to %d bytes over %d rows (%d bytes written): not streaming",
					start, end, rows, w.n)
			}
			t.Logf("%d bytes written; live heap %d then %d bytes", w.n, start, end)
		})
	}
}
