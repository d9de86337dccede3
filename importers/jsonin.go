package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// maxLineBytes is the longest line or record held in memory: a longer
// line is skipped in JSON lines, or read as part of a JSON document when it
// is the first; a longer CSV record ends the input. A variable so that
// tests can lower it.
var maxLineBytes = 16 << 20

// recordFunc handles one record: its raw JSON and the line it starts on.
type recordFunc func(line int, raw []byte) error

// jsonRecords calls fn with each record of a JSON input, in order, but
// for the records holding text that is not valid UTF-8, which it skips:
//   - the elements of a top-level array (or of several arrays in a row);
//   - JSON lines, when the first value ends on its first line: each line
//     holds one value, blank lines are ignored, and a line that does not
//     parse is skipped (reported to s);
//   - otherwise the top-level values in a row (one pretty-printed
//     document, or several).
//
// A top-level object with one of the wrapper keys holding an array
// ({"records":[...]}, {"value":[...]}) stands for that array's elements.
// A syntax error outside JSON lines ends the input with an error wrapping
// ErrMalformed and naming the line. Arrays are streamed; other values are
// held whole while their records are handled.
func jsonRecords(r io.Reader, s *sink, wrappers []string, fn recordFunc) error {
	fn = checkedRecords(s, fn)
	lr := newLineReader(r)
	first, err := lr.skipSpace()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	case first == '[':
		return jsonArrays(lr.br, lr.line+1, fn)
	case first != '{':
		return fmt.Errorf("%w: line %d: JSON input starts with %q, not [ or {", ErrMalformed, lr.line+1, first)
	}
	line := lr.line + 1
	head, complete, err := lr.read()
	if err != nil && err != io.EOF {
		return err
	}
	if complete && json.Valid(head) {
		if err := eachRecord(line, head, wrappers, fn); err != nil {
			return err
		}
		return jsonLines(lr, s, wrappers, fn)
	}
	rest := io.MultiReader(bytes.NewReader(head), bytes.NewReader([]byte{'\n'}), lr.br)
	if !complete {
		rest = io.MultiReader(bytes.NewReader(head), lr.br)
	}
	return jsonValues(rest, line, wrappers, fn)
}

// recordMapper maps one JSON record to an event and returns the source's id
// for it, or says why it cannot.
type recordMapper func(raw []byte) (ev insights.Event, id, why string)

// jsonEvents reads the records of a JSON input (see jsonRecords) and adds
// the event each maps to, skipping those it cannot map.
func jsonEvents(r io.Reader, s *sink, wrappers []string, m recordMapper) error {
	return jsonRecords(r, s, wrappers, func(line int, raw []byte) error {
		ev, id, why := m(raw)
		if why != "" {
			s.skip(line, why)
			return nil
		}
		return s.add(line, ev, id, raw)
	})
}

// jsonLines reads the lines after the first of a JSON-lines input.
func jsonLines(lr *lineReader, s *sink, wrappers []string, fn recordFunc) error {
	for {
		b, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case b == nil:
			s.skip(lr.line, fmt.Sprintf("line longer than %d bytes", maxLineBytes))
		case len(bytes.TrimSpace(b)) == 0:
		case !json.Valid(b):
			s.skip(lr.line, "not a JSON value")
		default:
			if err := eachRecord(lr.line, b, wrappers, fn); err != nil {
				return err
			}
		}
	}
}

// jsonArrays streams the elements of the arrays in r, which starts with
// '[' on line first.
func jsonArrays(r io.Reader, first int, fn recordFunc) error {
	lc := &lineCounter{r: r, line: first}
	dec := json.NewDecoder(lc)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed(lc, dec, err)
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("%w: line %d: %v after an array", ErrMalformed, lc.lineAt(dec.InputOffset()), tok)
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return malformed(lc, dec, err)
			}
			line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
			if err := fn(line, raw); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return malformed(lc, dec, err)
		}
	}
}

// jsonValues reads the top-level values of r, which starts on line first.
func jsonValues(r io.Reader, first int, wrappers []string, fn recordFunc) error {
	lc := &lineCounter{r: r, line: first}
	dec := json.NewDecoder(lc)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed(lc, dec, err)
		}
		line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
		if err := eachRecord(line, raw, wrappers, fn); err != nil {
			return err
		}
	}
}

// malformed wraps a decoder error with ErrMalformed and its line.
func malformed(lc *lineCounter, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = max(se.Offset-1, off)
	}
	if err == io.ErrUnexpectedEOF { // at the last byte, not where the value began
		err = errors.New("unexpected end of input")
		off = max(lc.off-1, off)
	}
	return fmt.Errorf("%w: line %d: %v", ErrMalformed, lc.lineAt(off), err)
}

// eachRecord calls fn with raw, or with each element of its wrapped array.
func eachRecord(line int, raw []byte, wrappers []string, fn recordFunc) error {
	start, arr := wrapped(raw, wrappers)
	if arr == nil {
		return fn(line, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(arr))
	if _, err := dec.Token(); err != nil {
		return fn(line, raw)
	}
	for dec.More() {
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			return nil // unreachable: raw is valid JSON
		}
		at := start + int(dec.InputOffset()) - len(elem)
		if err := fn(line+bytes.Count(raw[:at], []byte{'\n'}), elem); err != nil {
			return err
		}
	}
	return nil
}

// wrapped returns the array under the first wrapper key of the object raw
// (valid JSON) and its offset in raw, or nil if there is none.
func wrapped(raw []byte, wrappers []string) (int, []byte) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' || !slices.ContainsFunc(wrappers, func(w string) bool {
		return bytes.Contains(raw, []byte(`"`+w+`"`))
	}) {
		return 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return 0, nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return 0, nil
		}
		if k, _ := key.(string); slices.Contains(wrappers, k) && len(v) > 0 && v[0] == '[' {
			return int(dec.InputOffset()) - len(v), v
		}
	}
	return 0, nil
}

// decodeRecord unmarshals raw into v and returns why it could not, naming
// the field, or "".
func decodeRecord(raw []byte, v any) string {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return ""
	}
	return decodeReason(err)
}

// decodeReason describes a JSON decoding error of one record.
func decodeReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a " + te.Type.Kind().String()
		switch te.Type.Kind() {
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.Int, reflect.Int64, reflect.Uint8, reflect.Float64:
			want = "a number"
		}
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s where %s is expected", te.Value, want)
		}
		return fmt.Sprintf("field %s: a JSON %s where %s is expected", te.Field, te.Value, want)
	}
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: "), insights.ErrInvalidEvent.Error()+": ")
}

// lineReader reads lines, counting them.
type lineReader struct {
	br   *bufio.Reader
	line int // number of the line last read; 0 before the first
	buf  []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// skipSpace skips a UTF-8 byte-order mark and white space, counting lines,
// and returns the next byte, unread, which is on line lr.line+1.
func (lr *lineReader) skipSpace() (byte, error) {
	lr.skipBOM()
	for {
		c, err := lr.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '\n':
			lr.line++
		case ' ', '\t', '\r':
		default:
			lr.br.UnreadByte()
			return c, nil
		}
	}
}

// skipBOM skips a UTF-8 byte-order mark at the start of the input.
func (lr *lineReader) skipBOM() {
	if b, err := lr.br.Peek(3); err == nil && string(b) == "\uFEFF" {
		lr.br.Discard(3)
	}
}

// read reads the next line, without its end of line, up to maxLineBytes;
// complete is false if the line goes on (the rest unread). The result is
// valid until the next read. At the end of the input it returns io.EOF
// with no line.
func (lr *lineReader) read() (b []byte, complete bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull && len(lr.buf) < maxLineBytes:
			continue
		case err == bufio.ErrBufferFull:
			lr.line++
			return lr.buf, false, nil
		case err == io.EOF && len(lr.buf) > 0:
			lr.line++
			return lr.buf, true, nil
		case err != nil:
			return nil, false, err
		}
		lr.line++
		return bytes.TrimSuffix(bytes.TrimSuffix(lr.buf, []byte{'\n'}), []byte{'\r'}), true, nil
	}
}

// next reads the next line like read, but skips the rest of a line over
// maxLineBytes and returns it as a nil line.
func (lr *lineReader) next() ([]byte, error) {
	b, complete, err := lr.read()
	if err != nil || complete {
		return b, err
	}
	for {
		_, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, nil
	}
}

// lineCounter passes reads through, noting where lines end, so that the
// line of a decoder's offset can be found after the decoder read ahead.
type lineCounter struct {
	r    io.Reader
	off  int64   // offset of the next byte read
	nl   []int64 // offsets of the newlines read and not yet passed by lineAt
	line int     // line of the offsets lineAt has passed
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nl = append(c.nl, c.off+int64(i))
		}
	}
	c.off += int64(n)
	return n, err
}

// lineAt returns the line of the byte at offset off. Offsets must not
// decrease from one call to the next.
func (c *lineCounter) lineAt(off int64) int {
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	c.line += i
	c.nl = c.nl[i:]
	return c.line
}
