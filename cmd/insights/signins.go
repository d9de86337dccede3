package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// runSignIns lists the sign-in log, newest first: one page and the next
// page's cursor (on stderr), or with -all every entry.
func runSignIns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("signins")
	dir := fs.String("store", "", "the store's directory")
	var q insights.LogQuery
	fs.Var((*filterValue)(&q.Filter), "filter", `a filter expression; log fields too: user = alice and ip in 198.51.100.0/24`)
	fs.Var((*dateValue)(&q.From), "from", "the first date, YYYY-MM-DD (default: the first day kept)")
	fs.Var((*dateValue)(&q.To), "to", "the date after the last, YYYY-MM-DD (default: after today)")
	pf := addPageFlags(fs, "matching sign-in")
	if done, err := parse(fs, args, stdout, "-store DIR [-filter EXPR] [-from DATE] [-to DATE] [-limit N | -all] [-cursor C] [-format F]"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	if err := pf.check(fs); err != nil {
		return err
	}
	q.Limit, q.Cursor = pf.limit, pf.cursor
	return withEngine(ctx, *dir, "", readOnly, func(eng *engine) error {
		if pf.all {
			q.Filter = insights.And(insights.Eq(insights.DimKind, insights.KindSignIn.String()), q.Filter)
			q.Limit = insights.MaxPageSize
			return writeEntries(stdout, eng.Entries(ctx, q), pf.format.value, pf.excel, eng.Zone().String())
		}
		page, err := eng.SignIns(ctx, q)
		if err != nil {
			return err
		}
		if err := writeEntries(stdout, &pageSource{entries: page.Entries}, pf.format.value, pf.excel, eng.Zone().String()); err != nil {
			return err
		}
		if page.Next != "" {
			fmt.Fprintf(stderr, "next page: -cursor %s\n", page.Next)
		}
		return nil
	})
}

// writeEntries writes the entries of src in format.
func writeEntries(w io.Writer, src export.EntrySource, format string, excel bool, zone string) error {
	switch format {
	case "csv":
		return export.LogCSV(w, src, &export.CSVOptions{Excel: excel})
	case "json":
		return export.LogJSON(w, src, nil)
	}
	return writeEntryTable(w, src, zone)
}

// pageSource is an export.EntrySource over one page.
type pageSource struct {
	entries []insights.LogEntry
	i       int
}

func (p *pageSource) Next() bool {
	if p.i >= len(p.entries) {
		return false
	}
	p.i++
	return true
}

func (p *pageSource) Entry() insights.LogEntry { return p.entries[p.i-1] }
func (p *pageSource) Err() error               { return nil }

// writeEntryTable writes entries as a table, aligned a thousand lines at
// a time so that a long listing streams.
func writeEntryTable(w io.Writer, src export.EntrySource, zone string) error {
	return writeRows(w, "sign-ins, newest first; zone "+zone, src,
		[]string{"time", "user", "app", "type", "status", "errorCode", "reason", "ip", "location", "os", "browser"},
		func() []string {
			e := src.Entry()
			return []string{e.Time.Format("2006-01-02 15:04:05"), cmp.Or(e.UserKey, e.PrincipalID), cmp.Or(e.AppName, e.AppID),
				e.SignInType.String(), e.Status.String(), strconv.Itoa(e.ErrorCode), e.Reason, e.IP,
				location(e.Event), e.OS, e.Browser}
		})
}

// location is "city, state, country" without the empty parts.
func location(e insights.Event) string {
	var parts []string
	for _, p := range []string{e.City, e.State, e.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}
