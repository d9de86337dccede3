package ingest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/ingest"
	"github.com/insightslab/insights/store"
)

// An Auth0 custom webhook log stream delivers a batch, then delivers it
// again: the second delivery imports nothing.
func ExampleNew() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2023, 9, 25, 0, 0, 0, 0, time.UTC) }
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	h, err := ingest.New(eng, importers.Auth0, &ingest.Options{Token: "s3cret", Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}

	batch := `[{"log_id":"L1","date":"2023-09-20T10:00:00Z","type":"s","user_id":"auth0|u1","client_id":"web"},
{"log_id":"L2","date":"2023-09-20T10:01:00Z","type":"fp","user_id":"auth0|u2","client_id":"web"},
{"log_id":"L3","date":"2023-09-20T10:02:00Z","type":"sapi","client_id":"web"}]`
	for range 2 {
		r := httptest.NewRequest("POST", "/ingest/auth0", strings.NewReader(batch))
		r.Header.Set("Authorization", "Bearer s3cret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 200 {"read":3,"imported":2,"alreadyPresent":0,"skipped":1,"skips":[{"line":3,"reason":"type \"sapi\" is a Management API call"}]}
	// 200 {"read":3,"imported":0,"alreadyPresent":2,"skipped":1,"skips":[{"line":3,"reason":"type \"sapi\" is a Management API call"}]}
}
