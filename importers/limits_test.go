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
