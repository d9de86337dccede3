package ingest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/ingest"
)

// counting is an Adder that keeps the request ids it was given.
type counting struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *counting) AddCount(ctx context.Context, evs ...insights.Event) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ev := range evs {
		if !c.seen[ev.RequestID] {
			c.seen[ev.RequestID] = true
			n++
		}
	}
	return n, nil
}

// FuzzServe posts any body to the Okta and Auth0 handlers: the answer is
// 200 with a report that adds up, 400 or 413, never a panic, and a second
// delivery of a body imports nothing.
func FuzzServe(f *testing.F) {
	f.Add([]byte(auth0Batch))
	f.Add([]byte(`{"data":{"events":[{"uuid":"o-1","published":"2023-09-20T10:00:00Z","eventType":"user.session.start","actor":{"id":"u","type":"User"},"outcome":{"result":"SUCCESS"}}]}}`))
	f.Add([]byte(`{"log_id":"L9","data":{"date":"2023-09-20T10:00:00Z","type":"fu","user_name":"x","ip":"192.0.2.1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, format := range []importers.Format{importers.Okta, importers.Auth0} {
			eng := &counting{seen: map[string]bool{}}
			h, err := ingest.New(eng, format, &ingest.Options{Token: "t", MaxEvents: 50, MaxBodyBytes: 1 << 16, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				w := post(h, string(body), "Authorization", "Bearer t")
				switch w.Code {
				case http.StatusOK:
					var rep ingest.Report
					if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
						t.Fatalf("%s: answer %q: %v", format, w.Body, err)
					}
					if rep.Imported+rep.AlreadyPresent+rep.Skipped != rep.Read || i == 1 && rep.Imported != 0 {
						t.Fatalf("%s: delivery %d: report %+v does not add up", format, i, rep)
					}
				case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				default:
					t.Fatalf("%s: status %d: %s", format, w.Code, w.Body)
				}
			}
		}
	})
}
