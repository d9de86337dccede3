package main

import (
	"context"
	"io"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// runExport streams the event log, every kind of event, newest first as
// the log lists it: in the library's event format (JSON lines that import
// -format jsonl reads back) or as CSV.
func runExport(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("export")
	dir := fs.String("store", "", "the store's directory")
	var q insights.LogQuery
	fs.Var((*filterValue)(&q.Filter), "filter", "a filter expression; log fields too")
	fs.Var((*dateValue)(&q.From), "from", "the first date, YYYY-MM-DD (default: the first day kept)")
	fs.Var((*dateValue)(&q.To), "to", "the date after the last, YYYY-MM-DD (default: after today)")
	format := newChoice("jsonl", "jsonl", "csv")
	fs.Var(format, "format", "jsonl (the event format, re-importable with import -format jsonl) or csv (the sign-in log's columns)")
	excel := fs.Bool("excel", false, "with -format csv, write for Excel (byte order mark, CRLF)")
	if done, err := parse(fs, args, stdout, "-store DIR [-filter EXPR] [-from DATE] [-to DATE] [-format jsonl|csv]"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	return withEngine(ctx, *dir, "", readOnly, func(eng *engine) error {
		q.Limit = insights.MaxPageSize
		it := eng.Entries(ctx, q)
		if format.value == "csv" {
			return export.LogCSV(stdout, it, &export.CSVOptions{Excel: *excel})
		}
		return export.EventsJSON(stdout, export.LogEvents(it))
	})
}
