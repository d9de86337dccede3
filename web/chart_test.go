package web

import (
	"math"
	"testing"

	"github.com/insightslab/insights"
)

func TestNiceMax(t *testing.T) {
	for _, c := range []struct{ max, want float64 }{
		{0, 4}, {-3, 4}, {math.NaN(), 4}, {math.Inf(1), 4},
		{3, 4}, {4, 4}, {5, 8}, {24, 40}, {90, 100}, {101, 200}, {1000, 1000}, {2041, 4000}, {0.3, 0.4},
	} {
		if got := niceMax(c.max); got != c.want {
			t.Errorf("niceMax(%v) = %v, want %v", c.max, got, c.want)
		}
	}
}

func TestBarsNameTheEmptyValueAndKeepRawKeys(t *testing.T) {
	res := &insights.Result{Query: insights.Query{Granularity: insights.Total, GroupBy: []insights.Dimension{insights.DimOSFamily}},
		Rows: []insights.Row{{Start: date(1), Groups: []string{""}, Value: 3}, {Start: date(1), Groups: []string{"iOS"}, Value: 5, Incomplete: true}}}
	c := newChart(bars, res, nil)
	if len(c.Marks) != 2 || c.Marks[0].Key != "2025-03-01||" || c.Marks[1].Value != "5" || !c.Marks[1].Incomplete {
		t.Fatalf("marks %+v", c.Marks)
	}
	var labels []string
	for _, x := range c.Texts {
		labels = append(labels, x.Text)
	}
	if labels[0] != noValue || labels[3] != "5 *" || c.Legend != nil {
		t.Errorf("texts %q, legend %v", labels, c.Legend)
	}
	if e := newChart(lines, &insights.Result{}, nil); !e.Empty {
		t.Error("no rows is not an empty chart")
	}
}
