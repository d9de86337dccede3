package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

func TestGraphErrors(t *testing.T) {
	eng := newEngine(t)
	day := func(m insights.Metric, days int, groupBy ...insights.Dimension) *insights.Result {
		return query(t, eng, insights.Query{Metric: m, From: march3, To: march6, Days: days, GroupBy: groupBy})
	}
	active := day(insights.ActiveUsers, 0)
	cases := []struct {
		name, collection string
		results          []*insights.Result
		want             string
	}{
		{"unknown collection", "daily/requests", []*insights.Result{active},
			"graph daily/requests: unknown collection, want one of daily/activeUsers, "},
		{"no period", "activeUsers", []*insights.Result{active}, "unknown collection"},
		{"no results", "daily/activeUsers", nil, "graph daily/activeUsers: no results"},
		{"nil result", "daily/activeUsers", []*insights.Result{active, nil}, "results[1] is nil"},
		{"another metric", "daily/activeUsers", []*insights.Result{day(insights.NewUsers, 0)},
			"results[0] is newUsers, want activeUsers"},
		{"another granularity", "monthly/activeUsers", []*insights.Result{active},
			"results[0] has granularity day, want month"},
		{"a dimension Graph does not have", "daily/activeUsers", []*insights.Result{day(insights.ActiveUsers, 0, insights.DimResource)},
			"groupBy[0]: resource has no Graph property here"},
		{"two dimensions for one property", "daily/activeUsers",
			[]*insights.Result{day(insights.ActiveUsers, 0, insights.DimOS, insights.DimOSFamily)},
			"groupBy[1]: osFamily gives property os twice"},
		{"by application needs appId", "daily/inactiveUsersByApplication", []*insights.Result{day(insights.InactiveUsers, 30)},
			"results must be grouped by appId"},
		{"days Graph does not have", "daily/inactiveUsers", []*insights.Result{day(insights.InactiveUsers, 7)},
			"results[0] has days 7, want one of"},
		{"the same count twice", "daily/inactiveUsers",
			[]*insights.Result{day(insights.InactiveUsers, 30), day(insights.InactiveUsers, 30)},
			"results[1] gives inactive30DayCount again"},
		{"different group-by", "daily/authentications",
			[]*insights.Result{day(insights.Authentications, 0), day(insights.Authentications, 0, insights.DimAppID)},
			"results[1] is grouped by [appId], results[0] by []"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := export.Graph(&buf, c.collection, c.results...)
			if !errors.Is(err, insights.ErrInvalidQuery) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want ErrInvalidQuery containing %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %q on error", buf.String())
			}
		})
	}
}

// TestGraphShape: every collection's output parses as {"value":[...]}
// whose objects have a factDate and only the properties Graph documents.
func TestGraphShape(t *testing.T) {
	res := &insights.Result{Query: insights.Query{Metric: insights.ActiveUsers, GroupBy: []insights.Dimension{insights.DimAppName}},
		Rows: []insights.Row{{Start: march3, End: march6, Groups: []string{"<\"\\\n日本"}, Value: 2.5}}}
	var buf bytes.Buffer
	if err := export.Graph(&buf, "daily/activeUsers", res); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := map[string]any{"factDate": "2025-03-03", "appName": "<\"\\\n日本", "count": 3.0}
	if len(got.Value) != 1 || len(got.Value[0]) != len(want) {
		t.Fatalf("got %v, want one %v", got.Value, want)
	}
	for k, v := range want {
		if got.Value[0][k] != v {
			t.Errorf("%s = %v, want %v", k, got.Value[0][k], v)
		}
	}
	if names := export.GraphCollections(); len(names) != 16 || names[0] != "daily/activeUsers" {
		t.Errorf("GraphCollections() = %v", names)
	}
}
