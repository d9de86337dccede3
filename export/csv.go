package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// CSVOptions configures the CSV writers. A nil *CSVOptions, and every zero
// field, means the default.
type CSVOptions struct {
	// Excel starts the output with a UTF-8 byte order mark and ends lines
	// with CRLF, as Excel expects. Default: no mark, lines end with LF.
	Excel bool
}

// utf8BOM is the UTF-8 byte order mark Excel needs to read UTF-8.
const utf8BOM = "\ufeff"

// csvOut writes records through encoding/csv's buffer, reusing one record.
type csvOut struct {
	w   *csv.Writer
	rec []string
}

// newCSV starts a CSV output on w: the byte order mark if asked for, then
// the header.
func newCSV(w io.Writer, opts *CSVOptions, header []string) (*csvOut, error) {
	excel := opts != nil && opts.Excel
	if excel {
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return nil, err
		}
	}
	c := &csvOut{w: csv.NewWriter(w)}
	c.w.UseCRLF = excel
	c.rec = append(c.rec, header...)
	return c, c.flushRecord()
}

// flushRecord writes the pending record and empties it. encoding/csv
// flushes its buffer as it fills, so errors of the io.Writer show up here.
func (c *csvOut) flushRecord() error {
	err := c.w.Write(c.rec)
	c.rec = c.rec[:0]
	return err
}

// text appends a cell holding a string from outside: neutralized.
func (c *csvOut) text(s string) { c.rec = append(c.rec, neutralize(s)) }

// raw appends a cell the package formatted itself (a number, a date).
func (c *csvOut) raw(s string) { c.rec = append(c.rec, s) }

// close flushes the buffer and returns the first write error.
func (c *csvOut) close() error {
	c.w.Flush()
	return c.w.Error()
}

// neutralize prefixes with ' a cell that a spreadsheet would run as a
// formula: one starting with =, +, -, @, a tab or a carriage return.
func neutralize(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// bucketCells appends start, end, series, offset and the group values, in
// the order of the group-by dimensions (missing ones empty).
func (c *csvOut) bucketCells(start, end insights.Date, series string, offset int, groups []string, ndims int) {
	c.raw(start.String())
	c.raw(end.String())
	c.text(series)
	c.raw(strconv.Itoa(offset))
	for i := range ndims {
		v := ""
		if i < len(groups) {
			v = groups[i]
		}
		c.text(v)
	}
}

// bucketHeader returns start,end,series,offset and the group names.
func bucketHeader(groups []string, rest ...string) []string {
	h := append([]string{"start", "end", "series", "offset"}, groups...)
	return append(h, rest...)
}
