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
	importers.EntraLogAnalytics, importers.Okta, importers.Auth0, importers.Keycloak}

// snapshotFormat is the registration snapshot CSV of importers.ReadSnapshot,
// recorded by Engine.ImportRegistrations as of -as-of.
const snapshotFormat = "snapshot"

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
	names = append(names, snapshotFormat)
	format := newChoice("", names...)
	fs.Var(format, "format", "the files' format: "+strings.Join(names, ", "))
	asOf := fs.String("as-of", "", "snapshot only: the time the snapshot describes, RFC 3339 (default: now)")
	envelope := fs.String("envelope", "", "JSON formats: the field a log shipper wrapped each record in, one per line (message, json)")
	if done, err := parse(fs, args, stdout, "-store DIR -format FORMAT [-zone ZONE] [-as-of TIME] [-envelope FIELD] FILE..."); done || err != nil {
		return err
	}
	if err := required(fs, "store", "format"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return badInput("no file to import: give one or more after the flags")
	}
	at := time.Now()
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return badInput("-as-of %q: not an RFC 3339 time (2025-03-01T00:00:00Z)", *asOf)
		}
		at = t
	}
	for _, name := range fs.Args() { // before creating the store
		switch fi, err := os.Stat(name); {
		case err != nil:
			return badInput("%s: %v", name, errors.Unwrap(err))
		case fi.IsDir():
			return badInput("%s: is a directory", name)
		}
	}
	_, err := os.Stat(*dir)
	created := errors.Is(err, os.ErrNotExist)
	err = withEngine(ctx, *dir, string(zone), readWrite, func(eng *engine) error {
		imp := importer{eng: eng, format: importers.Format(format.value), stdout: stdout,
			progress: newProgress(stderr, time.Now), asOf: at, envelope: *envelope}
		var total summary
		for _, name := range fs.Args() {
			sum, err := imp.file(ctx, name)
			total.add(sum)
			if err != nil {
				return err
			}
		}
		if fs.NArg() > 1 {
			_, err := fmt.Fprintf(stdout, "total: %s\n", total)
			return err
		}
		return nil
	})
	if err != nil && created { // a failed import leaves no new store behind
		err = errors.Join(err, os.RemoveAll(*dir))
	}
	return err
}

// summary is what importing a file did: the importers' report and, of the
// events it handed over, how many the store had already.
type summary struct {
	importers.Report
	present int
}

// add adds the counts of s2 to s.
func (s *summary) add(s2 summary) {
	s.Read += s2.Read
	s.Imported += s2.Imported
	s.SkippedCount += s2.SkippedCount
	s.present += s2.present
}

// String is the counts: records read, events imported (new to the store),
// already present, records skipped.
func (s summary) String() string {
	return fmt.Sprintf("read %d, imported %d, already present %d, skipped %d",
		s.Read, s.Imported-s.present, s.present, s.SkippedCount)
}

// importer imports files into one engine.
type importer struct {
	eng      *engine
	format   importers.Format
	stdout   io.Writer
	progress *progress
	asOf     time.Time // of a snapshot
	envelope string    // importers.Options.Envelope
}

// file imports the file name and prints its summary. A file whose records
// were all skipped is bad input.
func (imp *importer) file(ctx context.Context, name string) (summary, error) {
	f, err := os.Open(name)
	if err != nil {
		return summary{}, badInput("%s: %v", name, errors.Unwrap(err))
	}
	defer f.Close()
	var sum summary
	if imp.format == snapshotFormat {
		sum.Report, err = imp.snapshot(ctx, f)
	} else {
		sum, err = imp.events(ctx, name, f)
	}
	if werr := writeSummary(imp.stdout, name, sum); err == nil {
		err = werr
	}
	if err == nil && sum.Read > 0 && sum.Imported == 0 {
		err = badInput("none of the %d records read was imported", sum.Read)
	}
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	return sum, nil
}

// events streams the events of r, the file name, into the engine.
func (imp *importer) events(ctx context.Context, name string, r io.Reader) (summary, error) {
	handed, added := 0, 0
	rep, err := importers.Read(ctx, r, imp.format, &importers.Options{MaxSkips: maxSkipsShown, Envelope: imp.envelope},
		func(batch []insights.Event) error {
			n, err := imp.eng.AddCount(ctx, batch...)
			if err != nil {
				return err
			}
			handed += len(batch)
			added += n
			imp.progress.update(name, handed)
			return nil
		})
	return summary{Report: rep, present: handed - added}, err
}

// snapshot records the registration snapshot of r as of imp.asOf.
func (imp *importer) snapshot(ctx context.Context, r io.Reader) (importers.Report, error) {
	users, rep, err := importers.ReadSnapshot(ctx, r, &importers.Options{MaxSkips: maxSkipsShown})
	if err == nil {
		err = imp.eng.ImportRegistrations(ctx, imp.asOf, users)
	}
	return rep, err
}

// writeSummary writes what importing the file name did, with the first
// skipped records and why.
func writeSummary(w io.Writer, name string, sum summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", sanitize(name), sum)
	for _, s := range sum.Skipped {
		fmt.Fprintf(&b, "  skipped %s\n", sanitize(s.String()))
	}
	if more := sum.SkippedCount - len(sum.Skipped); more > 0 {
		fmt.Fprintf(&b, "  and %d more skipped\n", more)
	}
	_, err := io.WriteString(w, b.String())
	return err
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
