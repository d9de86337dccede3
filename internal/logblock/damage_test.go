package logblock

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// columnsOf returns the columns of the column block b.
func columnsOf(t *testing.T, b []byte) [numColumns][]byte {
	t.Helper()
	s := src{b: b}
	var lens [numColumns]uint64
	for c := range lens {
		lens[c] = s.uvarint()
	}
	var cols [numColumns][]byte
	for c := range cols {
		cols[c] = s.take(lens[c])
	}
	if s.err != nil || s.left() != 0 {
		t.Fatalf("not a column block: %v", s.err)
	}
	return cols
}

func joinColumns(cols [numColumns][]byte, tail ...byte) []byte {
	var b []byte
	for _, c := range cols {
		b = binary.AppendUvarint(b, uint64(len(c)))
	}
	for _, c := range cols {
		b = append(b, c...)
	}
	return append(b, tail...)
}

// TestColumnsDamaged: a column block that does not lay out exactly its
// records is refused, each damage by the check it names (its error):
// bytes after the columns or left in one, unknown flags, a dictionary
// code past the dictionary, a dictionary count past its list or short of
// it, a tag not 0 or 1, tags left, an unknown string
// mode, a step time unit of 0. Each damage keeps every other check
// satisfied, so that removing its check lets the block through or fails
// it otherwise.
func TestColumnsDamaged(t *testing.T) {
	recs, offs := records(rand.New(rand.NewPCG(11, 12)), 40)
	n := len(offs) - 1
	b, ok := NewWriter(nil).columns(recs, offs)
	good := bytes.Clone(b[1:])
	if !ok {
		t.Fatal("the records were not cut into columns")
	}
	if _, err := new(Reader).assemble(nil, good, n, len(recs)); err != nil {
		t.Fatalf("the good block: %v", err)
	}
	cols := columnsOf(t, good)
	const dict, guid = colText + 8, colText + 1 // user agent, request id
	if cols[dict][0] != modeDict || cols[guid][0] != modeGUID {
		t.Fatalf("modes of user agent, request id: %d %d", cols[dict][0], cols[guid][0])
	}
	if cols[dict][1] >= 0x7e || cols[guid][1] >= 0x7f {
		t.Fatalf("counts of user agent, request id: %d %d, not one byte", cols[dict][1], cols[guid][1])
	}
	damage := []struct {
		name, err string
		f         func(c *[numColumns][]byte) []byte
	}{
		{"a byte after the columns", "1 bytes after the columns", func(c *[numColumns][]byte) []byte { return joinColumns(*c, 0) }},
		{"a byte left in a column", fmt.Sprintf("column %d: values left", colCAResult), func(c *[numColumns][]byte) []byte {
			c[colCAResult] = append(c[colCAResult], 0)
			return joinColumns(*c)
		}},
		{"a byte left in a column of bytes", fmt.Sprintf("column %d: 1 bytes left", colStepOK), func(c *[numColumns][]byte) []byte {
			c[colStepOK] = append(c[colStepOK], 1)
			return joinColumns(*c)
		}},
		{"a value left in a plain list", fmt.Sprintf("column %d: values left", colText+9), func(c *[numColumns][]byte) []byte {
			var r stringsReader
			r.reset(c[colText+9], uint64(len(recs)))
			var vals [][]byte
			for range n {
				if v := r.next(); r.s.err == nil {
					vals = append(vals, v)
				}
			}
			c[colText+9] = new(stringsWriter).appendPlain([]byte{modePlain}, append(vals, []byte("extra")))
			return joinColumns(*c)
		}},
		{"unknown flags", "flags 0x5", func(c *[numColumns][]byte) []byte {
			for i, f := range c[colFlags] {
				if f == flagFields {
					c[colFlags][i] = f | 4
					break
				}
			}
			return joinColumns(*c)
		}},
		{"a dictionary code past the dictionary", "past a dictionary", func(c *[numColumns][]byte) []byte {
			col := c[dict]
			col[len(col)-1] = 0x7f
			return joinColumns(*c)
		}},
		{"a dictionary count past its list", "a dictionary of 126 values", func(c *[numColumns][]byte) []byte {
			c[dict][1] = 0x7e
			return joinColumns(*c)
		}},
		{"a dictionary count short of its list", "a dictionary longer than its count", func(c *[numColumns][]byte) []byte {
			c[dict][1]--
			return joinColumns(*c)
		}},
		{"a tag of 2 or 3", "tag not 0 or 1", func(c *[numColumns][]byte) []byte {
			c[guid][2] |= 2 // 2 or 3: the packed values stay where they were
			return joinColumns(*c)
		}},
		{"a tag left", fmt.Sprintf("column %d: values left", guid), func(c *[numColumns][]byte) []byte {
			col := c[guid] // one more tag, 0, after the others
			k := int(col[1])
			c[guid] = slices.Concat([]byte{col[0], col[1] + 1}, col[2:2+k], []byte{0}, col[2+k:])
			return joinColumns(*c)
		}},
		{"an unknown string mode", "string column mode 4", func(c *[numColumns][]byte) []byte {
			c[colText+9][0] = numModes
			return joinColumns(*c)
		}},
		{"a step time unit of 0", "step time unit 0", func(c *[numColumns][]byte) []byte {
			c[colStepTime][0] = 0
			return joinColumns(*c)
		}},
	}
	for _, d := range damage {
		c := columnsOf(t, bytes.Clone(good))
		if _, err := new(Reader).assemble(nil, d.f(&c), n, len(recs)); err == nil || !strings.Contains(err.Error(), d.err) {
			t.Errorf("%s: %v, want an error with %q", d.name, err, d.err)
		}
	}
}
