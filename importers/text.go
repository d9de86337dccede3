package importers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// notUTF8 is the reason a record holding text that is not valid UTF-8 is
// skipped (see "Text" in the package doc).
const notUTF8 = "not valid UTF-8"

// checkedRecords returns fn, skipping the records whose text is not valid
// UTF-8, and unwrapping each record from s.envelope when set.
func checkedRecords(s *sink, fn recordFunc) recordFunc {
	return func(line int, raw []byte) error {
		if field, bad := invalidJSONText(raw); bad {
			s.skip(line, field+": "+notUTF8)
			return nil
		}
		if s.envelope != "" {
			inner, why := unwrap(raw, s.envelope)
			if why != "" {
				s.skip(line, why)
				return nil
			}
			if field, bad := invalidJSONText(inner); bad {
				s.skip(line, s.envelope+"."+field+": "+notUTF8)
				return nil
			}
			raw = inner
		}
		return fn(line, raw)
	}
}

// unwrap returns the record a log shipper wrapped in raw under key: the
// object there, or the JSON a string there holds. It says why when there
// is none.
func unwrap(raw []byte, key string) ([]byte, string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, "not a JSON object with a " + strconv.Quote(key) + " field"
	}
	v, ok := obj[key]
	if !ok {
		return nil, "no " + strconv.Quote(key) + " field"
	}
	if len(v) > 0 && v[0] == '"' {
		var str string
		if json.Unmarshal(v, &str) != nil || !json.Valid([]byte(str)) {
			return nil, key + ": not a JSON value"
		}
		v = bytes.TrimSpace([]byte(str))
	}
	if len(v) == 0 || v[0] != '{' {
		return nil, key + ": not a JSON object"
	}
	return v, ""
}

// invalidJSONText reports whether raw, one JSON value, holds a string that
// is not valid UTF-8 (an invalid byte, or an escaped lone surrogate such
// as \ud800), which encoding/json would replace with U+FFFD, and names the
// first such string's field: "actor.id", "target[1].id", or a key quoted
// when the key itself is at fault.
func invalidJSONText(raw []byte) (field string, bad bool) {
	at := firstInvalid(raw)
	if at < 0 {
		return "", false
	}
	type level struct {
		object, wantKey bool
		key             string
		index           int
	}
	var path []level
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "record", true
		}
		top := len(path) - 1
		if dec.InputOffset() > int64(at) && top >= 0 { // tok is the string at fault
			var b strings.Builder
			for i, l := range path {
				switch {
				case !l.object:
					fmt.Fprintf(&b, "[%d]", l.index)
					continue
				case b.Len() > 0:
					b.WriteByte('.')
				}
				if i == top && l.wantKey {
					b.WriteString(strconv.QuoteToASCII(tok.(string)))
				} else {
					b.WriteString(l.key)
				}
			}
			return b.String(), true
		}
		switch tok {
		case json.Delim('{'):
			path = append(path, level{object: true, wantKey: true})
			continue
		case json.Delim('['):
			path = append(path, level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			path = path[:top]
			top--
		default:
			if top >= 0 && path[top].wantKey {
				path[top].key, path[top].wantKey = tok.(string), false
				continue
			}
		}
		if top >= 0 { // a value of the container at top is done
			path[top].wantKey = path[top].object
			path[top].index++
		}
	}
}

// firstInvalid returns the offset of the first invalid UTF-8 byte or
// escaped lone surrogate of raw, or -1.
func firstInvalid(raw []byte) int {
	if utf8.Valid(raw) && !bytes.Contains(raw, []byte(`\u`)) {
		return -1
	}
	inString := false
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				return i
			}
			i += n
			continue
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(raw):
			n := 2
			if raw[i+1] == 'u' {
				r := escaped(raw[i:])
				n = 6
				if utf16.IsSurrogate(r) {
					if utf16.DecodeRune(r, escaped(raw[i+6:])) == utf8.RuneError {
						return i
					}
					n = 12
				}
			}
			i += n
			continue
		}
		i++
	}
	return -1
}

// escaped returns the code of the \uXXXX escape b starts with, or -1.
func escaped(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	r, err := strconv.ParseUint(string(b[2:6]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(r)
}
