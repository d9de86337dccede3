package importers_test

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
	"github.com/insightslab/insights/importers"
)

// Text that is not valid UTF-8 would be replaced by U+FFFD somewhere on the
// way (encoding/json, export), merging "u-\xff" and "u-\xfe": every reader
// skips the record instead, naming the field.
func TestInvalidUTF8IsSkipped(t *testing.T) {
	for _, c := range []struct {
		name   string
		format importers.Format
		in     string
		want   []string
	}{
		{"jsonl", importers.JSONL,
			"{\"time\":\"2023-09-20T10:00:00Z\",\"kind\":\"signIn\",\"userKey\":\"u-\xff\"}\n" +
				"{\"time\":\"2023-09-20T10:00:00Z\",\"kind\":\"signIn\",\"userKey\":\"u-\xfe\"}\n" +
				"{\"time\":\"2023-09-20T10:00:00Z\",\"kind\":\"signIn\",\"userKey\":\"u-\\udc00\"}\n" +
				"{\"time\":\"2023-09-20T10:00:00Z\",\"kind\":\"signIn\",\"userKey\":\"u-\\ud83d\\ude00 \uFFFD\"}\n",
			[]string{"line 1: userKey: not valid UTF-8", "line 2: userKey: not valid UTF-8", "line 3: userKey: not valid UTF-8"}},
		{"okta", importers.Okta,
			"[{\"uuid\":\"1\",\"published\":\"2023-09-20T10:00:00Z\",\"eventType\":\"user.session.start\",\"actor\":{\"id\":\"u-\xff\",\"type\":\"User\"},\"outcome\":{\"result\":\"SUCCESS\"}},\n" +
				"{\"uuid\":\"2\",\"published\":\"2023-09-20T10:00:00Z\",\"eventType\":\"user.session.start\",\"actor\":{\"id\":\"u\",\"type\":\"User\"},\"target\":[{\"id\":\"x\"},{\"id\":\"\\ud800\"}],\"outcome\":{\"result\":\"SUCCESS\"}}]\n",
			[]string{"line 1: actor.id: not valid UTF-8", "line 2: target[1].id: not valid UTF-8"}},
		{"auth0", importers.Auth0,
			"{\"log_id\":\"L1\",\"date\":\"2023-09-20T10:00:00Z\",\"type\":\"s\",\"user_id\":\"u-\xff\",\"client_id\":\"app\"}\n" +
				"{\"log_id\":\"L2\",\"date\":\"2023-09-20T10:00:00Z\",\"type\":\"s\",\"user_id\":\"u-\xfe\",\"client_id\":\"app\"}\n",
			[]string{"line 1: user_id: not valid UTF-8", "line 2: user_id: not valid UTF-8"}},
		{"entra-json", importers.EntraJSON,
			"{\"value\":[{\"id\":\"r1\",\"createdDateTime\":\"2023-09-20T10:00:00Z\",\"userId\":\"u-\xff\",\"status\":{\"errorCode\":0}},\n" +
				"{\"id\":\"r2\",\"createdDateTime\":\"2023-09-20T10:00:00Z\",\"userId\":\"u\",\"status\":{\"errorCode\":0},\"\xfe\":1}]}\n",
			[]string{"line 1: userId: not valid UTF-8", "line 2: \"\\ufffd\": not valid UTF-8"}},
		{"entra-csv", importers.EntraCSV,
			"Date (UTC),Request ID,User ID,Status\n2023-09-20T10:00:00Z,r1,u-\xff,Success\n2023-09-20T10:00:00Z,r2,u-\xfe,Success\n",
			[]string{"line 2: User ID: not valid UTF-8", "line 3: User ID: not valid UTF-8"}},
		{"entra-loganalytics csv", importers.EntraLogAnalytics,
			"TimeGenerated [UTC],Id,UserId,ResultType,LocationDetails\n2023-09-20T10:00:00Z,r1,u-\xff,0,\n" +
				"2023-09-20T10:00:00Z,r2,u,0,\"{\"\"city\"\":\"\"\\udc00\"\"}\"\n",
			[]string{"line 2: UserId: not valid UTF-8", "line 3: LocationDetails.city: not valid UTF-8"}},
		{"entra-loganalytics json", importers.EntraLogAnalytics,
			"[{\"TimeGenerated\":\"2023-09-20T10:00:00Z\",\"Id\":\"r1\",\"UserId\":\"u-\\udc00\",\"ResultType\":\"0\"},\n" +
				"{\"TimeGenerated\":\"2023-09-20T10:00:00Z\",\"Id\":\"r2\",\"UserId\":\"u\",\"ResultType\":\"0\",\"Status\":\"{\\\"x\\\":\\\"\\\\ud800\\\"}\"}]\n",
			[]string{"line 1: UserId: not valid UTF-8", "line 2: Status.x: not valid UTF-8"}},
		{"keycloak", importers.Keycloak,
			"{\"time\":1695376800000,\"type\":\"LOGIN\",\"userId\":\"u-\xff\"}\n{\"time\":1695376800000,\"type\":\"LOGIN\",\"userId\":\"u\",\"details\":{\"username\":\"\\ud800\"}}\n",
			[]string{"line 1: userId: not valid UTF-8", "line 2: details.username: not valid UTF-8"}},
		{"okta in an envelope", importers.Okta,
			"{\"message\":\"{\\\"uuid\\\":\\\"1\\\",\\\"actor\\\":{\\\"id\\\":\\\"\\\\ud800\\\"}}\"}\n",
			[]string{"line 1: message.actor.id: not valid UTF-8"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var users []string
			rep, err := importers.Read(context.Background(), strings.NewReader(c.in), c.format, &importers.Options{Now: clock, Envelope: envelope(c.name)},
				func(b []insights.Event) error {
					for _, ev := range b {
						users = append(users, ev.UserKey)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range rep.Skipped {
				got = append(got, s.String())
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("skips:\n got %q\nwant %q (imported %q)", got, c.want, users)
			}
		})
	}
	t.Run("snapshot", func(t *testing.T) {
		users, rep, err := importers.ReadSnapshot(context.Background(), strings.NewReader("userKey,methods\nu-\xff,Password\nu,Pass\xfeword\n"), nil)
		if err != nil || len(users) != 0 || len(rep.Skipped) != 2 ||
			rep.Skipped[0].String() != "line 2: userKey: not valid UTF-8" || rep.Skipped[1].String() != "line 3: methods: not valid UTF-8" {
			t.Errorf("got %v, %+v, %v", users, rep, err)
		}
	})
}

// Importing a sample, exporting it (package export) and importing the
// export gives the same events, exported line for line alike (events of
// one time may come out in another order), and the same answers, for every
// reader; extra carries the text a sample lacks: two
// user keys that differ only in invalid bytes, and valid non-ASCII ones.
func TestExportImportRoundTrip(t *testing.T) {
	extra := "Date (UTC),Request ID,User ID,User,Status\n" +
		"2023-09-20T10:00:00Z,x1,u-\xff,A,Success\n2023-09-20T10:00:00Z,x2,u-\xfe,B,Success\n" +
		"2023-09-21T10:00:00Z,x3,u-é,Zoë,Success\n2023-09-21T10:00:00Z,x4,u-\uFFFD,\u202eevil,Success\n"
	type input struct {
		name   string
		format importers.Format
		in     func(t *testing.T) []byte
	}
	inputs := []input{{"extra.csv", importers.EntraCSV, func(*testing.T) []byte { return []byte(extra) }}}
	for _, s := range samples {
		inputs = append(inputs, input{s.file, s.format, func(t *testing.T) []byte {
			var b bytes.Buffer
			if _, err := b.ReadFrom(openSample(t, s.file)); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			first := openEngine(t)
			load(t, first, in.in(t), in.format)
			exported := exportAll(t, first)
			second := openEngine(t)
			load(t, second, exported, importers.JSONL)
			if again := exportAll(t, second); !reflect.DeepEqual(lines(again), lines(exported)) {
				t.Errorf("export of the import of the export differs:\n%q\nwant\n%q", again, exported)
			}
			if a, b := answers(t, first), answers(t, second); !reflect.DeepEqual(a, b) {
				t.Errorf("answers differ:\n%s\nwant\n%s", strings.Join(b, "\n"), strings.Join(a, "\n"))
			}
		})
	}
}

// envelope is the Envelope option of a case of TestInvalidUTF8IsSkipped.
func envelope(name string) string {
	if strings.HasSuffix(name, "in an envelope") {
		return "message"
	}
	return ""
}

// load reads in, in format f, into eng.
func load(t *testing.T, eng *insights.Engine, in []byte, f importers.Format) {
	t.Helper()
	ctx := context.Background()
	_, err := importers.Read(ctx, bytes.NewReader(in), f, &importers.Options{Now: clock}, func(b []insights.Event) error {
		return eng.Add(ctx, b...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exportAll writes every event of eng in the event format.
func exportAll(t *testing.T, eng *insights.Engine) []byte {
	t.Helper()
	var b bytes.Buffer
	it := eng.Entries(context.Background(), insights.LogQuery{Limit: insights.MaxPageSize})
	if err := export.EventsJSON(&b, export.LogEvents(it)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lines returns the lines of b, sorted.
func lines(b []byte) []string {
	l := strings.SplitAfter(string(b), "\n")
	slices.Sort(l)
	return l
}
