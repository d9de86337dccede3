package importers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

// A CSV record over the limit ends the input with ErrMalformed naming the
// line it starts on, before encoding/csv holds it whole. The limit is
// lowered here so that the test needs no 16 MB record; the long records
// are longer than encoding/csv's 4 kB buffer, which the limit may overrun.
func TestCSVRecordOverTheLimit(t *testing.T) {
	importers.SetMaxLineBytes(t, 1000)
	ok := "2023-09-20T10:00:00Z,r1,u1,Success\n"
	long := "2023-09-20T10:00:00Z,r2,\"" + strings.Repeat("x\n", 5000) + "\",Success\n"
	in := "Date (UTC),Request ID,User ID,Status\n" + ok + "\n" + long + ok
	nop := func([]insights.Event) error { return nil }
	_, err := importers.Read(context.Background(), strings.NewReader(in), importers.EntraCSV, &importers.Options{Now: clock}, nop)
	if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), "line 4:") {
		t.Errorf("entra-csv: got %v, want ErrMalformed on line 4", err)
	}
	snap := "userKey,methods\nu1,Password\n" + "u2,\"" + strings.Repeat("Password;", 2000) + "\"\n"
	_, _, err = importers.ReadSnapshot(context.Background(), strings.NewReader(snap), nil)
	if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), "line 3:") {
		t.Errorf("snapshot: got %v, want ErrMalformed on line 3", err)
	}
	_, _, err = importers.ReadSnapshot(context.Background(), strings.NewReader("userKey,methods,"+strings.Repeat("h", 10000)+"\nu1,Password,\n"), nil)
	if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), "line 1:") {
		t.Errorf("header: got %v, want ErrMalformed on line 1", err)
	}
}

// The zero time, 0001-01-01T00:00:00Z, is given, not missing: it is out
// of range, as any time before 2000 is.
func TestZeroTimeIsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		format importers.Format
		in     string
		want   string
	}{
		{importers.JSONL, `{"time":"0001-01-01T00:00:00Z","kind":"signIn","userKey":"u"}`, "line 1: Time: 0001-01-01T00:00:00Z is before 2000-01-01"},
		{importers.JSONL, `{"time":null,"kind":"signIn","userKey":"u"}`, "line 1: Time: missing"},
		{importers.Okta, `{"uuid":"1","published":"0001-01-01T00:00:00Z","eventType":"user.session.start","actor":{"id":"u"},"outcome":{"result":"SUCCESS"}}`,
			`line 1: published: "0001-01-01T00:00:00Z" is before 2000-01-01`},
		{importers.EntraCSV, "Date (UTC),User ID,Status\n0001-01-01T00:00:00Z,u,Success\n", `line 2: Date (UTC): "0001-01-01T00:00:00Z" is before 2000-01-01`},
	} {
		rep, err := importers.Read(context.Background(), strings.NewReader(c.in), c.format, &importers.Options{Now: clock},
			func([]insights.Event) error { return nil })
		if err != nil || len(rep.Skipped) != 1 || rep.Skipped[0].String() != c.want {
			t.Errorf("%s %s: got %v, %v; want %q", c.format, c.in, rep.Skipped, err, c.want)
		}
	}
}

// An error in a JSON array cut short names the line where the input ends,
// not where the value cut short began.
func TestTruncatedArrayNamesItsLastLine(t *testing.T) {
	okta := `{"uuid":"1","published":"2023-09-20T10:00:00Z","eventType":"user.session.start","actor":{"id":"u","type":"User"},"outcome":{"result":"SUCCESS"}}`
	for in, line := range map[string]string{
		"[\n" + okta + ",\n{\"uuid\":\"2\",\n\"published\":\"2023": "line 4:",
		"[\n" + okta + ",\n" + okta + "\n":                         "line 3:",
	} {
		_, err := importers.Read(context.Background(), strings.NewReader(in), importers.Okta, &importers.Options{Now: clock},
			func([]insights.Event) error { return nil })
		if !errors.Is(err, importers.ErrMalformed) || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: got %v, want an error on %s", in, err, line)
		}
	}
}
