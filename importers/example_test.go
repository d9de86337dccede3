package importers_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/store"
)

// Import an Entra sign-in download into an engine, twice: the second
// import changes nothing, since every event's request id comes from the
// file. The row with a date that does not parse is skipped and reported.
func ExampleRead() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2023, 9, 25, 0, 0, 0, 0, time.UTC) }
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	download := "\ufeffDate (UTC),Request ID,User ID,Status,Sign-in error code,Location\r\n" +
		"2023-09-20T10:00:00Z,r1,alice,Success,0,\"Seattle, Washington, US\"\r\n" +
		"\"9/20/2023, 11:00:00 AM\",r2,bob,Failure,50126,\"Paris, Ile-de-France, FR\"\r\n" +
		"\"9/20/2023, 11:05:00 AM\",r3,bob,Interrupted,50074,\"Paris, Ile-de-France, FR\"\r\n" +
		"yesterday,r4,carol,Success,0,\r\n"
	for range 2 {
		rep, err := importers.Read(ctx, strings.NewReader(download), importers.EntraCSV, &importers.Options{Now: now},
			func(batch []insights.Event) error { return eng.Add(ctx, batch...) })
		fmt.Println("imported", rep.Imported, "skipped", rep.Skipped, err)
	}

	res, err := eng.Query(ctx, insights.Query{Metric: insights.Authentications, Granularity: insights.Total,
		From: insights.NewDate(2023, 9, 20), To: insights.NewDate(2023, 9, 21)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r.Series, r.Value)
	}
	// Output:
	// imported 3 skipped [line 5: Date (UTC): "yesterday" is not a time] <nil>
	// imported 3 skipped [line 5: Date (UTC): "yesterday" is not a time] <nil>
	// attempts 3
	// successes 1
	// failures 1
	// interrupts 1
}

// Read Okta System Log events that a log shipper wrapped, one per line,
// under "message".
func ExampleOptions_envelope() {
	shipped := `{"@timestamp":"2023-09-20T10:00:01Z","message":"{\"uuid\":\"o-1\",\"published\":\"2023-09-20T10:00:00Z\",\"eventType\":\"user.authentication.verify\",\"actor\":{\"id\":\"00u1\",\"type\":\"User\"},\"target\":[{\"type\":\"AuthenticatorEnrollment\",\"displayName\":\"Password\"}],\"outcome\":{\"result\":\"FAILURE\",\"reason\":\"INVALID_CREDENTIALS\"}}"}
{"@timestamp":"2023-09-20T10:00:02Z","log":"poller started"}
`
	now := func() time.Time { return time.Date(2023, 9, 25, 0, 0, 0, 0, time.UTC) }
	rep, err := importers.Read(context.Background(), strings.NewReader(shipped), importers.Okta,
		&importers.Options{Now: now, Envelope: "message"}, func(batch []insights.Event) error {
			for _, ev := range batch {
				fmt.Println(ev.RequestID, ev.Kind, ev.UserKey, ev.Status, ev.Reason)
			}
			return nil
		})
	fmt.Println(rep.Imported, rep.Skipped, err)
	// Output:
	// okta:o-1 signIn 00u1 failure denied
	// 1 [line 2: no "message" field] <nil>
}
