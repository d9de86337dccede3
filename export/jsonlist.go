package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// JSONOptions configures the JSON list writers. A nil *JSONOptions, and
// every zero field, means the default.
type JSONOptions struct {
	// Array writes one JSON array, one item a line between "[" and "]".
	// Default: JSON lines, one item a line and nothing else.
	Array bool
}

// cursor is what every source offers: sql.Rows-style iteration.
type cursor interface {
	Next() bool
	Err() error
}

// writeJSONList streams the items of src, item returning the current one,
// as JSON lines or an array. One buffer is reused for every item.
func writeJSONList[T any](w io.Writer, src cursor, item func() T, opts *JSONOptions) error {
	array := opts != nil && opts.Array
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if array {
		bw.WriteString("[")
	}
	n := 0
	for src.Next() {
		buf.Reset()
		if err := enc.Encode(item()); err != nil {
			return err
		}
		if array {
			sep := ",\n"
			if n == 0 {
				sep = "\n"
			}
			bw.WriteString(sep)
			buf.Truncate(buf.Len() - 1) // the newline Encode ends with
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
		n++
	}
	if err := src.Err(); err != nil {
		return err
	}
	if array {
		if n > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	}
	return bw.Flush()
}
