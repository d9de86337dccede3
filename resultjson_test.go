package insights_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/insightslab/insights"
)

// TestResultJSONKeepsMeaningfulZeros: a Retention row's offset 0 (the
// cohort's own bucket) and any value 0 are written; an offset other
// metrics do not have is left out. The JSON reads back as the Result.
func TestResultJSONKeepsMeaningfulZeros(t *testing.T) {
	d := insights.NewDate(2023, 9, 20)
	for _, c := range []struct {
		metric insights.Metric
		want   []string
		absent []string
	}{
		{insights.Retention, []string{`{"start":"2023-09-20","end":"2023-09-21","offset":0,"groups":["AT&T"],"value":0}`,
			`"offset":1,"groups":["AT&T"],"value":0.5`}, nil},
		{insights.ActiveUsers, []string{`{"start":"2023-09-20","end":"2023-09-21","groups":["AT&T"],"value":0}`}, []string{`"offset"`}},
	} {
		res := insights.Result{Query: insights.Query{Metric: c.metric, From: d, To: d.AddDays(1)}, Zone: "UTC",
			Rows: []insights.Row{{Start: d, End: d.AddDays(1), Groups: []string{"AT&T"}}}}
		if c.metric == insights.Retention {
			res.Rows = append(res.Rows, insights.Row{Start: d, End: d.AddDays(1), Offset: 1, Groups: []string{"AT&T"}, Value: 0.5})
		}
		b, err := json.Marshal(&res)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(string(b), `\u0026`, "&")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %s in\n%s", c.metric, w, b)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(got, a) {
				t.Errorf("%s: %s in\n%s", c.metric, a, b)
			}
		}
		var back insights.Result
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Rows, res.Rows) {
			t.Errorf("%s: read back %+v, %v; want %+v", c.metric, back.Rows, err, res.Rows)
		}
	}
}
