package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
	"github.com/insightslab/insights/store"
)

// readCSV parses CSV output back into records.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, b)
	}
	return recs
}

func TestCSVNeutralizesFormulas(t *testing.T) {
	t.Run("an app name that is a HYPERLINK formula, grouped by", func(t *testing.T) {
		res := query(t, newEngine(t), insights.Query{Metric: insights.ActiveUsers, From: march3, To: march6,
			GroupBy: []insights.Dimension{insights.DimAppName}})
		var buf bytes.Buffer
		if err := export.ResultCSV(&buf, res, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"'=HYPERLINK(""http://x"",""y"")"`) {
			t.Fatalf("formula not neutralized:\n%s", buf.String())
		}
		for _, rec := range readCSV(t, buf.Bytes()) {
			if rec[4] == hyperlink {
				t.Fatalf("a cell is the raw formula: %q", rec)
			}
		}
	})
	t.Run("every dangerous first character in log fields", func(t *testing.T) {
		cells := []string{"=1+1", "+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx"}
		var list []insights.LogEntry
		for _, c := range cells {
			list = append(list, insights.LogEntry{ID: c, Event: insights.Event{Kind: insights.KindSignIn,
				UserKey: c, AppName: c, City: c, ErrorCode: -50126, MFAPolicies: []string{c}}})
		}
		var buf bytes.Buffer
		if err := export.LogCSV(&buf, &entries{list: list}, nil); err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, buf.Bytes())
		col := func(name string) int { return slices.Index(export.LogColumns(), name) }
		for i, rec := range recs[1:] {
			for _, name := range []string{"id", "userKey", "appName", "city"} {
				if got, want := rec[col(name)], "'"+cells[i]; got != want {
					t.Errorf("%s cell %q, want %q", name, got, want)
				}
			}
			if got := rec[col("errorCode")]; got != "-50126" {
				t.Errorf("a number the package formats is left as it is: got %q", got)
			}
			if got := rec[col("mfaPolicies")]; got[0] != '[' {
				t.Errorf("a JSON cell starts with [: %q", got)
			}
		}
	})
	t.Run("safe cells are unchanged", func(t *testing.T) {
		var buf bytes.Buffer
		list := []insights.LogEntry{{Event: insights.Event{Kind: insights.KindSignIn, UserKey: "a=b", AppName: " =x", City: "'quoted"}}}
		if err := export.LogCSV(&buf, &entries{list: list}, nil); err != nil {
			t.Fatal(err)
		}
		rec := readCSV(t, buf.Bytes())[1]
		for name, want := range map[string]string{"userKey": "a=b", "appName": " =x", "city": "'quoted"} {
			if got := rec[slices.Index(export.LogColumns(), name)]; got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
	})
}

// TestLogColumnsCoverLogEntry: every JSON field of LogEntry has a column,
// and every column is a JSON field, so a new field cannot be left out.
func TestLogColumnsCoverLogEntry(t *testing.T) {
	var names []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for f := range typ.Fields() {
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
		}
	}
	walk(reflect.TypeFor[insights.LogEntry]())
	got := slices.Sorted(slices.Values(export.LogColumns()))
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("LogColumns %v\nLogEntry's JSON fields %v", got, names)
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWritersReturnErrors(t *testing.T) {
	errSource := errors.New("source failed")
	many := func() []insights.LogEntry {
		list := make([]insights.LogEntry, 2000)
		for i := range list {
			list[i] = insights.LogEntry{ID: "x", Event: insights.Event{Kind: insights.KindSignIn, UserKey: "u"}}
		}
		return list
	}
	res := query(t, newEngine(t), insights.Query{Metric: insights.Authentications, From: march3, To: march6})
	cases := []struct {
		name  string
		write func(w *failWriter) error
		want  error
	}{
		{"log csv, source error", func(w *failWriter) error {
			return export.LogCSV(w, &entries{list: logEntries(), err: errSource}, nil)
		}, errSource},
		{"log json, source error", func(w *failWriter) error {
			return export.LogJSON(w, &entries{list: logEntries(), err: errSource}, nil)
		}, errSource},
		{"log csv, writer error", func(w *failWriter) error { return export.LogCSV(w, &entries{list: many()}, nil) }, errDiskFull},
		{"log json, writer error", func(w *failWriter) error { return export.LogJSON(w, &entries{list: many()}, nil) }, errDiskFull},
		{"excel byte order mark, writer error", func(w *failWriter) error {
			w.n = 0
			return export.LogCSV(w, &entries{}, &export.CSVOptions{Excel: true})
		}, errDiskFull},
		{"result csv, writer error", func(w *failWriter) error { return export.ResultCSV(w, res, nil) }, errDiskFull},
		{"graph, writer error", func(w *failWriter) error { return export.Graph(w, "daily/authentications", res) }, errDiskFull},
		{"nil result", func(w *failWriter) error { return export.ResultCSV(w, nil, nil) }, insights.ErrInvalidQuery},
		{"nil result json", func(w *failWriter) error { return export.ResultJSON(w, nil) }, insights.ErrInvalidQuery},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.write(&failWriter{n: 100}); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestEmptyLists(t *testing.T) {
	for _, c := range []struct {
		name, want string
		write      func(*bytes.Buffer) error
	}{
		{"json lines", "", func(b *bytes.Buffer) error { return export.LogJSON(b, &entries{}, nil) }},
		{"json array", "[]\n", func(b *bytes.Buffer) error { return export.LogJSON(b, &entries{}, &export.JSONOptions{Array: true}) }},
		{"csv is a header", "start,end,series,offset,country,userKey\n", func(b *bytes.Buffer) error {
			return export.UsersCSV(b, &users{n: 0}, []insights.Dimension{insights.DimCountry}, nil)
		}},
	} {
		var buf bytes.Buffer
		if err := c.write(&buf); err != nil || buf.String() != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, buf.String(), err, c.want)
		}
	}
}

// The policy metrics' leading group values get their own columns.
func TestResultCSVNamesPolicyColumns(t *testing.T) {
	ctx := context.Background()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	err = eng.Add(ctx, insights.Event{Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), Kind: insights.KindSignIn, UserKey: "u",
		AppID: "portal", CAPolicies: []insights.PolicyResult{{Name: "Block legacy", Result: "success"}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(ctx, insights.Query{Metric: insights.ConditionalAccessPolicies, From: insights.NewDate(2025, 3, 3),
		To: insights.NewDate(2025, 3, 4), GroupBy: []insights.Dimension{insights.DimAppID}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := export.ResultCSV(&b, res, nil); err != nil {
		t.Fatal(err)
	}
	want := "start,end,series,offset,policy,result,appId,value,partial,incomplete\n" +
		"2025-03-03,2025-03-04,,0,Block legacy,success,portal,1,false,false\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
