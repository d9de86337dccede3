package web

import (
	"math"
	"strings"
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

// texts returns the chart's texts of class.
func texts(c chart, class string) []text {
	var out []text
	for _, x := range c.Texts {
		if x.Class == class {
			out = append(out, x)
		}
	}
	return out
}

func TestBarsNameTheEmptyValueAndKeepRawKeys(t *testing.T) {
	res := &insights.Result{Query: insights.Query{Granularity: insights.Total, GroupBy: []insights.Dimension{insights.DimOSFamily}},
		Rows: []insights.Row{{Start: date(1), Groups: []string{""}, Value: 3}, {Start: date(1), Groups: []string{"iOS"}, Value: 5, Incomplete: true}}}
	c := newChart(bars, res, nil, "users")
	if len(c.Marks) != 2 || c.Marks[0].Key != "2025-03-01||" || c.Marks[1].Value != "5" {
		t.Fatalf("marks %+v", c.Marks)
	}
	labels, values := texts(c, "label"), texts(c, "value")
	if labels[0].Text != unknown || values[1].Text != "5 *" || c.Legend != nil {
		t.Errorf("labels %v, values %v, legend %v", labels, values, c.Legend)
	}
	if e := newChart(lines, &insights.Result{}, nil, "users"); !e.Empty {
		t.Error("no rows is not an empty chart")
	}
}

func TestWholeRangeBarsContainingTodayAreNotDrawnPale(t *testing.T) {
	res := &insights.Result{Query: insights.Query{Granularity: insights.Total, GroupBy: []insights.Dimension{insights.DimAppName}},
		Rows: []insights.Row{{Start: date(1), Groups: []string{"Portal"}, Value: 5, Incomplete: true}}}
	c := newChart(bars, res, nil, "users")
	if c.Marks[0].Incomplete || !strings.Contains(c.Marks[0].Title, "incomplete") || texts(c, "value")[0].Text != "5 *" {
		t.Errorf("the bar is %+v, its value %v: want it drawn as any other, its value starred", c.Marks[0], texts(c, "value"))
	}
	days := &insights.Result{Query: insights.Query{Granularity: insights.Day},
		Rows: []insights.Row{{Start: date(19), Value: 5}, {Start: date(20), Value: 2, Incomplete: true}}}
	c = newChart(columns, days, nil, "users")
	if c.Marks[0].Incomplete || !c.Marks[1].Incomplete || len(c.Bands) != 1 {
		t.Errorf("columns %+v, bands %v: want today's alone marked", c.Marks, c.Bands)
	}
}

func TestChartsLabelCodesAndKeepThemInTooltips(t *testing.T) {
	for _, c := range []struct {
		dim                insights.Dimension
		code, label, title string
	}{
		{insights.DimReason, "configError", "Configuration error", "Configuration error (configError)"},
		{insights.DimMFAResult, "mfaDenied", "Denied by the user", "Denied by the user (mfaDenied)"},
		{insights.DimCountry, "FR", "France", "France (FR)"},
		{insights.DimCountry, "ZZ", "ZZ", "ZZ"},
		{insights.DimOSFamily, "", unknown, unknown},
		{insights.DimAppName, hostile, hostile, hostile},
	} {
		res := &insights.Result{Query: insights.Query{Metric: insights.Authentications, Granularity: insights.Total,
			GroupBy: []insights.Dimension{c.dim}},
			Rows: []insights.Row{{Start: date(1), Series: "failures", Groups: []string{c.code}, Value: 4}}}
		ch := newChart(bars, res, nil, unitOf(res.Query.Metric))
		l := texts(ch, "label")[0]
		if l.Text != c.label || l.Title != c.title {
			t.Errorf("%s %q: label %q, tooltip %q; want %q, %q", c.dim, c.code, l.Text, l.Title, c.label, c.title)
		}
		if !strings.HasPrefix(ch.Marks[0].Title, c.title+" Failures: 4 sign-ins") {
			t.Errorf("%s %q: bar tooltip %q", c.dim, c.code, ch.Marks[0].Title)
		}
		if u := texts(ch, "unit"); len(u) != 1 || u[0].Text != "sign-ins" {
			t.Errorf("units %v", u)
		}
	}
	days := &insights.Result{Query: insights.Query{Metric: insights.ActiveUsers, Granularity: insights.Day},
		Rows: []insights.Row{{Start: date(19), Value: 5}}}
	if u := texts(newChart(lines, days, nil, unitOf(days.Query.Metric)), "unit"); len(u) != 1 || u[0].Text != "users" {
		t.Errorf("a line chart's units %v", u)
	}
}

func TestLongLabelsAreShortenedWithTheirLastPartKept(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Portal", "Portal"},
		{"Phone call (Authentication phone)", "Phone call (Authentication…"},
		{"Require MFA for every administrator / failure", "Require MFA for e… / failure"},
		{"Password did not meet complexity requirements", "Password did not meet compl…"},
	} {
		got := shorten(c.in)
		if got != c.want || len([]rune(got)) > maxLabel {
			t.Errorf("shorten(%q) = %q, want %q (at most %d runes)", c.in, got, c.want, maxLabel)
		}
	}
}

func TestMonthlyChartsDrawEveryMonthOfTheirRange(t *testing.T) {
	q := insights.Query{Metric: insights.Authentications, From: insights.NewDate(2025, 4, 1), To: insights.NewDate(2026, 4, 1),
		Granularity: insights.Month, GroupBy: []insights.Dimension{insights.DimCountry}}
	res := &insights.Result{Query: q, Rows: []insights.Row{
		{Start: insights.NewDate(2025, 7, 1), Series: "attempts", Groups: []string{"FR"}, Value: 3},
		{Start: insights.NewDate(2026, 3, 1), Series: "attempts", Groups: []string{"FR"}, Value: 2, Incomplete: true}}}
	c := newChart(columns, res, nil, "sign-ins")
	axis := texts(c, "axis")
	if axis = axis[5:]; len(axis) != 6 || axis[0].Text != "Apr 2025" { // after the value axis
		t.Fatalf("axis %v", axis)
	}
	step := float64(chartW-plotLeft-plotRight) / 12
	if got, want := c.Marks[0].X+c.Marks[0].W/2, plotLeft+3.5*step; math.Abs(got-want) > 0.01 {
		t.Errorf("July's column is at %v, want %v (the fourth of twelve months)", got, want)
	}
	if len(c.Bands) != 1 || math.Abs(c.Bands[0].X-(plotLeft+11*step)) > 0.01 {
		t.Errorf("bands %v: want March 2026's alone", c.Bands)
	}
}
