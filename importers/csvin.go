package importers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// csvTable reads a CSV input with a header row: names are matched without
// case, a byte-order mark or surrounding spaces; a name given twice takes
// the first non-empty of its columns.
type csvTable struct {
	r     *csv.Reader
	limit *recordLimit
	cols  map[string][]int // header name → column indexes
	names []string         // header names, as given
}

// newCSVTable reads the header of r. An empty input gives a nil table.
func newCSVTable(r io.Reader) (*csvTable, error) {
	lr := newLineReader(r)
	lr.skipBOM()
	limit := &recordLimit{r: lr.br}
	cr := csv.NewReader(limit)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
		if errors.Is(err, errRecordTooLong) {
			return nil, tooLong(1)
		}
		return nil, err
	}
	limit.start = cr.InputOffset()
	t := &csvTable{r: cr, limit: limit, cols: map[string][]int{}, names: slices.Clone(header)}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		t.cols[k] = append(t.cols[k], i)
	}
	return t, nil
}

// has reports whether the header has one of the names.
func (t *csvTable) has(names ...string) bool {
	for _, n := range names {
		if len(t.cols[n]) > 0 {
			return true
		}
	}
	return false
}

// get returns the row's value in the first of the named columns it has,
// trimmed.
func (t *csvTable) get(row []string, names ...string) string {
	for _, n := range names {
		for _, i := range t.cols[n] {
			if i < len(row) {
				if v := strings.TrimSpace(row[i]); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// each calls fn with every row after the header and the line it starts
// on; a row that does not parse, whose field count is not the header's,
// or with a field that is not valid UTF-8 is skipped. A record over maxLineBytes ends the input with ErrMalformed.
// The row is valid until fn returns.
func (t *csvTable) each(s *sink, fn func(line int, row []string) error) error {
	for {
		row, err := t.r.Read()
		t.limit.start = t.r.InputOffset()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errRecordTooLong) && len(row) > 0 {
			line, _ := t.r.FieldPos(0)
			return tooLong(line)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.skip(pe.StartLine, pe.Err.Error())
			continue
		}
		if err != nil {
			return err
		}
		line, _ := t.r.FieldPos(0)
		if len(row) != len(t.names) {
			s.skip(line, fmt.Sprintf("%d fields where the header has %d", len(row), len(t.names)))
			continue
		}
		if i := slices.IndexFunc(row, func(f string) bool { return !utf8.ValidString(f) }); i >= 0 {
			s.skip(line, strings.TrimSpace(t.names[i])+": "+notUTF8)
			continue
		}
		if err := fn(line, row); err != nil {
			return err
		}
	}
}

// rowBytes is the identity of a row for a derived request id.
func rowBytes(row []string) []byte {
	return []byte(strings.Join(row, "\x1f"))
}

// errRecordTooLong is the error of recordLimit; tooLong describes it.
var errRecordTooLong = errors.New("importers: CSV record too long")

// tooLong is the message of an ErrMalformed for a record over the limit
// starting on line.
func tooLong(line int) error {
	return fmt.Errorf("%w: line %d: a record longer than %d bytes", ErrMalformed, line, maxLineBytes)
}

// recordLimit passes a CSV input through to encoding/csv, which holds a
// record whole however long it is, and fails a read once the record being
// read is over maxLineBytes: at most maxLineBytes and one read of
// encoding/csv's buffer are then held.
type recordLimit struct {
	r     io.Reader
	off   int64 // bytes read
	start int64 // offset where the record being read starts
}

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.off-l.start > int64(maxLineBytes) {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.off += int64(n)
	return n, err
}
