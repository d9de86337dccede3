package main

import (
	"io"

	"github.com/insightslab/insights"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// table writes aligned columns, each cell sanitized.
type table struct {
	tw *tabwriter.Writer
	b  strings.Builder
}

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row writes one line of cells.
func (t *table) row(cells ...string) {
	t.b.Reset()
	for i, c := range cells {
		if i > 0 {
			t.b.WriteByte('\t')
		}
		t.b.WriteString(sanitize(c))
	}
	t.b.WriteByte('\n')
	io.WriteString(t.tw, t.b.String()) // tabwriter reports write errors at flush
}

// flush aligns and writes the rows since the last flush.
func (t *table) flush() error { return t.tw.Flush() }

// sanitize makes s safe to show on a terminal: C0 and C1 control
// characters (tabs and newlines included, which would break a table's
// lines), DEL, Unicode bidirectional controls, which reorder what follows
// them on screen, and invalid UTF-8 each become U+FFFD.
func sanitize(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // invalid UTF-8 ranges as utf8.RuneError
		if unsafeRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sanitizeLines is sanitize on each line of s, keeping its line breaks.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// unsafeRune reports whether r must not reach a terminal as is.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // Arabic letter mark, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}

// rowSource is what the table writers read: a cursor of the export
// package's sources.
type rowSource interface {
	Next() bool
	Err() error
}

// writeRows writes title, then a table of the header and one row of
// cells a row of src, aligned a page at a time so that a long listing
// streams.
func writeRows(w io.Writer, title string, src rowSource, header []string, cells func() []string) error {
	if _, err := io.WriteString(w, sanitize(title)+"\n"); err != nil {
		return err
	}
	t := newTable(w)
	t.row(header...)
	for n := 1; src.Next(); n++ {
		t.row(cells()...)
		if n%insights.MaxPageSize == 0 {
			if err := t.flush(); err != nil {
				return err
			}
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	return t.flush()
}
