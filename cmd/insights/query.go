package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// runQuery computes one metric and writes its result.
func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("query")
	dir := fs.String("store", "", "the store's directory")
	var q insights.Query
	fs.Var((*metricValue)(&q.Metric), "metric", "the metric (run 'insights help' for the list)")
	fs.Var((*dateValue)(&q.From), "from", "the first date, YYYY-MM-DD, in the store's zone")
	fs.Var((*dateValue)(&q.To), "to", "the date after the last, YYYY-MM-DD: the range is [from, to)")
	fs.Var((*granularityValue)(&q.Granularity), "granularity", "the buckets: day, week, month or total")
	fs.Var((*filterValue)(&q.Filter), "filter", `a filter expression: appName = Payroll and (osFamily = iOS or not country in (US, FR))`)
	fs.Var((*dimsValue)(&q.GroupBy), "by", "group by these dimensions, comma-separated: appName,country")
	fs.IntVar(&q.Top, "top", 0, "keep the N largest groups of each bucket (0 keeps all)")
	fs.BoolVar(&q.Other, "other", false, "with -top, add an (other) row for the rest")
	fs.IntVar(&q.Days, "days", 0, "N of N-day metrics: rollingActiveUsers, inactiveUsers, stickiness")
	fs.BoolVar(&q.Approximate, "approx", false, "answer user metrics from HyperLogLog sketches")
	format := newChoice("table", "table", "csv", "json", "graph")
	fs.Var(format, "format", "the output: table, csv, json or graph (Microsoft Graph's userInsights shape)")
	graph := fs.String("graph", "", "with -format graph, the collection: daily/<name> or monthly/<name> (run 'insights help');\n"+
		"default daily/<metric> or monthly/<metric> by the granularity, where Graph has it")
	excel := fs.Bool("excel", false, "with -format csv, write for Excel (byte order mark, CRLF)")
	if done, err := parse(fs, args, stdout, "-store DIR -metric METRIC -from DATE -to DATE [flags]"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store", "metric", "from", "to"); err != nil {
		return err
	}
	if given(fs, "graph") && format.value != "graph" {
		return badInput("-graph needs -format graph")
	}
	collection := *graph
	if format.value == "graph" && collection == "" {
		var err error
		if collection, err = graphCollection(q); err != nil {
			return err
		}
	}
	return withEngine(ctx, *dir, "", readOnly, func(eng *engine) error {
		res, err := eng.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", sanitize(w))
		}
		switch format.value {
		case "csv":
			return export.ResultCSV(stdout, res, &export.CSVOptions{Excel: *excel})
		case "json":
			return export.ResultJSON(stdout, res)
		case "graph":
			return export.Graph(stdout, collection, res)
		}
		return writeResultTable(stdout, res)
	})
}

// graphCollection infers the Graph collection of q: daily/<metric> or
// monthly/<metric> by its granularity, where Graph has one.
func graphCollection(q insights.Query) (string, error) {
	period := map[insights.Granularity]string{insights.Day: "daily", insights.Month: "monthly"}[q.Granularity]
	name := period + "/" + q.Metric.String()
	if period == "" || !slices.Contains(export.GraphCollections(), name) {
		return "", badInput("-format graph: no collection %s; name one with -graph: %s",
			name, strings.Join(export.GraphCollections(), ", "))
	}
	return name, nil
}

// writeResultTable writes res as an aligned table: a line saying what
// each value covers and the zone, then one line per row.
func writeResultTable(w io.Writer, res *insights.Result) error {
	head := res.Window + "; zone " + res.Zone
	if res.Approximate {
		head += fmt.Sprintf("; approximate, relative standard error %.2g%%", 100*res.RelativeError)
	}
	if _, err := fmt.Fprintln(w, sanitize(head)); err != nil {
		return err
	}
	hasSeries := slices.ContainsFunc(res.Rows, func(r insights.Row) bool { return r.Series != "" })
	hasOffset := res.Query.Metric == insights.Retention
	hasFlags := slices.ContainsFunc(res.Rows, func(r insights.Row) bool { return r.Partial || r.Incomplete })
	t := newTable(w)
	cols := []string{"start", "end"}
	if hasSeries {
		cols = append(cols, "series")
	}
	if hasOffset {
		cols = append(cols, "offset")
	}
	groups := res.Query.GroupNames()
	for _, r := range res.Rows {
		for len(groups) < len(r.Groups) {
			groups = append(groups, "group")
		}
	}
	ngroups := len(groups)
	cols = append(cols, groups...)
	cols = append(cols, "value")
	if hasFlags {
		cols = append(cols, "flags")
	}
	t.row(cols...)
	for _, r := range res.Rows {
		cells := []string{r.Start.String(), r.End.String()}
		if hasSeries {
			cells = append(cells, r.Series)
		}
		if hasOffset {
			cells = append(cells, strconv.Itoa(r.Offset))
		}
		for i := range ngroups {
			g := ""
			if i < len(r.Groups) {
				g = r.Groups[i]
			}
			cells = append(cells, g)
		}
		cells = append(cells, strconv.FormatFloat(r.Value, 'f', -1, 64))
		if hasFlags {
			cells = append(cells, flags(r))
		}
		t.row(cells...)
	}
	return t.flush()
}

// flags is "partial", "incomplete", both or neither.
func flags(r insights.Row) string {
	var fs []string
	if r.Partial {
		fs = append(fs, "partial")
	}
	if r.Incomplete {
		fs = append(fs, "incomplete")
	}
	return strings.Join(fs, ",")
}
