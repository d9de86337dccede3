package web

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/insightslab/insights"
)

// graphProps maps the Graph properties a $filter may compare with eq to
// the dimensions they name; names match without regard to case, as in
// Graph. os is the OS family, as the collections write it and Graph's
// values are (os eq 'Windows' counts Windows 10 and 11): a value is taken
// to its family (insights.OSFamily). browser is the raw value.
var graphProps = map[string]insights.Dimension{
	"appId":            insights.DimAppID,
	"appName":          insights.DimAppName,
	"os":               insights.DimOSFamily,
	"browser":          insights.DimBrowser,
	"country":          insights.DimCountry,
	"language":         insights.DimLanguage,
	"identityProvider": insights.DimIdentityProvider,
	"authFlow":         insights.DimAuthFlow,
	"mfaMethod":        insights.DimMFAMethod,
}

// maxODataTerms is the most comparisons a $filter may hold; its length
// is at most MaxFilterBytes.
const maxODataTerms = 64

// graphFilter is what a $filter asks: a range of factDate, half-open
// [from, to) with zero bounds when open, and equalities on dimensions.
type graphFilter struct {
	from, to insights.Date
	eqs      []insights.Filter
}

// parseGraphFilter parses the OData $filter subset the Graph routes take:
//
//	filter = term { "and" term } .
//	term   = "(" filter ")" | "factDate" cmp date | prop "eq" string .
//	cmp    = "eq" | "ge" | "gt" | "le" | "lt" .
//	date   = YYYY-MM-DD, bare or quoted .
//	string = '...' with '' for a quote .
//
// prop is a key of graphProps. Keywords and property names are
// case-insensitive. Anything else (or, not, functions, other properties)
// is an error that says what was expected where. Cost: linear in len(s),
// which is capped.
func parseGraphFilter(s string) (graphFilter, error) {
	if len(s) > MaxFilterBytes {
		return graphFilter{}, badRequest("$filter: %d bytes, at most %d", len(s), MaxFilterBytes)
	}
	var gf graphFilter
	if strings.TrimSpace(s) == "" {
		return gf, nil
	}
	p := &odataParser{src: s}
	p.next()
	if err := p.and(&gf, 0); err != nil {
		return graphFilter{}, err
	}
	if p.tok != "" {
		return graphFilter{}, p.fail(`"and" or the end`)
	}
	return gf, nil
}

// odataParser is a recursive-descent parser over one token of lookahead.
type odataParser struct {
	src    string
	pos    int    // offset after tok
	off    int    // offset of tok
	tok    string // the token's text; "" at the end
	quoted bool   // tok is a string literal, unquoted
	bad    string // why the last token is malformed
	terms  int
}

func (p *odataParser) fail(want string) error {
	if p.bad != "" {
		return badRequest("$filter: at offset %d: %s", p.off, p.bad)
	}
	got := "the end"
	if p.tok != "" || p.quoted {
		got = "'" + p.tok + "'"
	}
	return badRequest("$filter: at offset %d: want %s, got %s", p.off, want, got)
}

// next scans the next token.
func (p *odataParser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	p.off, p.quoted, p.tok = p.pos, false, ""
	if p.pos == len(p.src) {
		return
	}
	switch c := p.src[p.pos]; {
	case c == '(' || c == ')':
		p.pos++
		p.tok = string(c)
	case c == '\'':
		var b strings.Builder
		for i := p.pos + 1; i < len(p.src); i++ {
			if p.src[i] != '\'' {
				b.WriteByte(p.src[i])
				continue
			}
			if i+1 < len(p.src) && p.src[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			p.pos, p.tok, p.quoted = i+1, b.String(), true
			return
		}
		p.pos, p.bad = len(p.src), "unterminated string"
	default:
		start := p.pos
		for p.pos < len(p.src) && isODataWord(p.src[p.pos]) {
			p.pos++
		}
		if p.pos == start {
			p.pos++
			p.bad = fmt.Sprintf("unexpected character %q", c)
			return
		}
		p.tok = p.src[start:p.pos]
	}
}

func isODataWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
}

// keyword reports whether the token is the unquoted keyword kw.
func (p *odataParser) keyword(kw string) bool { return !p.quoted && strings.EqualFold(p.tok, kw) }

// and parses terms joined by "and" into gf.
func (p *odataParser) and(gf *graphFilter, depth int) error {
	if depth > 8 {
		return badRequest("$filter: parentheses nest more than 8 deep")
	}
	for {
		if err := p.term(gf, depth); err != nil {
			return err
		}
		if !p.keyword("and") {
			return nil
		}
		p.next()
	}
}

// term parses one comparison or a parenthesized filter.
func (p *odataParser) term(gf *graphFilter, depth int) error {
	if p.terms++; p.terms > maxODataTerms {
		return badRequest("$filter: more than %d comparisons", maxODataTerms)
	}
	if p.tok == "(" && !p.quoted {
		p.next()
		if err := p.and(gf, depth+1); err != nil {
			return err
		}
		if p.tok != ")" || p.quoted {
			return p.fail(`"and" or ")"`)
		}
		p.next()
		return nil
	}
	dim, isProp := graphDimension(p.tok)
	if p.quoted || !p.keyword("factDate") && !isProp {
		return p.fail("factDate or a property (" + graphPropNames() + ")")
	}
	p.next()
	op := strings.ToLower(p.tok)
	switch {
	case p.quoted:
		return p.fail("an operator")
	case isProp && op != "eq":
		return p.fail(`"eq" (only factDate takes ge, gt, le, lt)`)
	case !isProp && op != "eq" && op != "ge" && op != "gt" && op != "le" && op != "lt":
		return p.fail("eq, ge, gt, le or lt")
	}
	p.next()
	if isProp {
		if !p.quoted {
			return p.fail("a string in single quotes")
		}
		v := p.tok
		if dim == insights.DimOSFamily {
			v = insights.OSFamily(v)
		}
		gf.eqs = append(gf.eqs, insights.Eq(dim, v))
		p.next()
		return nil
	}
	d, err := insights.ParseDate(p.tok)
	if err != nil || p.tok == "" {
		return p.fail("a date YYYY-MM-DD")
	}
	p.next()
	lower := func(b insights.Date) {
		if gf.from.IsZero() || gf.from.Before(b) {
			gf.from = b
		}
	}
	upper := func(b insights.Date) {
		if gf.to.IsZero() || b.Before(gf.to) {
			gf.to = b
		}
	}
	switch op {
	case "eq":
		lower(d)
		upper(d.AddDays(1))
	case "ge":
		lower(d)
	case "gt":
		lower(d.AddDays(1))
	case "le":
		upper(d.AddDays(1))
	case "lt":
		upper(d)
	}
	return nil
}

// graphDimension returns the dimension of the property named name, in any case.
func graphDimension(name string) (insights.Dimension, bool) {
	for p, d := range graphProps {
		if strings.EqualFold(p, name) {
			return d, true
		}
	}
	return 0, false
}

// graphPropNames lists the keys of graphProps for error messages.
func graphPropNames() string {
	return strings.Join(slices.Sorted(maps.Keys(graphProps)), ", ")
}
