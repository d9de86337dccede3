package web

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// chartKind is how a panel draws its result.
type chartKind uint8

const (
	lines   chartKind = iota // one line per series over the buckets
	columns                  // one stacked column per bucket, a segment per series or group
	bars                     // one horizontal stacked bar per group (one bucket)
)

// chart is an SVG chart with its geometry computed: the template only
// writes it out. Coordinates are in the viewBox's units.
type chart struct {
	Width, Height int
	Bands         []box    // incomplete buckets, shaded
	Grid          []line   // horizontal grid lines
	Lines         []path   // the lines of a line chart
	Marks         []mark   // one per value drawn: points, column or bar segments
	Texts         []text   // axis labels, bar labels, values
	Legend        []legend // series or groups and their colors
	Empty         bool     // no rows: the chart says so
}

type box struct{ X, Y, W, H float64 }

type line struct{ X1, Y1, X2, Y2 float64 }

type path struct {
	Points string
	Color  string
}

// mark is one value: a circle (lines; W is its radius) or a rectangle. Key and Value are
// the data-point and data-value attributes tests read: Key is
// "start|series|group values joined by |".
type mark struct {
	Circle     bool
	X, Y, W, H float64
	Color      string
	Key, Value string
	Title      string
	Incomplete bool
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
	Title  string // a tooltip: the full text and the codes it names
}

type legend struct{ Name, Color string }

// Geometry of the charts, in viewBox units.
const (
	chartW     = 640
	chartH     = 240
	plotLeft   = 56
	plotRight  = 16
	plotTop    = 24
	plotBottom = 36
	barLabelW  = 200
	barRowH    = 24
	maxXLabels = 8
	maxLabel   = 28 // runes of a bar label before it is shortened: what barLabelW holds
)

// palette colors series and groups in order of appearance; seriesColors
// fixes the colors of series whose meaning has one, by their labels.
var palette = []string{"#2f6fb3", "#e08a1e", "#6a4c93", "#1b998b", "#c2410c", "#8a9a5b", "#d9486b", "#4b5563", "#0e7490", "#a16207"}

var seriesColors = map[string]string{
	"Successes": "#2e7d32", "Multi-factor": "#2e7d32", "Passwordless": "#2e7d32",
	"Failures": "#c62828", "Single-factor": "#c62828",
	"Interrupts": "#f9a825", "Attempts": "#2f6fb3",
}

// series is one drawn line, or one segment kind of columns and bars.
type series struct {
	name   string
	color  string
	values map[string]insights.Row // by bucket start (lines, columns) or group (bars)
}

// rowKey returns the data-point key of r.
func rowKey(r insights.Row) string {
	return strings.Join(append([]string{r.Start.String(), r.Series}, r.Groups...), "|")
}

// names labels rows: each group value by its column's labeler (a
// dimension's, or the metric's own for the values some metrics put before
// the group-by ones), and their series.
type names struct {
	cols []func(string) string
}

// dimNames returns the names of rows grouped by ds.
func dimNames(ds ...insights.Dimension) names {
	var n names
	for _, d := range ds {
		n.cols = append(n.cols, func(v string) string { return label(d, v) })
	}
	return n
}

// namesOf returns the names of res's rows: the leading values of the
// risk metrics (detection type and level, a user's level and state) by
// riskLabel, the policy metrics' (names, results) as they are, then the
// group-by dimensions' values.
func namesOf(res *insights.Result) names {
	lead := func(v string) string { return label(0, v) }
	if res.Query.Metric == insights.RiskDetections || res.Query.Metric == insights.RiskyUsers {
		lead = riskLabel
	}
	n := names{}
	for range len(res.Query.GroupNames()) - len(res.Query.GroupBy) {
		n.cols = append(n.cols, lead)
	}
	n.cols = append(n.cols, dimNames(res.Query.GroupBy...).cols...)
	return n
}

// groups returns the labels of r's group values, and their codes, each
// joined by " / ".
func (n names) groups(r insights.Row) (string, string) {
	labels := make([]string, len(r.Groups))
	for i, v := range r.Groups {
		labels[i] = label(0, v)
		if i < len(n.cols) {
			labels[i] = n.cols[i](v)
		}
	}
	return strings.Join(labels, " / "), strings.Join(r.Groups, " / ")
}

// series returns the label of r's line or segment: its series when
// withSeries, and its groups; "value" when it has neither.
func (n names) series(r insights.Row, withSeries bool) string {
	l, _ := n.groups(r)
	switch {
	case withSeries && r.Series != "" && l != "":
		return seriesLabel(r.Series) + " / " + l
	case withSeries && r.Series != "":
		return seriesLabel(r.Series)
	case l == "":
		return "value"
	}
	return l
}

// newChart draws the rows of res whose series is in show (every row if
// show is empty) as kind, its values in unit. Cost: linear in the rows.
func newChart(kind chartKind, res *insights.Result, show []string, unit string) chart {
	var rows []insights.Row
	for _, r := range res.Rows {
		if len(show) == 0 || slices.Contains(show, r.Series) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return chart{Width: chartW, Height: 60, Empty: true}
	}
	if kind == bars {
		return barChart(rows, namesOf(res), unit)
	}
	multi := slices.ContainsFunc(rows, func(r insights.Row) bool { return r.Series != rows[0].Series })
	return timeChart(kind, rows, res.Query, namesOf(res), multi, unit)
}

// group collects rows into series keyed by name, in order of appearance,
// each value keyed by key(row).
func group(rows []insights.Row, name func(insights.Row) string, key func(insights.Row) string) []*series {
	var out []*series
	byName := map[string]*series{}
	for _, r := range rows {
		n := name(r)
		s := byName[n]
		if s == nil {
			color, ok := seriesColors[n]
			if !ok {
				color = palette[len(out)%len(palette)]
			}
			s = &series{name: n, color: color, values: map[string]insights.Row{}}
			byName[n] = s
			out = append(out, s)
		}
		s.values[key(r)] = r
	}
	return out
}

// timeChart draws rows over the buckets of q: lines or stacked columns,
// one per series and group; series names are part of the names when
// withSeries. Every day or month of q's range has its place, with rows
// or without, so that charts over one range agree.
func timeChart(kind chartKind, rows []insights.Row, q insights.Query, n names, withSeries bool, unit string) chart {
	c := chart{Width: chartW, Height: chartH}
	c.Texts = append(c.Texts, text{X: 4, Y: plotTop - 12, Anchor: "start", Class: "unit", Text: unit})
	incomplete := map[insights.Date]bool{}
	var dates []insights.Date
	for _, d := range bucketStarts(q) {
		incomplete[d] = false
		dates = append(dates, d)
	}
	for _, r := range rows {
		if _, ok := incomplete[r.Start]; !ok {
			dates = append(dates, r.Start)
		}
		incomplete[r.Start] = incomplete[r.Start] || r.Incomplete
	}
	slices.SortFunc(dates, func(a, b insights.Date) int { return cmp.Compare(a.String(), b.String()) })
	starts := make([]insights.Row, len(dates)) // one per bucket, in order
	for i, d := range dates {
		starts[i] = insights.Row{Start: d, Incomplete: incomplete[d]}
	}
	ss := group(rows, func(r insights.Row) string { return n.series(r, withSeries) },
		func(r insights.Row) string { return r.Start.String() })
	hi := 0.0
	for _, b := range starts {
		sum := 0.0
		for _, s := range ss {
			v := s.values[b.Start.String()].Value
			if kind == lines {
				hi = math.Max(hi, v)
			}
			sum += v
		}
		if kind == columns {
			hi = math.Max(hi, sum)
		}
	}
	plotW, plotH := float64(chartW-plotLeft-plotRight), float64(chartH-plotTop-plotBottom)
	top := c.yAxis(hi, plotH)
	y := func(v float64) float64 { return plotTop + plotH - v/top*plotH }
	step := plotW / float64(len(starts))
	every := (len(starts) + maxXLabels - 1) / maxXLabels
	for i, b := range starts {
		x0 := plotLeft + float64(i)*step
		if b.Incomplete {
			c.Bands = append(c.Bands, box{x0, plotTop, step, plotH})
		}
		if i%every == 0 {
			c.Texts = append(c.Texts, text{X: x0 + step/2, Y: chartH - plotBottom + 16, Anchor: "middle", Class: "axis",
				Text: shortDate(b.Start, q.Granularity)})
		}
	}
	for _, s := range ss {
		if len(ss) > 1 || s.name != "value" {
			c.Legend = append(c.Legend, legend{s.name, s.color})
		}
		var pts []string
		for i, b := range starts {
			r, ok := s.values[b.Start.String()]
			if !ok {
				continue
			}
			x := plotLeft + (float64(i)+0.5)*step
			_, code := n.groups(r)
			m := mark{Color: s.color, Key: rowKey(r), Value: formatValue(r.Value), Incomplete: r.Incomplete,
				Title: b.Start.String() + " " + withCode(s.name, code) + ": " + formatValue(r.Value) + " " + unit + flags(r)}
			if kind == lines {
				pts = append(pts, fmtF(x)+","+fmtF(y(r.Value)))
				m.Circle, m.X, m.Y, m.W = true, x, y(r.Value), math.Min(3.5, math.Max(1.5, step/4))
			} else {
				below := stackBelow(ss, s, b.Start.String())
				w := step * 0.7
				m.X, m.Y, m.W, m.H = x-w/2, y(below+r.Value), w, y(below)-y(below+r.Value)
			}
			c.Marks = append(c.Marks, m)
		}
		if kind == lines {
			c.Lines = append(c.Lines, path{strings.Join(pts, " "), s.color})
		}
	}
	return c
}

// bucketStarts returns the starts of q's day or month buckets, the first
// being q.From; nil for other granularities.
func bucketStarts(q insights.Query) []insights.Date {
	var out []insights.Date
	for d := q.From; d.Before(q.To) && len(out) < MaxBuckets; {
		switch q.Granularity {
		case insights.Day:
			out = append(out, d)
			d = d.AddDays(1)
		case insights.Month:
			out = append(out, d)
			d = insights.NewDate(d.Year, d.Month+1, 1)
		default:
			return nil
		}
	}
	return out
}

// stackBelow sums the values of the series before s at key.
func stackBelow(ss []*series, s *series, key string) float64 {
	sum := 0.0
	for _, o := range ss {
		if o == s {
			break
		}
		sum += o.values[key].Value
	}
	return sum
}

// barChart draws one horizontal bar per group, a segment per series, its
// values in unit. A bar over a range that contains the present is drawn
// as any other: its value is marked with a star.
func barChart(rows []insights.Row, n names, unit string) chart {
	groupOf := func(r insights.Row) string { return strings.Join(r.Groups, "|") }
	var cats []string
	codes := map[string]insights.Row{} // a row of each group
	for _, r := range rows {
		if g := groupOf(r); !slices.Contains(cats, g) {
			cats = append(cats, g)
			codes[g] = r
		}
	}
	ss := group(rows, func(r insights.Row) string {
		if r.Series == "" {
			return "value"
		}
		return seriesLabel(r.Series)
	}, groupOf)
	hi := 0.0
	for _, cat := range cats {
		sum := 0.0
		for _, s := range ss {
			sum += s.values[cat].Value
		}
		hi = math.Max(hi, sum)
	}
	h := plotTop + len(cats)*barRowH + 26
	c := chart{Width: chartW, Height: h}
	c.Texts = append(c.Texts, text{X: chartW - plotRight, Y: plotTop - 12, Anchor: "end", Class: "unit", Text: unit})
	plotW := float64(chartW - barLabelW - plotRight - 48)
	top := niceMax(hi)
	x := func(v float64) float64 { return barLabelW + v/top*plotW }
	if len(ss) > 1 {
		for _, s := range ss {
			c.Legend = append(c.Legend, legend{s.name, s.color})
		}
	}
	for i, cat := range cats {
		y0 := float64(plotTop + i*barRowH)
		l, code := n.groups(codes[cat])
		c.Texts = append(c.Texts, text{X: barLabelW - 8, Y: y0 + barRowH/2 + 4, Anchor: "end", Class: "label",
			Text: shorten(l), Title: withCode(l, code)})
		sum, incomplete := 0.0, false
		for _, s := range ss {
			r, ok := s.values[cat]
			if !ok {
				continue
			}
			incomplete = incomplete || r.Incomplete
			l, code := n.groups(r)
			c.Marks = append(c.Marks, mark{X: x(sum), Y: y0 + 4, W: x(sum+r.Value) - x(sum), H: barRowH - 8, Color: s.color,
				Key: rowKey(r), Value: formatValue(r.Value),
				Title: withCode(l, code) + " " + s.name + ": " + formatValue(r.Value) + " " + unit + flags(r)})
			sum += r.Value
		}
		star := ""
		if incomplete {
			star = " *"
		}
		c.Texts = append(c.Texts, text{X: x(sum) + 6, Y: y0 + barRowH/2 + 4, Anchor: "start", Class: "value", Text: formatValue(sum) + star})
	}
	return c
}

// yAxis adds the grid and tick labels of a vertical scale to max and
// returns the scale's top value.
func (c *chart) yAxis(max, plotH float64) float64 {
	top := niceMax(max)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := plotTop + plotH - plotH*float64(i)/4
		c.Grid = append(c.Grid, line{plotLeft, y, chartW - plotRight, y})
		c.Texts = append(c.Texts, text{X: plotLeft - 6, Y: y + 4, Anchor: "end", Class: "axis", Text: formatValue(v)})
	}
	return top
}

// niceMax returns the top of a scale of four steps holding max: four
// times the smallest step of 1, 2 or 5 times a power of ten (2.5 from 25
// up) that is at least max/4; 4 for an empty scale.
func niceMax(max float64) float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 4
	}
	want := max / 4
	p := math.Pow(10, math.Floor(math.Log10(want)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= want && (m != 2.5 || p >= 10) {
			return 4 * m * p
		}
	}
	return 40 * p
}

// shortDate labels a bucket on the x axis.
func shortDate(d insights.Date, g insights.Granularity) string {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	if g == insights.Month {
		return t.Format("Jan 2006")
	}
	return t.Format("Jan 2")
}

// shorten returns s cut to maxLabel runes with an ellipsis. Of a label
// of parts ("policy / result") the last part is kept whole and the
// others are cut.
func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	head, last := s, ""
	if i := strings.LastIndex(s, " / "); i > 0 && len([]rune(s[i:])) < maxLabel/2 {
		head, last = s[:i], s[i:]
	}
	keep := maxLabel - 1 - len([]rune(last))
	return strings.TrimSpace(string([]rune(head)[:keep])) + "…" + last
}

// formatValue writes a value as the API does: the shortest decimal.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// fmtF writes a coordinate with one decimal.
func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// flags says in words which of r's flags are set.
func flags(r insights.Row) string {
	var fs []string
	if r.Partial {
		fs = append(fs, "partial")
	}
	if r.Incomplete {
		fs = append(fs, "incomplete")
	}
	if len(fs) == 0 {
		return ""
	}
	return " (" + strings.Join(fs, ", ") + ")"
}
