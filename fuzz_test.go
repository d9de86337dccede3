package insights

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/insightslab/insights/store"
)

// FuzzFilterJSON: a filter decoded from any bytes is an error wrapping
// ErrInvalidQuery, or round-trips exactly through JSON and String.
func FuzzFilterJSON(f *testing.F) {
	f.Add([]byte(`{"op":"and","args":[{"op":"eq","dim":"appId","value":"A"},{"op":"not","arg":{"op":"in","dim":"os","values":["iOS",""]}}]}`))
	f.Add([]byte(`{"op":"or","args":[]}`))
	f.Add([]byte(`{"op":"cidr","dim":"ip","value":"198.51.100.0/24"}`))
	f.Add([]byte(`{"op":"prefix","dim":"country","value":"U"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g Filter
		if err := json.Unmarshal(b, &g); err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				var se *json.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
			}
			return
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("marshal %s: %v", g, err)
		}
		var h Filter
		if err := json.Unmarshal(out, &h); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !reflect.DeepEqual(g, h) || g.String() != h.String() {
			t.Fatalf("round trip changed %s into %s", g, h)
		}
	})
}

// FuzzQuery: any query decoded from JSON and run on a small engine returns
// a result or an error wrapping ErrInvalidQuery; it never panics.
func FuzzQuery(f *testing.F) {
	f.Add([]byte(`{"metric":"activeUsers","from":"2024-02-27","to":"2024-03-03","granularity":"week","groupBy":["appId"],"top":1,"other":true}`))
	f.Add([]byte(`{"metric":"lifecycle","from":"2024-02-01","to":"2024-04-01","granularity":"month","filter":{"op":"not","arg":{"op":"eq","dim":"os","value":"iOS"}}}`))
	f.Add([]byte(`{"metric":"inactiveUsers","from":"2024-03-01","to":"2024-03-02","days":1,"approximate":true}`))
	f.Add([]byte(`{"metric":"retention","from":"2024-02-28","to":"2024-03-02","granularity":"total"}`))
	ctx := context.Background()
	now := time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
	e, err := Open(ctx, store.NewMemory(), &Options{Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	for i, os := range []string{"iOS", "Windows", ""} {
		at := time.Date(2024, 2, 28+i, 23, 59, 0, 0, time.UTC)
		if err := e.Add(ctx,
			Event{Time: at, Kind: KindSignIn, UserKey: "u" + os, AppID: "A", OS: os},
			Event{Time: at, Kind: KindUserCreated, UserKey: "c" + os},
			Event{Time: at, Kind: KindSignIn, UserKey: "u", AppID: "B", ErrorCode: 50126}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Query
		if err := json.Unmarshal(b, &q); err != nil {
			return
		}
		if q.To.num()-q.From.num() > 400 {
			return // long ranges are valid but slow to fuzz
		}
		if _, err := e.Query(ctx, q); err != nil && !errors.Is(err, ErrInvalidQuery) {
			t.Fatalf("query %s: error %v wraps no sentinel", b, err)
		}
	})
}
