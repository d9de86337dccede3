package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// riskDetections are detections as the engine lists them, newest first,
// carrying strings an attacker controls.
func riskDetections() []insights.Detection {
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(hour, min int) time.Time { return time.Date(2025, 3, 4, hour, min, 0, 0, time.UTC) }
	return []insights.Detection{
		{ID: "d-3", Type: insights.DetectMFAFatigue, Level: insights.RiskHigh, Time: at(13, 30).In(paris),
			WindowStart: at(13, 0), WindowEnd: at(13, 30), UserKey: "=cmd|' /C calc'!A0",
			Rule:     "≥ 5 MFA challenges denied or not completed within 1h, then an approval",
			Evidence: []string{"2025-03-04/7", "2025-03-04/8"}},
		{ID: "d-2", Type: insights.DetectPasswordSpray, Level: insights.RiskMedium, Time: at(12, 10),
			WindowStart: at(11, 15), WindowEnd: at(12, 10), Source: "203.0.113.0/24",
			Rule:     "failed sign-ins against ≥ 20 users from one source within 1h, \"quoted\", and more",
			Evidence: []string{"2025-03-04/1", "2025-03-04/2"}},
		{ID: "d-1", Type: insights.DetectFailureSpike, Level: insights.RiskLow, Time: at(9, 0),
			WindowStart: at(8, 0), WindowEnd: at(8, 59), Source: "-portal", Rule: "failures > max(20, 3 × median)"},
	}
}

// riskyUsers are risky users as the engine lists them.
func riskyUsers() []insights.RiskyUser {
	return []insights.RiskyUser{
		{UserKey: "alice", DisplayName: "@SUM(1+1)", Level: insights.RiskHigh, State: insights.RiskStateAtRisk,
			Updated: time.Date(2025, 3, 4, 13, 30, 0, 0, time.UTC), Detections: 2},
		{UserKey: "+bob", DisplayName: "Bob, \"the\" builder", Level: insights.RiskMedium,
			State: insights.RiskStateDismissed, Updated: time.Date(2025, 3, 3, 9, 0, 0, 5, time.UTC), Detections: 1},
	}
}

func TestRiskGolden(t *testing.T) {
	cases := []struct {
		file  string
		write func(w io.Writer) error
	}{
		{"detections.csv", func(w io.Writer) error {
			return export.DetectionsCSV(w, export.DetectionList(riskDetections()), nil)
		}},
		{"detections_excel.csv", func(w io.Writer) error {
			return export.DetectionsCSV(w, export.DetectionList(riskDetections()), &export.CSVOptions{Excel: true})
		}},
		{"detections.jsonl", func(w io.Writer) error {
			return export.DetectionsJSON(w, export.DetectionList(riskDetections()), nil)
		}},
		{"detections_array.json", func(w io.Writer) error {
			return export.DetectionsJSON(w, export.DetectionList(riskDetections()), &export.JSONOptions{Array: true})
		}},
		{"risky_users.csv", func(w io.Writer) error {
			return export.RiskyUsersCSV(w, export.RiskyUserList(riskyUsers()), nil)
		}},
		{"risky_users_excel.csv", func(w io.Writer) error {
			return export.RiskyUsersCSV(w, export.RiskyUserList(riskyUsers()), &export.CSVOptions{Excel: true})
		}},
		{"risky_users.jsonl", func(w io.Writer) error {
			return export.RiskyUsersJSON(w, export.RiskyUserList(riskyUsers()), nil)
		}},
		{"risky_users_array.json", func(w io.Writer) error {
			return export.RiskyUsersJSON(w, export.RiskyUserList(riskyUsers()), &export.JSONOptions{Array: true})
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.write(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, c.file, buf.Bytes())
		})
	}
}

// TestRiskColumnsCoverTypes: every JSON field of Detection and RiskyUser
// has a CSV column of the same name, so a field the engine adds cannot
// be left out of the CSV unnoticed.
func TestRiskColumnsCoverTypes(t *testing.T) {
	for _, c := range []struct {
		typ   reflect.Type
		write func(*bytes.Buffer) error
	}{
		{reflect.TypeFor[insights.Detection](), func(b *bytes.Buffer) error {
			return export.DetectionsCSV(b, export.DetectionList(nil), nil)
		}},
		{reflect.TypeFor[insights.RiskyUser](), func(b *bytes.Buffer) error {
			return export.RiskyUsersCSV(b, export.RiskyUserList(nil), nil)
		}},
	} {
		var buf bytes.Buffer
		if err := c.write(&buf); err != nil {
			t.Fatal(err)
		}
		header := strings.Split(strings.TrimSuffix(buf.String(), "\n"), ",")
		var names []string
		for f := range c.typ.Fields() {
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		slices.Sort(header)
		slices.Sort(names)
		if !slices.Equal(header, names) {
			t.Errorf("%s: CSV columns %v\nJSON fields %v", c.typ, header, names)
		}
	}
}

// pagedDetections serves n detections in pages of q.Limit, as the
// engine would: the cursor is the index of the next one. It records the
// queries it was given.
type pagedDetections struct {
	n       int
	failAt  int // the call (1-based) that fails; 0 never
	emptyAt int // the call that answers an empty page with a cursor; 0 never
	queries []insights.DetectionQuery
}

var errList = errors.New("list failed")

func (p *pagedDetections) list(_ context.Context, q insights.DetectionQuery) (*insights.DetectionPage, error) {
	p.queries = append(p.queries, q)
	if len(p.queries) == p.failAt {
		return nil, errList
	}
	start, _ := strconv.Atoi(q.Cursor)
	if len(p.queries) == p.emptyAt {
		return &insights.DetectionPage{Next: q.Cursor}, nil
	}
	end := min(start+q.Limit, p.n)
	page := &insights.DetectionPage{}
	for i := start; i < end; i++ {
		page.Detections = append(page.Detections, insights.Detection{ID: fmt.Sprint(i), UserKey: q.UserKey})
	}
	if end < p.n {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func TestDetectionPages(t *testing.T) {
	for _, c := range []struct {
		name               string
		n, limit           int
		cursor             string
		failAt, emptyAt    int
		wantIDs, wantCalls int
		wantFirst, wantErr string
	}{
		{name: "none", n: 0, limit: 3, wantCalls: 1},
		{name: "one page", n: 3, limit: 5, wantIDs: 3, wantCalls: 1, wantFirst: "0"},
		{name: "exact pages", n: 6, limit: 3, wantIDs: 6, wantCalls: 2, wantFirst: "0"},
		{name: "partial last page", n: 7, limit: 3, wantIDs: 7, wantCalls: 3, wantFirst: "0"},
		{name: "from a cursor", n: 7, limit: 3, cursor: "5", wantIDs: 2, wantCalls: 1, wantFirst: "5"},
		{name: "an empty page with a cursor", n: 7, limit: 3, emptyAt: 2, wantIDs: 7, wantCalls: 4, wantFirst: "0"},
		{name: "error on the second page", n: 7, limit: 3, failAt: 2, wantIDs: 3, wantCalls: 2, wantFirst: "0", wantErr: "list failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &pagedDetections{n: c.n, failAt: c.failAt, emptyAt: c.emptyAt}
			src := export.DetectionPages(context.Background(), p.list,
				insights.DetectionQuery{Limit: c.limit, Cursor: c.cursor, UserKey: "kept"})
			var ids []string
			for src.Next() {
				ids = append(ids, src.Detection().ID)
			}
			if err := src.Err(); fmt.Sprint(err) != cmpOr(c.wantErr, "<nil>") {
				t.Fatalf("error %v, want %s", err, c.wantErr)
			}
			if len(ids) != c.wantIDs || len(p.queries) != c.wantCalls {
				t.Fatalf("ids %v in %d calls, want %d in %d", ids, len(p.queries), c.wantIDs, c.wantCalls)
			}
			if len(ids) > 0 && ids[0] != c.wantFirst {
				t.Errorf("first id %s, want %s", ids[0], c.wantFirst)
			}
			for i, id := range ids {
				if want := strconv.Itoa(i + atoi(c.cursor)); id != want {
					t.Fatalf("id %d is %s, want %s (ids %v)", i, id, want, ids)
				}
			}
			for _, q := range p.queries {
				if q.UserKey != "kept" || q.Limit != c.limit {
					t.Errorf("query %+v lost the filters", q)
				}
			}
			if src.Next() {
				t.Error("Next after the end reports another detection")
			}
		})
	}
}

func TestRiskyUserPages(t *testing.T) {
	calls := 0
	list := func(_ context.Context, q insights.RiskyUserQuery) (*insights.RiskyUserPage, error) {
		calls++
		if q.States[0] != insights.RiskStateAtRisk {
			t.Errorf("query %+v lost its filter", q)
		}
		switch q.Cursor {
		case "":
			return &insights.RiskyUserPage{Users: []insights.RiskyUser{{UserKey: "a"}, {UserKey: "b"}}, Next: "c"}, nil
		case "c":
			return &insights.RiskyUserPage{Users: []insights.RiskyUser{{UserKey: "c"}}}, nil
		}
		return nil, errList
	}
	var buf bytes.Buffer
	src := export.RiskyUserPages(context.Background(), list, insights.RiskyUserQuery{States: []string{insights.RiskStateAtRisk}})
	if err := export.RiskyUsersJSON(&buf, src, nil); err != nil {
		t.Fatal(err)
	}
	want := `{"userKey":"a","level":"","state":"","updated":"0001-01-01T00:00:00Z","detections":0}
{"userKey":"b","level":"","state":"","updated":"0001-01-01T00:00:00Z","detections":0}
{"userKey":"c","level":"","state":"","updated":"0001-01-01T00:00:00Z","detections":0}
`
	if buf.String() != want || calls != 2 {
		t.Fatalf("%d calls wrote\n%s\nwant\n%s", calls, buf.String(), want)
	}
}

func TestRiskWritersReturnErrors(t *testing.T) {
	failing := func() export.DetectionSource {
		return export.DetectionPages(context.Background(), (&pagedDetections{n: 10, failAt: 2}).list,
			insights.DetectionQuery{Limit: 2})
	}
	failingUsers := func() export.RiskyUserSource {
		return export.RiskyUserPages(context.Background(),
			func(context.Context, insights.RiskyUserQuery) (*insights.RiskyUserPage, error) { return nil, errList },
			insights.RiskyUserQuery{})
	}
	many := make([]insights.Detection, 2000)
	for i := range many {
		many[i] = insights.Detection{ID: "x", Rule: "a rule"}
	}
	manyUsers := make([]insights.RiskyUser, 2000)
	cases := []struct {
		name  string
		write func(w io.Writer) error
		want  error
	}{
		{"detections csv, source error", func(w io.Writer) error { return export.DetectionsCSV(w, failing(), nil) }, errList},
		{"detections json, source error", func(w io.Writer) error { return export.DetectionsJSON(w, failing(), nil) }, errList},
		{"risky users csv, source error", func(w io.Writer) error { return export.RiskyUsersCSV(w, failingUsers(), nil) }, errList},
		{"risky users json, source error", func(w io.Writer) error { return export.RiskyUsersJSON(w, failingUsers(), nil) }, errList},
		{"detections csv, writer error", func(w io.Writer) error {
			return export.DetectionsCSV(w, export.DetectionList(many), nil)
		}, errDiskFull},
		{"risky users csv, writer error", func(w io.Writer) error {
			return export.RiskyUsersCSV(w, export.RiskyUserList(manyUsers), nil)
		}, errDiskFull},
		{"detections json, writer error", func(w io.Writer) error {
			return export.DetectionsJSON(w, export.DetectionList(many), nil)
		}, errDiskFull},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.write(&failWriter{n: 100}); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// attackEngine returns newEngine's engine with two brute forces on
// 2025-03-18: 12 wrong passwords in 6 minutes on "=mallory" (a formula)
// then a success, and 11 on trudy without one.
func attackEngine(t *testing.T) *insights.Engine {
	t.Helper()
	eng := newEngine(t)
	var evs []insights.Event
	at := time.Date(2025, 3, 18, 14, 0, 0, 0, time.UTC)
	for i := range 13 {
		e := insights.Event{Time: at.Add(time.Duration(i) * 30 * time.Second), Kind: insights.KindSignIn, UserKey: "=mallory",
			AppID: "portal", ErrorCode: 50126, IP: "203.0.113.9", RequestID: fmt.Sprint("m-", i)}
		if i == 12 {
			e.Time, e.ErrorCode = at.Add(20*time.Minute), 0
		}
		evs = append(evs, e)
	}
	for i := range 11 {
		evs = append(evs, insights.Event{Time: at.Add(2*time.Hour + time.Duration(i)*30*time.Second), Kind: insights.KindSignIn,
			UserKey: "trudy", AppID: "portal", ErrorCode: 50126, IP: "198.51.100.9", RequestID: fmt.Sprint("t-", i)})
	}
	if err := eng.Add(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestRiskListsOfAnEngine: the pages of an engine's lists, read a page of
// one at a time, are its whole lists, written as the golden files say.
func TestRiskListsOfAnEngine(t *testing.T) {
	ctx := context.Background()
	eng := attackEngine(t)
	all, err := eng.Detections(ctx, insights.DetectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var whole, paged bytes.Buffer
	if err := export.DetectionsJSON(&whole, export.DetectionList(all.Detections), nil); err != nil {
		t.Fatal(err)
	}
	if err := export.DetectionsJSON(&paged, export.DetectionPages(ctx, eng.Detections, insights.DetectionQuery{Limit: 1}), nil); err != nil {
		t.Fatal(err)
	}
	if whole.String() != paged.String() || len(all.Detections) < 2 {
		t.Fatalf("pages of one:\n%s\nthe whole list:\n%s", paged.String(), whole.String())
	}
	var csv bytes.Buffer
	if err := export.DetectionsCSV(&csv, export.DetectionPages(ctx, eng.Detections,
		insights.DetectionQuery{Types: []insights.DetectionType{insights.DetectBruteForce}, Limit: 1}), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "detections_engine.csv", csv.Bytes())
	csv.Reset()
	if err := export.RiskyUsersCSV(&csv, export.RiskyUserPages(ctx, eng.RiskyUsers, insights.RiskyUserQuery{Limit: 1}), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "risky_users_engine.csv", csv.Bytes())
}
