package logblock

import (
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
)

// hostileColumns returns a column block of one record (flags of fields)
// whose string columns are empty plain lists but col in column colText.
func hostileColumns(col []byte) []byte {
	var cols [numColumns][]byte
	for c := range cols {
		if isString(c) {
			cols[c] = []byte{modePlain, 0, 0}
		}
	}
	cols[colText] = col
	cols[colFlags] = []byte{flagFields}
	return append([]byte{kindColumns}, joinColumns(cols)...)
}

// TestColumnsHostileAlloc: a small block claiming a megabyte of records
// is refused having allocated no more than the frame and the records: a
// dictionary count past
// its plain list (which allocated 591 MiB), a dictionary of empty values
// more than the records can use, one value longer than the records.
func TestColumnsHostileAlloc(t *testing.T) {
	enc, dec := codec(t)
	const n, size = 1, 1 << 20
	lim := int(columnsLimit(n, size)) - 200 // the column block under the limit
	dictCount := func(d, lens int) []byte {
		col := binary.AppendUvarint([]byte{modeDict}, uint64(d))
		col = binary.AppendUvarint(col, uint64(lens))
		col = append(col, make([]byte, lens)...) // empty values
		col = append(col, 0)                     // no data
		return append(col, make([]byte, lim-len(col))...)
	}
	for _, c := range []struct {
		name, err string
		col       []byte
		dict      uint64 // dictionary values it may hold
	}{
		{"a count past an empty list", "dictionary of", dictCount(lim-8, 0), 0},
		{"more empty values than the records take", "dictionary of", dictCount(lim/2, lim/2), 0},
		{"a value longer than the records", "past the records' size",
			append(new(stringsWriter).appendPlain([]byte{modeDict, 1}, [][]byte{make([]byte, 4*size-4096)}), 0), 1},
	} {
		block := enc.EncodeAll(hostileColumns(c.col), nil)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		_, err := new(Reader).Decode(dec, Tagged, block, nil, n, size)
		runtime.ReadMemStats(&m1)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.err)
		}
		most := columnsLimit(n, size) + size + 4*c.dict + size/2 // and the decoder's own
		if a := m1.TotalAlloc - m0.TotalAlloc; a > most {
			t.Errorf("%s: a block of %d bytes allocated %d KiB, past %d KiB", c.name, len(block), a>>10, most>>10)
		}
	}
}
