package importers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/store"
)

// clock is the engines' and the readers' clock in these tests.
func clock() time.Time { return time.Date(2023, 9, 25, 0, 0, 0, 0, time.UTC) }

// brief is the key fields of an event, compared by the per-format tests.
type brief struct {
	Time      string
	Kind      insights.Kind
	User      string
	Principal string
	Type      insights.SignInType
	Status    insights.Status
	Code      int
	Reason    string
	ID        string
}

func (b brief) String() string {
	return fmt.Sprintf("%s %s user=%q principal=%q type=%s status=%s code=%d reason=%q id=%q",
		b.Time, b.Kind, b.User, b.Principal, b.Type, b.Status, b.Code, b.Reason, b.ID)
}

func briefOf(ev insights.Event) brief {
	return brief{ev.Time.UTC().Format(time.RFC3339), ev.Kind, ev.UserKey, ev.PrincipalID, ev.SignInType,
		ev.Status, ev.ErrorCode, ev.Reason, ev.RequestID}
}

// readFile reads a sample file whole, copying the events out of the batches.
func readFile(t *testing.T, name string, f importers.Format) ([]insights.Event, importers.Report) {
	t.Helper()
	var evs []insights.Event
	rep, err := importers.Read(context.Background(), openSample(t, name), f, &importers.Options{Now: clock}, func(b []insights.Event) error {
		evs = append(evs, b...)
		return nil
	})
	if err != nil {
		t.Fatalf("Read %s: %v", name, err)
	}
	return evs, rep
}

// checkBriefs compares the key fields of evs with want; a want ID ending
// in "*" matches any id with that prefix and 32 more hex digits.
func checkBriefs(t *testing.T, evs []insights.Event, want []brief) {
	t.Helper()
	if len(evs) != len(want) {
		for _, ev := range evs {
			t.Log(briefOf(ev))
		}
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		got := briefOf(ev)
		if p, ok := strings.CutSuffix(want[i].ID, "*"); ok && strings.HasPrefix(got.ID, p) && len(got.ID) == len(p)+32 {
			got.ID = want[i].ID
		}
		if got != want[i] {
			t.Errorf("event %d:\n got %v\nwant %v", i, got, want[i])
		}
	}
}

// checkSkips compares a report's skips with want ("line N: reason").
func checkSkips(t *testing.T, rep importers.Report, read int, want ...string) {
	t.Helper()
	var got []string
	for _, s := range rep.Skipped {
		got = append(got, s.String())
	}
	if !reflect.DeepEqual(got, want) || rep.SkippedCount != len(want) {
		t.Errorf("skips:\n got %q (%d)\nwant %q", got, rep.SkippedCount, want)
	}
	if rep.Read != read || rep.Imported != read-len(want) {
		t.Errorf("read %d, imported %d; want %d and %d", rep.Read, rep.Imported, read, read-len(want))
	}
}

// openEngine opens an in-memory engine on the tests' clock.
func openEngine(t testing.TB) *insights.Engine {
	t.Helper()
	eng, err := insights.Open(context.Background(), store.NewMemory(), &insights.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// importInto reads a sample file into eng, each batch through Add.
func importInto(t *testing.T, eng *insights.Engine, name string, f importers.Format) importers.Report {
	t.Helper()
	ctx := context.Background()
	rep, err := importers.Read(ctx, openSample(t, name), f, &importers.Options{Now: clock, BatchSize: 3}, func(b []insights.Event) error {
		return eng.Add(ctx, b...)
	})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return rep
}

// answers returns the daily active users and authentications of the
// samples' week, one line per row.
func answers(t *testing.T, eng *insights.Engine) []string {
	t.Helper()
	var out []string
	for _, m := range []insights.Metric{insights.ActiveUsers, insights.Authentications} {
		res, err := eng.Query(context.Background(), insights.Query{Metric: m,
			From: insights.NewDate(2023, 9, 18), To: insights.NewDate(2023, 9, 25)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			out = append(out, fmt.Sprintf("%s %s %s %g", m, r.Start, r.Series, r.Value))
		}
	}
	return out
}

// openSample opens a sample file, closed when the test ends.
func openSample(t testing.TB, name string) *os.File {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	return fh
}
