package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/store"
)

// samples are the importers' sample files and their formats, imported in
// this order.
var samples = []struct {
	file     string
	format   importers.Format
	envelope string // -envelope
}{
	{"entra.csv", importers.EntraCSV, ""},
	{"entra.json", importers.EntraJSON, ""},
	{"entra-diagnostic.jsonl", importers.EntraJSON, ""},
	{"entra-loganalytics.csv", importers.EntraLogAnalytics, ""},
	{"entra-loganalytics.json", importers.EntraLogAnalytics, ""},
	{"okta.json", importers.Okta, ""},
	{"okta-shipper.jsonl", importers.Okta, "message"},
	{"auth0.json", importers.Auth0, ""},
	{"keycloak.json", importers.Keycloak, ""},
	{"events.jsonl", importers.JSONL, ""},
}

// zone is the test store's zone: not UTC, so that days are the zone's.
const zone = "America/New_York"

// importSamples imports every sample file into the store dir through the
// command, one import per format as a user would.
func importSamples(t *testing.T, dir string) {
	t.Helper()
	for _, s := range samples {
		ok(t, "import", "-store", dir, "-zone", zone, "-format", string(s.format), "-envelope", s.envelope, sample(s.file))
	}
}

// oracleEvent is an event as the oracle counts it.
type oracleEvent struct {
	insights.Event
	day    insights.Date
	status insights.Status
}

// oracleEvents reads the sample files directly with importers.Read, in
// import order, and keeps the first copy of each request id per day, as
// the engine does.
func oracleEvents(t *testing.T) []oracleEvent {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		day insights.Date
		id  string
	}
	seen := map[key]bool{}
	var evs []oracleEvent
	for _, s := range samples {
		f, err := os.Open(sample(s.file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = importers.Read(t.Context(), f, s.format, &importers.Options{Envelope: s.envelope}, func(batch []insights.Event) error {
			for _, ev := range batch {
				k := key{insights.DateOf(ev.Time, loc), ev.RequestID}
				if ev.RequestID != "" && seen[k] {
					continue
				}
				seen[k] = true
				st := ev.Status
				if st == insights.StatusUnset {
					ec, _ := insights.LookupErrorCode(ev.ErrorCode)
					st = ec.Status
				}
				evs = append(evs, oracleEvent{ev, k.day, st})
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return evs
}

// activity reports whether e counts as activity (SPEC §4): a successful
// interactive or non-interactive user sign-in, or a successful sign-up.
func (e oracleEvent) activity() bool {
	if e.status != insights.StatusSuccess {
		return false
	}
	switch e.Kind {
	case insights.KindSignUp:
		return true
	case insights.KindSignIn:
		return e.SignInType == insights.SignInUnset || e.SignInType == insights.SignInInteractiveUser ||
			e.SignInType == insights.SignInNonInteractiveUser
	}
	return false
}

// activeByApp counts, per app name, the users with an activity in
// [from, to) on or before their deletion day.
func activeByApp(evs []oracleEvent, from, to insights.Date) map[string]int {
	deleted := map[string]insights.Date{}
	for _, e := range evs {
		if e.Kind == insights.KindUserDeleted && e.status == insights.StatusSuccess {
			if d, ok := deleted[e.UserKey]; !ok || e.day.Before(d) {
				deleted[e.UserKey] = e.day
			}
		}
	}
	users := map[string]map[string]bool{}
	for _, e := range evs {
		if d, ok := deleted[e.UserKey]; !e.activity() || e.day.Before(from) || !e.day.Before(to) || ok && d.Before(e.day) {
			continue
		}
		if users[e.AppName] == nil {
			users[e.AppName] = map[string]bool{}
		}
		users[e.AppName][e.UserKey] = true
	}
	counts := map[string]int{}
	for app, us := range users {
		counts[app] = len(us)
	}
	return counts
}

// csvRows parses the command's CSV output (export.ResultCSV's header
// start,end,series,offset,<dims...>,value,...) into "start series groups" → value.
func csvRows(t *testing.T, out string, ndims int) map[string]int {
	t.Helper()
	rows := map[string]int{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",") // the sample values hold no commas
		v, err := strconv.ParseFloat(f[4+ndims], 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		rows[strings.Join(append([]string{f[0], f[2]}, f[4:4+ndims]...), " ")] = int(v)
	}
	return rows
}

func TestAnswersMatchAnOracleOverTheSameFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	importSamples(t, dir)
	evs := oracleEvents(t)

	t.Run("monthly active users by app", func(t *testing.T) {
		out := ok(t, "query", "-store", dir, "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01",
			"-granularity", "month", "-by", "appName", "-format", "csv")
		got := csvRows(t, out, 1)
		want := map[string]int{}
		for app, n := range activeByApp(evs, insights.NewDate(2023, 9, 1), insights.NewDate(2023, 10, 1)) {
			want["2023-09-01  "+app] = n
		}
		if len(want) < 3 {
			t.Fatalf("the oracle finds %d apps: the samples no longer exercise grouping", len(want))
		}
		if !maps.Equal(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})

	t.Run("authentications by status per day", func(t *testing.T) {
		out := ok(t, "query", "-store", dir, "-metric", "authentications", "-from", "2023-09-01", "-to", "2023-10-01",
			"-by", "status", "-format", "csv")
		got := map[string]int{}
		for k, v := range csvRows(t, out, 1) {
			if strings.Contains(k, " attempts ") {
				got[k] = v
			}
		}
		want := map[string]int{}
		for _, e := range evs {
			if e.Kind == insights.KindSignIn {
				want[e.day.String()+" attempts "+e.status.String()]++
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})

	t.Run("failed sign-ins listed with a filter", func(t *testing.T) {
		out := ok(t, "signins", "-store", dir, "-filter", "status = failure", "-all", "-format", "json")
		var got []string
		for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			var e insights.LogEntry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			got = append(got, e.RequestID)
		}
		var want []string
		for _, e := range evs {
			if e.Kind == insights.KindSignIn && e.status == insights.StatusFailure {
				want = append(want, e.RequestID)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if len(want) < 3 || !slices.Equal(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
}

func TestPagesResumeWhereTheyStopped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	importSamples(t, dir)
	all := ok(t, "signins", "-store", dir, "-all", "-format", "csv")
	header, _, _ := strings.Cut(all, "\n")
	var pages strings.Builder
	first := []string{"signins", "-store", dir, "-limit", "4", "-format", "csv"}
	args := first
	for n := 0; ; n++ {
		r := cmd(t, args...)
		if r.code != exitOK || n > 100 {
			t.Fatalf("exit %d after %d pages: %s", r.code, n, r.stderr)
		}
		body := strings.TrimPrefix(r.stdout, header+"\n")
		pages.WriteString(body)
		cursor, found := strings.CutPrefix(strings.TrimSpace(r.stderr), "next page: -cursor ")
		if !found {
			break
		}
		args = append(slices.Clip(first), "-cursor", cursor)
	}
	if got := header + "\n" + pages.String(); got != all {
		t.Errorf("pages:\n%s\n-all:\n%s", got, all)
	}
}

// answers are the command's answers to a set of queries on the store dir.
func answers(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range [][]string{
		{"-metric", "activeUsers", "-granularity", "month", "-by", "appName"},
		{"-metric", "activeUsers", "-by", "country"},
		{"-metric", "signingInUsers"},
		{"-metric", "newUsers", "-granularity", "week"},
		{"-metric", "authentications", "-by", "reason"},
		{"-metric", "requests", "-by", "kind"},
		{"-metric", "mfaChallenges", "-by", "mfaMethod"},
		{"-metric", "totalUsers", "-granularity", "total"},
	} {
		args := append([]string{"query", "-store", dir, "-from", "2023-09-01", "-to", "2023-10-01", "-format", "csv"}, q...)
		b.WriteString(ok(t, args...))
	}
	b.WriteString(ok(t, "signins", "-store", dir, "-all", "-filter", "status = failure", "-format", "csv"))
	return b.String()
}

func TestImportingTwiceChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	importSamples(t, dir)
	once := answers(t, dir)
	importSamples(t, dir)
	if twice := answers(t, dir); twice != once {
		t.Errorf("after a second import:\n%s\nafter the first:\n%s", twice, once)
	}
}

func TestExportImportsBackToTheSameAnswers(t *testing.T) {
	dir, copyDir := filepath.Join(t.TempDir(), "store"), filepath.Join(t.TempDir(), "copy")
	importSamples(t, dir)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(events, []byte(ok(t, "export", "-store", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := ok(t, "import", "-store", copyDir, "-zone", zone, "-format", "jsonl", events)
	if !strings.Contains(out, "skipped 0") {
		t.Errorf("the export did not import whole: %s", out)
	}
	// Entry ids number a day's entries in the order they were applied,
	// which the export reverses: compare without them.
	want, got := answers(t, dir), answers(t, copyDir)
	if stripIDs(got) != stripIDs(want) {
		t.Errorf("from the export:\n%s\nfrom the samples:\n%s", got, want)
	}
}

// stripIDs drops the first CSV column (the entry id) of every line.
func stripIDs(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if id, rest, ok := strings.Cut(l, ","); ok && strings.Contains(id, "/") {
			lines[i] = rest
		}
	}
	return strings.Join(lines, "\n")
}

func TestQueryTableGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	importSamples(t, dir)
	golden(t, "query-active-users.golden", ok(t, "query", "-store", dir, "-metric", "activeUsers",
		"-from", "2023-09-01", "-to", "2023-10-01", "-granularity", "month", "-by", "appName"))
	golden(t, "query-authentications.golden", ok(t, "query", "-store", dir, "-metric", "authentications",
		"-from", "2023-09-20", "-to", "2023-09-24", "-by", "status", "-filter", "signInType = interactiveUser"))
}

// A registration snapshot imports, twice without change, into the
// engine's registration state.
func TestImportSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for range 2 {
		ok(t, "import", "-store", dir, "-format", "snapshot", "-as-of", "2023-09-01T00:00:00Z", sample("snapshot.csv"))
	}
	st, err := store.Dir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := insights.Open(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rows, err := eng.RegistrationDetails(t.Context(), insights.RegistrationQuery{})
	if err != nil || len(rows) != 3 || rows[0].UserKey != "alice" || len(rows[0].Methods) != 3 {
		t.Fatalf("registration details %+v, %v; want alice, bob and dave, alice with 3 methods", rows, err)
	}
	if r := cmd(t, "import", "-store", dir, "-format", "snapshot", "-as-of", "yesterday", sample("snapshot.csv")); r.code != exitBadInput ||
		!strings.Contains(r.stderr, "-as-of") {
		t.Fatalf("a bad -as-of: exit %d, %q", r.code, r.stderr)
	}
}
