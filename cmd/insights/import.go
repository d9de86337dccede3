package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

// importFormats are the formats import reads, as importers.Read names them.
var importFormats = []importers.Format{importers.JSONL, importers.EntraCSV, importers.EntraJSON,
	importers.Okta, importers.Auth0}

// maxSkipsShown is how many skipped records import lists per file.
const maxSkipsShown = 10

// runImport streams each file through importers.Read into Engine.Add.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import")
	dir := fs.String("store", "", "the store's directory, created if missing")
	var zone zoneValue
	fs.Var(&zone, "zone", zoneUsage)
	names := make([]string, len(importFormats))
	for i, f := range importFormats {
		names[i] = string(f)
	}
	format := newChoice("", names...)
	fs.Var(format, "format", "the files' format: "+strings.Join(names, ", "))
	if done, err := parse(fs, args, stdout, "-store DIR -format FORMAT [-zone ZONE] FILE..."); done || err != nil {
		return err
	}
	if err := required(fs, "store", "format"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return badInput("no file to import: give one or more after the flags")
	}
	for _, name := range fs.Args() { // before creating the store
		switch fi, err := os.Stat(name); {
		case err != nil:
			return badInput("%s: %v", name, errors.Unwrap(err))
		case fi.IsDir():
			return badInput("%s: is a directory", name)
		}
	}
	return withEngine(ctx, *dir, string(zone), true, func(eng *engine) error {
		imp := importer{eng: eng, format: importers.Format(format.value), stdout: stdout,
			progress: newProgress(stderr, time.Now)}
		var total importers.Report
		for _, name := range fs.Args() {
			rep, err := imp.file(ctx, name)
			total.Read += rep.Read
			total.Imported += rep.Imported
			total.SkippedCount += rep.SkippedCount
			if err != nil {
				return err
			}
		}
		if fs.NArg() > 1 {
			_, err := fmt.Fprintf(stdout, "total: %s\n", counts(total))
			return err
		}
		return nil
	})
}

// importer imports files into one engine.
type importer struct {
	eng      *engine
	format   importers.Format
	stdout   io.Writer
	progress *progress
}

// file imports the file name and prints its summary.
func (imp *importer) file(ctx context.Context, name string) (importers.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return importers.Report{}, badInput("%s: %v", name, errors.Unwrap(err))
	}
	defer f.Close()
	imported := 0
	rep, err := importers.Read(ctx, f, imp.format, &importers.Options{MaxSkips: maxSkipsShown},
		func(batch []insights.Event) error {
			if err := imp.eng.Add(ctx, batch...); err != nil {
				return err
			}
			imported += len(batch)
			imp.progress.update(name, imported)
			return nil
		})
	if werr := writeSummary(imp.stdout, name, rep); err == nil {
		err = werr
	}
	if err != nil {
		return rep, fmt.Errorf("%s: %w", name, err)
	}
	return rep, nil
}

// writeSummary writes what importing the file name did, with the first
// skipped records and why.
func writeSummary(w io.Writer, name string, rep importers.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", sanitize(name), counts(rep))
	for _, s := range rep.Skipped {
		fmt.Fprintf(&b, "  skipped %s\n", sanitize(s.String()))
	}
	if more := rep.SkippedCount - len(rep.Skipped); more > 0 {
		fmt.Fprintf(&b, "  and %d more skipped\n", more)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counts is the read, imported and skipped counts of rep.
func counts(rep importers.Report) string {
	return fmt.Sprintf("read %d, imported %d, skipped %d", rep.Read, rep.Imported, rep.SkippedCount)
}

// progress writes a progress line to w at most once a second, once an
// import has taken more than a second.
type progress struct {
	w    io.Writer
	now  func() time.Time
	last time.Time // start, then the last line's time
	t0   time.Time
}

func newProgress(w io.Writer, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, now: now, last: t, t0: t}
}

// update reports that imported events of the file name are in.
func (p *progress) update(name string, imported int) {
	t := p.now()
	if t.Sub(p.last) < time.Second {
		return
	}
	p.last = t
	fmt.Fprintf(p.w, "importing %s: %d events so far (%s)\n", sanitize(name), imported, t.Sub(p.t0).Round(time.Second))
}
