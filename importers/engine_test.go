package importers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

// samples are the sample files and their formats.
var samples = []struct {
	file   string
	format importers.Format
}{
	{"entra.csv", importers.EntraCSV},
	{"entra.json", importers.EntraJSON},
	{"entra-diagnostic.jsonl", importers.EntraJSON},
	{"okta.json", importers.Okta},
	{"auth0.json", importers.Auth0},
	{"events.jsonl", importers.JSONL},
	{"entra-loganalytics.csv", importers.EntraLogAnalytics},
	{"entra-loganalytics.json", importers.EntraLogAnalytics},
	{"keycloak.json", importers.Keycloak},
}

func TestImportTwiceChangesNothing(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			once, twice := openEngine(t), openEngine(t)
			importInto(t, once, s.file, s.format)
			importInto(t, twice, s.file, s.format)
			importInto(t, twice, s.file, s.format)
			a, b := answers(t, once), answers(t, twice)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("once:\n%s\ntwice:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
		})
	}
}

// The Entra CSV sample's answers, counted by hand: alice signs in on the
// 20th and (after an MFA interrupt) the 21st, bob fails on the 20th, carol
// fails MFA, an unknown user fails and a service principal signs in on the
// 22nd, dave signs in on the 23rd.
func TestEntraCSVAnswers(t *testing.T) {
	eng := openEngine(t)
	importInto(t, eng, "entra.csv", importers.EntraCSV)
	got := strings.Join(answers(t, eng), "\n")
	for _, want := range []string{
		"activeUsers 2023-09-20  1", "activeUsers 2023-09-21  1", "activeUsers 2023-09-22  0", "activeUsers 2023-09-23  1",
		"authentications 2023-09-20 attempts 2", "authentications 2023-09-20 successes 1", "authentications 2023-09-20 failures 1",
		"authentications 2023-09-21 attempts 2", "authentications 2023-09-21 interrupts 1",
		"authentications 2023-09-22 attempts 3", "authentications 2023-09-22 failures 2",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
}

func TestLargeInputStreamsInBatches(t *testing.T) {
	const n = 2500
	var in bytes.Buffer
	in.WriteString("[\n")
	for i := range n {
		if i > 0 {
			in.WriteString(",\n")
		}
		fmt.Fprintf(&in, `{"log_id":"L%d","date":"2023-09-2%dT10:00:00Z","type":"s","user_id":"u%d","client_id":"app"}`, i, i%5, i%300)
	}
	in.WriteString("\n]\n")
	eng := openEngine(t)
	var sizes []int
	rep, err := importers.Read(t.Context(), &in, importers.Auth0, &importers.Options{Now: clock}, func(b []insights.Event) error {
		sizes = append(sizes, len(b))
		return eng.Add(context.Background(), b...)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sizes, []int{1000, 1000, 500}) || rep.Read != n || rep.Imported != n {
		t.Errorf("batches %v, report %+v", sizes, rep)
	}
	res, err := eng.Query(t.Context(), insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Total,
		From: insights.NewDate(2023, 9, 18), To: insights.NewDate(2023, 9, 25)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0].Value != 300 {
		t.Errorf("active users %v, want 300", res.Rows[0].Value)
	}
}

func TestReadErrors(t *testing.T) {
	ctx := t.Context()
	nop := func([]insights.Event) error { return nil }
	read := func(in string, f importers.Format, fn func([]insights.Event) error) (importers.Report, error) {
		return importers.Read(ctx, strings.NewReader(in), f, &importers.Options{Now: clock, BatchSize: 1}, fn)
	}
	okta := `{"uuid":"1","published":"2023-09-20T10:00:00Z","eventType":"user.session.start","actor":{"id":"u","type":"User"},"outcome":{"result":"SUCCESS"}}`

	t.Run("unknown format", func(t *testing.T) {
		if _, err := read("", "syslog", nop); !errors.Is(err, importers.ErrUnknownFormat) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("broken array names its line", func(t *testing.T) {
		rep, err := read("[\n"+okta+",\n{\"uuid\": }\n]", importers.Okta, nop)
		if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), "line 3") || rep.Imported != 1 {
			t.Errorf("got %v, %+v", err, rep)
		}
	})
	t.Run("fn error stops the read", func(t *testing.T) {
		boom := errors.New("boom")
		rep, err := read(okta+"\n"+okta, importers.Okta, func([]insights.Event) error { return boom })
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 1") || rep.Imported != 0 {
			t.Errorf("got %v, %+v", err, rep)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := importers.Read(ctx, strings.NewReader(okta), importers.Okta, nil, nop)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("CSV without a date column", func(t *testing.T) {
		if _, err := read("Request ID,User ID\nr,u\n", importers.EntraCSV, nop); !errors.Is(err, importers.ErrMalformed) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("empty inputs", func(t *testing.T) {
		for _, f := range []importers.Format{importers.JSONL, importers.EntraCSV, importers.EntraJSON, importers.Okta, importers.Auth0} {
			if rep, err := read("", f, nop); err != nil || rep.Read != 0 {
				t.Errorf("%s: %v, %+v", f, err, rep)
			}
		}
	})
}

func TestReadShapes(t *testing.T) {
	ids := func(t *testing.T, in string, f importers.Format, opts *importers.Options) ([]string, importers.Report) {
		t.Helper()
		if opts == nil {
			opts = &importers.Options{Now: clock}
		}
		var got []string
		rep, err := importers.Read(t.Context(), strings.NewReader(in), f, opts, func(b []insights.Event) error {
			for _, ev := range b {
				got = append(got, ev.RequestID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, rep
	}
	graph := func(id string) string {
		return `{"id":"` + id + `","createdDateTime":"2023-09-20T10:00:00Z","userId":"u","status":{"errorCode":0}}`
	}
	diag := func(id string) string {
		return `{"time":"2023-09-20T10:00:00Z","category":"SignInLogs","properties":` + graph(id) + `}`
	}

	t.Run("pretty records document names each record's line", func(t *testing.T) {
		in := "{\n \"records\": [\n  " + diag("a") + ",\n  {\"category\": \"AuditLogs\", \"properties\": {}}\n ]\n}\n"
		got, rep := ids(t, in, importers.EntraJSON, nil)
		if !reflect.DeepEqual(got, []string{"a"}) || rep.Skipped[0].Line != 4 {
			t.Errorf("got %v, %+v", got, rep)
		}
	})
	t.Run("Graph page and records on lines", func(t *testing.T) {
		in := `{"@odata.context":"x","value":[` + graph("a") + "," + graph("b") + "]}\n" + `{"records":[` + diag("c") + "]}\n" + graph("d") + "\n"
		got, _ := ids(t, in, importers.EntraJSON, nil)
		if !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("arrays in a row", func(t *testing.T) {
		got, _ := ids(t, "["+graph("a")+"]\n["+graph("b")+"]", importers.EntraJSON, nil)
		if !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("future times are skipped", func(t *testing.T) {
		in := `{"time":"2023-09-26T00:00:01Z","kind":"signIn","userKey":"u"}` + "\n" + `{"time":"2023-09-25T23:00:00Z","kind":"signIn","userKey":"u"}`
		_, rep := ids(t, in, importers.JSONL, nil)
		if rep.Imported != 1 || rep.Skipped[0].Reason != "Time: 2023-09-26T00:00:01Z is more than a day after the clock" {
			t.Errorf("%+v", rep)
		}
	})
	t.Run("long values are cut, long keys skipped, long ids hashed, bad IPs dropped", func(t *testing.T) {
		long := strings.Repeat("é", insights.MaxValueLength)
		in := `{"time":"2023-09-20T10:00:00Z","kind":"signIn","userKey":"u","appName":"` + long + `","ip":"not-an-ip","requestId":"` + long + `"}` + "\n" +
			`{"time":"2023-09-20T10:00:00Z","kind":"signIn","userKey":"` + strings.Repeat("k", insights.MaxKeyLength+1) + `"}`
		var ev insights.Event
		rep, err := importers.Read(t.Context(), strings.NewReader(in), importers.JSONL, &importers.Options{Now: clock}, func(b []insights.Event) error {
			ev = b[0]
			return openEngine(t).Add(context.Background(), b...)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.AppName) != insights.MaxValueLength || ev.IP != "" || !strings.HasPrefix(ev.RequestID, "jsonl:h:") ||
			rep.Skipped[0].Reason != "UserKey: 1025 bytes, over the limit of 1024" {
			t.Errorf("app %d bytes, ip %q, id %q, %+v", len(ev.AppName), ev.IP, ev.RequestID, rep)
		}
	})
	t.Run("skip list is capped", func(t *testing.T) {
		_, rep := ids(t, strings.Repeat("{}\n", 10), importers.JSONL, &importers.Options{Now: clock, MaxSkips: 3})
		if len(rep.Skipped) != 3 || rep.SkippedCount != 10 {
			t.Errorf("%+v", rep)
		}
	})
	t.Run("Auth0 log stream envelope", func(t *testing.T) {
		in := `{"log_id":"x1","data":{"date":"2023-09-20T10:00:00Z","type":"s","user_id":"u"}}`
		got, _ := ids(t, in, importers.Auth0, nil)
		if !reflect.DeepEqual(got, []string{"auth0:x1"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("CSV duplicated column takes the first non-empty", func(t *testing.T) {
		in := "Date (UTC),Request ID,User ID,Sign-in error code,Request ID\n2023-09-20T10:00:00Z,,u,0,r-2\n"
		got, _ := ids(t, in, importers.EntraCSV, nil)
		if !reflect.DeepEqual(got, []string{"r-2"}) {
			t.Errorf("got %v", got)
		}
	})
}

func TestTimeLayouts(t *testing.T) {
	want := time.Date(2023, 9, 20, 16, 15, 6, 0, time.UTC)
	for _, s := range []string{"2023-09-20T16:15:06Z", "2023-09-20T18:15:06+02:00", "2023-09-20T16:15:06", "2023-09-20 16:15:06",
		"9/20/2023, 4:15:06 PM", "9/20/2023 4:15:06 PM"} {
		in := "Date (UTC),User ID,Sign-in error code\n\"" + s + "\",u,0\n"
		var got time.Time
		_, err := importers.Read(t.Context(), strings.NewReader(in), importers.EntraCSV, &importers.Options{Now: clock}, func(b []insights.Event) error {
			got = b[0].Time
			return nil
		})
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v, %v", s, got, err)
		}
	}
}

// A snapshot read from CSV becomes the engine's registration state.
func TestSnapshotIntoEngine(t *testing.T) {
	f, err := os.Open("testdata/snapshot.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	users, _, err := importers.ReadSnapshot(t.Context(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := openEngine(t)
	if err := e.ImportRegistrations(t.Context(), clock().Add(-time.Hour), users); err != nil {
		t.Fatal(err)
	}
	got, err := e.RegistrationDetails(t.Context(), insights.RegistrationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, d := range got {
		rows = append(rows, fmt.Sprintf("%s %q mfa=%v passwordless=%v", d.UserKey, d.Methods, d.MFA.Capable, d.Passwordless.Capable))
	}
	want := []string{
		`alice ["FIDO2 security key" "Microsoft Authenticator" "Password"] mfa=true passwordless=true`,
		`bob ["Password"] mfa=false passwordless=false`,
		`dave ["Password" "Text message"] mfa=true passwordless=false`,
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("registration details\n got %q\nwant %q", rows, want)
	}
}
