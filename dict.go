package insights

// dict maps the values of one dimension to dense codes. Past its cap, new
// values share the code of OtherGroup and overflowed is set, so memory stays
// bounded on hostile input. Not safe for concurrent writes: the Engine's
// lock guards it.
type dict struct {
	codes      map[string]uint32
	values     []string
	limit      int
	overflowed bool
}

func newDict(limit int) *dict { return &dict{codes: map[string]uint32{}, limit: limit} }

// code returns v's code, adding v if there is room.
func (d *dict) code(v string) uint32 {
	if c, ok := d.codes[v]; ok {
		return c
	}
	if len(d.values) >= d.limit {
		d.overflowed = true
		v = OtherGroup
		if c, ok := d.codes[v]; ok {
			return c
		}
	}
	c := uint32(len(d.values))
	d.codes[v] = c
	d.values = append(d.values, v)
	return c
}

// lookup returns v's code without adding it.
func (d *dict) lookup(v string) (uint32, bool) {
	c, ok := d.codes[v]
	return c, ok
}
