package insights

import "math"

// dict maps the values of one dimension to dense codes. Past its cap, new
// values share the code of OtherGroup and overflowed is set, so memory stays
// bounded on hostile input. The seed values (the empty value, and the
// fixed sets the engine's own predicates name) come first and do not
// count against the cap. Not safe for concurrent writes: the Engine's lock
// guards it.
type dict struct {
	codes      map[string]uint32
	values     []string
	limit      int // cap on values, seeds excluded
	seeds      int
	overflowed bool
}

// newDict returns a dictionary holding "" and seeds, capped at limit more values.
func newDict(limit int, seeds []string) *dict {
	d := &dict{codes: map[string]uint32{}, limit: math.MaxInt}
	for _, v := range append([]string{""}, seeds...) {
		d.code(v)
	}
	d.seeds, d.limit = len(d.values), limit
	return d
}

// seedsOf returns the values dimension d is seeded with.
func seedsOf(d Dimension) []string {
	switch d {
	case DimKind:
		return kindNames[1:]
	case DimStatus:
		return statusNames[1:]
	case DimSignInType:
		return signInTypeNames[1:]
	case DimReason:
		return append(append([]string(nil), signInReasons...), mfaResults[1:]...)
	case DimMFAResult:
		return mfaResults
	case DimAuthRequirement:
		return requirements
	case DimAction:
		return actions
	}
	return nil
}

// code returns v's code, adding v if there is room.
func (d *dict) code(v string) uint32 {
	if c, ok := d.codes[v]; ok {
		return c
	}
	if len(d.values) >= d.seeds+d.limit {
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
