package logblock

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
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
// records is refused: bytes after the columns or left in one, unknown
// flags, a dictionary code past the dictionary, a tag not 0 or 1, an
// unknown string mode, a step time unit of 0.
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
	if cols[colText+8][0] != modeDict || cols[colText+1][0] != modeGUID {
		t.Fatalf("modes of user agent, request id: %d %d", cols[colText+8][0], cols[colText+1][0])
	}
	damage := map[string]func(c *[numColumns][]byte) []byte{
		"a byte after the columns": func(c *[numColumns][]byte) []byte { return joinColumns(*c, 0) },
		"a byte left in a column": func(c *[numColumns][]byte) []byte {
			c[colCAResult] = append(c[colCAResult], 0)
			return joinColumns(*c)
		},
		"a byte left in a column of bytes": func(c *[numColumns][]byte) []byte {
			c[colStepOK] = append(c[colStepOK], 1)
			return joinColumns(*c)
		},
		"a value left in a plain list": func(c *[numColumns][]byte) []byte {
			var r stringsReader
			r.reset(c[colText+9], uint64(len(recs)))
			var vals [][]byte
			for range n {
				if v := r.next(); r.s.err == nil {
					vals = append(vals, v)
				}
			}
			c[colText+9] = appendPlain([]byte{modePlain}, append(vals, []byte("extra")))
			return joinColumns(*c)
		},
		"unknown flags": func(c *[numColumns][]byte) []byte {
			for i, f := range c[colFlags] {
				if f != 0 {
					c[colFlags][i] = f | 4
					break
				}
			}
			return joinColumns(*c)
		},
		"a dictionary code past the dictionary": func(c *[numColumns][]byte) []byte {
			col := c[colText+8]
			col[len(col)-1] = 0x7f
			return joinColumns(*c)
		},
		"a tag of 2": func(c *[numColumns][]byte) []byte {
			col := c[colText+1]
			_, k := binary.Uvarint(col[1:])
			col[1+k] = 2
			return joinColumns(*c)
		},
		"an unknown string mode": func(c *[numColumns][]byte) []byte {
			c[colText+9][0] = numModes
			return joinColumns(*c)
		},
		"a step time unit of 0": func(c *[numColumns][]byte) []byte {
			c[colStepTime][0] = 0
			return joinColumns(*c)
		},
	}
	for name, f := range damage {
		c := columnsOf(t, append([]byte(nil), good...))
		if _, err := new(Reader).assemble(nil, f(&c), n, len(recs)); err == nil {
			t.Errorf("%s: assembled", name)
		}
	}
}
