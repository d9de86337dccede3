package importers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/insightslab/insights"
)

// readJSONL reads the library's own format: one insights.Event per line,
// with the JSON names of its tags. Blank lines are ignored; a line that is
// not one Event object, names a field Event does not have, or holds text
// that is not valid UTF-8 is skipped.
func readJSONL(r io.Reader, s *sink) error {
	lr := newLineReader(r)
	lr.skipBOM()
	for {
		b, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if b == nil {
			s.skip(lr.line, fmt.Sprintf("line longer than %d bytes", maxLineBytes))
			continue
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if field, bad := invalidJSONText(b); bad {
			s.skip(lr.line, field+": "+notUTF8)
			continue
		}
		ev, why := decodeEvent(b)
		if why != "" {
			s.skip(lr.line, why)
			continue
		}
		if err := s.add(lr.line, ev, ev.RequestID, b); err != nil {
			return err
		}
	}
}

// decodeEvent decodes one line holding exactly one Event object.
func decodeEvent(b []byte) (insights.Event, string) {
	var ev insights.Event
	if b[0] != '{' {
		return ev, "not a JSON object"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, decodeReason(err)
	}
	if dec.InputOffset() != int64(len(b)) {
		return ev, "more than one JSON value on the line"
	}
	if ev.Time.IsZero() && hasTime(b) {
		return ev, "Time: 0001-01-01T00:00:00Z is before 2000-01-01" // not "missing", as Validate would say
	}
	return ev, ""
}

// hasTime reports whether the Event object b has a time that is not null.
func hasTime(b []byte) bool {
	var v struct {
		Time *json.RawMessage `json:"time"`
	}
	return json.Unmarshal(b, &v) == nil && v.Time != nil
}
