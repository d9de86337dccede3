package insights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Filter is an event-level predicate: a user counts under a filter only if
// one and the same event satisfies all of it (SPEC §4). Filters are plain
// immutable values built with Eq, In, Prefix, CIDR, Not, And and Or. The
// zero Filter is And(): it matches every event.
//
// Matching is exact and case-sensitive on the stored value; a missing value
// is the empty string, an ordinary value, so Not(Eq(DimOS, "iOS")) matches
// events with no OS. Filters marshal to JSON with an explicit "op":
//
//	{"op":"and","args":[{"op":"eq","dim":"appId","value":"A"},
//	                    {"op":"not","arg":{"op":"in","dim":"os","values":["iOS","Android"]}}]}
type Filter struct {
	op     Op
	dim    Dimension
	values []string // one for eq, prefix and cidr
	args   []Filter // and, or; one for not
}

// Op is a Filter's operator.
type Op uint8

// The operators. OpAnd is the zero value.
const (
	OpAnd    Op = iota // all args match; And() matches everything
	OpOr               // any arg matches; Or() matches nothing
	OpNot              // the arg does not match
	OpEq               // the dimension's value equals the value
	OpIn               // the value is one of the values
	OpPrefix           // the value starts with the prefix
	OpCIDR             // the IP address is inside the prefix (DimIP only)
)

var opNames = []string{"and", "or", "not", "eq", "in", "prefix", "cidr"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("invalid(%d)", o)
}

// Limits on a filter's shape, so that no input makes compilation costly.
const (
	maxFilterDepth = 32
	maxFilterNodes = 4096
)

// Eq matches events whose value of d is v.
func Eq(d Dimension, v string) Filter { return Filter{op: OpEq, dim: d, values: []string{v}} }

// In matches events whose value of d is one of vs; In(d) matches nothing.
func In(d Dimension, vs ...string) Filter {
	return Filter{op: OpIn, dim: d, values: append([]string(nil), vs...)}
}

// Prefix matches events whose value of d starts with p (a string prefix;
// for IP addresses use CIDR).
func Prefix(d Dimension, p string) Filter { return Filter{op: OpPrefix, dim: d, values: []string{p}} }

// CIDR matches events whose client IP lies in prefix ("198.51.100.0/24",
// "2001:db8::/32"). Events without an IP do not match.
func CIDR(prefix string) Filter { return Filter{op: OpCIDR, dim: DimIP, values: []string{prefix}} }

// Not matches events that f does not match.
func Not(f Filter) Filter { return Filter{op: OpNot, args: []Filter{f}} }

// And matches events that every f matches; And() matches every event.
func And(fs ...Filter) Filter { return Filter{op: OpAnd, args: append([]Filter(nil), fs...)} }

// Or matches events that any f matches; Or() matches none.
func Or(fs ...Filter) Filter { return Filter{op: OpOr, args: append([]Filter(nil), fs...)} }

// Op returns the filter's operator.
func (f Filter) Op() Op { return f.op }

// IsAll reports whether f is And() (the zero Filter), matching everything.
func (f Filter) IsAll() bool { return f.op == OpAnd && len(f.args) == 0 }

// String renders f in the expression language of the command line:
// appId = "A" and (os = "iOS" or not country = "US").
func (f Filter) String() string {
	var b strings.Builder
	f.write(&b, false)
	return b.String()
}

func (f Filter) write(b *strings.Builder, nested bool) {
	switch f.op {
	case OpAnd, OpOr:
		switch len(f.args) {
		case 0:
			b.WriteString(map[Op]string{OpAnd: "true", OpOr: "false"}[f.op])
			return
		case 1: // And(a) and Or(a) match what a does
			f.args[0].write(b, nested)
			return
		}
		if nested && len(f.args) > 1 {
			b.WriteByte('(')
		}
		for i, a := range f.args {
			if i > 0 {
				b.WriteString(" " + f.op.String() + " ")
			}
			a.write(b, true)
		}
		if nested && len(f.args) > 1 {
			b.WriteByte(')')
		}
	case OpNot:
		b.WriteString("not ")
		f.args[0].write(b, true)
	case OpEq:
		fmt.Fprintf(b, "%s = %s", f.dim, strconv.Quote(f.values[0]))
	case OpIn:
		fmt.Fprintf(b, "%s in (", f.dim)
		for i, v := range f.values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(v))
		}
		b.WriteByte(')')
	case OpPrefix:
		fmt.Fprintf(b, "%s prefix %s", f.dim, strconv.Quote(f.values[0]))
	case OpCIDR:
		fmt.Fprintf(b, "%s in %s", f.dim, f.values[0])
	default:
		fmt.Fprintf(b, "invalid(%d)", f.op)
	}
}

// validate checks the filter's shape: known operators, dimensions that
// take the operator, parseable CIDR prefixes, bounded depth and size.
func (f Filter) validate() error {
	nodes := 0
	return f.check(0, &nodes)
}

func (f Filter) check(depth int, nodes *int) error {
	*nodes++
	if depth > maxFilterDepth || *nodes > maxFilterNodes {
		return fmt.Errorf("%w: filter: deeper than %d or larger than %d nodes", ErrInvalidQuery, maxFilterDepth, maxFilterNodes)
	}
	switch f.op {
	case OpAnd, OpOr:
		for _, a := range f.args {
			if err := a.check(depth+1, nodes); err != nil {
				return err
			}
		}
		return nil
	case OpNot:
		if len(f.args) != 1 {
			return fmt.Errorf("%w: filter: not takes one argument, got %d", ErrInvalidQuery, len(f.args))
		}
		return f.args[0].check(depth+1, nodes)
	case OpEq, OpPrefix, OpIn:
		if f.dim < DimKind || f.dim > lastDimension {
			return fmt.Errorf("%w: filter: %s on dimension %d: outside its set", ErrInvalidQuery, f.op, f.dim)
		}
		if f.op == OpPrefix && f.dim == DimIP {
			return fmt.Errorf("%w: filter: prefix on ip: IP addresses match a CIDR prefix (ip in 198.51.100.0/24), not a string prefix", ErrInvalidQuery)
		}
		if f.op != OpIn && len(f.values) != 1 {
			return fmt.Errorf("%w: filter: %s on %s takes one value, got %d", ErrInvalidQuery, f.op, f.dim, len(f.values))
		}
		return nil
	case OpCIDR:
		if f.dim != DimIP || len(f.values) != 1 {
			return fmt.Errorf("%w: filter: cidr takes dimension ip and one prefix", ErrInvalidQuery)
		}
		if _, err := netip.ParsePrefix(f.values[0]); err != nil {
			return fmt.Errorf("%w: filter: cidr %q: %v", ErrInvalidQuery, f.values[0], err)
		}
		return nil
	}
	return fmt.Errorf("%w: filter: unknown op %d", ErrInvalidQuery, f.op)
}

// jsonDepth returns the deepest nesting of objects and arrays in b.
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// NamesLogField reports whether f names a log field (DimIP..DimState): a
// metric with such a filter is answered from the event log, and a host may
// want to restrict it as it restricts the log (a user's or an IP's events).
func (f Filter) NamesLogField() bool {
	if f.op >= OpEq && !f.dim.Indexed() {
		return true
	}
	for _, a := range f.args {
		if a.NamesLogField() {
			return true
		}
	}
	return false
}

// filterJSON is the wire shape of a Filter.
type filterJSON struct {
	Op     string          `json:"op"`
	Dim    *Dimension      `json:"dim,omitempty"`
	Value  *string         `json:"value,omitempty"`
	Values []string        `json:"values,omitempty"`
	Arg    json.RawMessage `json:"arg,omitempty"`
	Args   []Filter        `json:"args,omitempty"`
}

// MarshalJSON implements json.Marshaler with an explicit "op".
func (f Filter) MarshalJSON() ([]byte, error) {
	w := filterJSON{Op: f.op.String()}
	switch f.op {
	case OpAnd, OpOr:
		w.Args = f.args
		if w.Args == nil {
			w.Args = []Filter{}
		}
		return json.Marshal(struct {
			Op   string   `json:"op"`
			Args []Filter `json:"args"`
		}{w.Op, w.Args})
	case OpNot:
		arg, err := json.Marshal(f.args[0])
		if err != nil {
			return nil, err
		}
		w.Arg = arg
	case OpIn:
		return json.Marshal(struct {
			Op     string    `json:"op"`
			Dim    Dimension `json:"dim"`
			Values []string  `json:"values"`
		}{w.Op, f.dim, append([]string{}, f.values...)})
	case OpEq, OpPrefix, OpCIDR:
		w.Dim, w.Value = &f.dim, &f.values[0]
	default:
		return nil, fmt.Errorf("%w: filter: unknown op %d", ErrInvalidQuery, f.op)
	}
	return json.Marshal(w)
}

// UnmarshalJSON implements json.Unmarshaler. The "op" is required and
// decides the shape: a key the op does not take, or an unknown key, is an
// error; the result is validated. Cost: linear in len(b) times the depth,
// which is capped before decoding.
func (f *Filter) UnmarshalJSON(b []byte) error {
	if d := jsonDepth(b); d > 2*maxFilterDepth+2 {
		return fmt.Errorf("%w: filter: nested %d deep, at most %d filters", ErrInvalidQuery, d, maxFilterDepth)
	}
	var w filterJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("%w: filter: %v", ErrInvalidQuery, err)
	}
	leaf := w.Dim != nil || w.Value != nil || w.Values != nil
	extra := map[string]bool{
		"and": leaf || w.Arg != nil, "or": leaf || w.Arg != nil, "not": leaf || w.Args != nil,
		"eq": w.Values != nil || w.Arg != nil || w.Args != nil, "prefix": w.Values != nil || w.Arg != nil || w.Args != nil,
		"cidr": w.Values != nil || w.Arg != nil || w.Args != nil, "in": w.Value != nil || w.Arg != nil || w.Args != nil,
	}[w.Op]
	if extra {
		return fmt.Errorf("%w: filter: op %q with a key it does not take", ErrInvalidQuery, w.Op)
	}
	var g Filter
	switch w.Op {
	case "and", "or":
		g = And(w.Args...)
		if w.Op == "or" {
			g.op = OpOr
		}
	case "not":
		if w.Arg == nil {
			return fmt.Errorf("%w: filter: not without \"arg\"", ErrInvalidQuery)
		}
		var a Filter
		if err := a.UnmarshalJSON(w.Arg); err != nil {
			return err
		}
		g = Not(a)
	case "eq", "prefix", "cidr", "in":
		if w.Dim == nil {
			return fmt.Errorf("%w: filter: %s without \"dim\"", ErrInvalidQuery, w.Op)
		}
		if w.Op == "in" {
			g = In(*w.Dim, w.Values...)
			break
		}
		if w.Value == nil {
			return fmt.Errorf("%w: filter: %s without \"value\"", ErrInvalidQuery, w.Op)
		}
		g = Filter{op: map[string]Op{"eq": OpEq, "prefix": OpPrefix, "cidr": OpCIDR}[w.Op], dim: *w.Dim, values: []string{*w.Value}}
	default:
		return fmt.Errorf("%w: filter: unknown op %q", ErrInvalidQuery, w.Op)
	}
	if err := g.validate(); err != nil {
		return err
	}
	*f = g
	return nil
}
