package insights

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseFilter parses the filter expression language of the command line,
// the language Filter.String prints, into the Filter the Go API builds:
//
//	appId = "A" and (os = "iOS" or not country = "US")
//	country in ("US", "FR")        In(DimCountry, "US", "FR")
//	osFamily prefix "Win"          Prefix(DimOSFamily, "Win")
//	ip in 198.51.100.0/24          CIDR("198.51.100.0/24")
//	ip = "198.51.100.7"            Eq(DimIP, "198.51.100.7")
//	true                           And(), every event
//	false                          Or(), no event
//
// The grammar, in EBNF; "not" binds tighter than "and", which binds
// tighter than "or", and both associate to the left into one And or Or
// (a and b and c is And(a, b, c); parentheses make a new node):
//
//	filter  = or .
//	or      = and { "or" and } .
//	and     = unary { "and" unary } .
//	unary   = "not" unary | primary .
//	primary = "(" or ")" | "true" | "false" | dim pred .
//	pred    = "=" value | "prefix" value | "in" "(" [ value { "," value } ] ")" | "in" cidr .
//	value   = string | word .
//	cidr    = string | word .  (dim must be ip: a prefix netip.ParsePrefix accepts)
//	string  = a Go string literal, "..." with escapes or `...` raw (strconv.Unquote) .
//	word    = a run of letters, digits and _ . - : @ / + .
//
// Dimension names are those of ParseDimension, case-sensitive, log fields
// included (ip, user, requestId, ...), which metrics answer from the event log.
// Keywords (and, or, not, in, prefix, true, false) are case-insensitive.
// Values may be bare words for convenience (country = US, os in (iOS,
// Android)); a value that is a keyword, is empty, or holds other characters
// (spaces, quotes, commas, parentheses, non-ASCII punctuation) must be
// quoted. Matching stays exact and case-sensitive whichever form is used.
// On ip, = and in take IP addresses (netip.ParseAddr) and "in" without
// parentheses takes a CIDR prefix; prefix is not allowed (use a CIDR).
//
// The same limits as Filter's JSON apply: parentheses and nots nest at
// most maxFilterDepth (32) deep, the filter tree is at most 32 deep and has
// at most maxFilterNodes (4096) nodes. Errors wrap ErrInvalidQuery and give
// the byte offset and what was expected there. ParseFilter never panics;
// it costs time and memory linear in len(s). For any filter f that
// ParseFilter returns, ParseFilter(f.String()) returns a filter with the
// same String. It is safe for concurrent use.
func ParseFilter(s string) (Filter, error) {
	p := &filterParser{src: s}
	p.next()
	f, err := p.or(0)
	if err != nil {
		return Filter{}, err
	}
	if p.tok.kind != tokEOF {
		return Filter{}, p.fail(`"and", "or" or the end of the filter`)
	}
	if err := f.validate(); err != nil {
		return Filter{}, err
	}
	return f, nil
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokComma
	tokEq
	tokString // a quoted string, unquoted into text
	tokWord   // a bare word
	tokBad    // a byte that starts no token, or an unterminated or malformed string
)

type token struct {
	kind tokKind
	off  int    // byte offset in the source
	raw  string // the source text of the token
	text string // the value: unquoted string or word
	err  string // why tokBad is bad
}

// filterParser is a recursive-descent parser over a one-token lookahead.
type filterParser struct {
	src   string
	pos   int
	tok   token
	nodes int
}

// next scans the token at p.pos into p.tok.
func (p *filterParser) next() {
	for p.pos < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		p.pos += n
	}
	start := p.pos
	if start == len(p.src) {
		p.tok = token{kind: tokEOF, off: start}
		return
	}
	switch c := p.src[start]; c {
	case '(', ')', ',', '=':
		p.pos++
		k := tokLParen + tokKind(strings.IndexByte("(),=", c)) // the kinds' order
		p.tok = token{kind: k, off: start, raw: p.src[start:p.pos]}
		return
	case '"', '`':
		p.tok = p.scanString(start, c)
		return
	}
	for p.pos < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isWordRune(r) {
			break
		}
		p.pos += n
	}
	if p.pos == start {
		_, n := utf8.DecodeRuneInString(p.src[start:])
		p.pos += n
		p.tok = token{kind: tokBad, off: start, raw: p.src[start:p.pos], err: "unexpected character"}
		return
	}
	p.tok = token{kind: tokWord, off: start, raw: p.src[start:p.pos], text: p.src[start:p.pos]}
}

// scanString scans a Go string literal opening with quote at start.
func (p *filterParser) scanString(start int, quote byte) token {
	i := start + 1
	for i < len(p.src) && p.src[i] != quote {
		if quote == '"' && p.src[i] == '\\' {
			i++
		}
		if quote == '"' && i < len(p.src) && p.src[i] == '\n' {
			break
		}
		i++
	}
	if i >= len(p.src) || p.src[i] != quote {
		p.pos = len(p.src)
		return token{kind: tokBad, off: start, raw: p.src[start:], err: "unterminated string"}
	}
	p.pos = i + 1
	raw := p.src[start:p.pos]
	text, err := strconv.Unquote(raw)
	if err != nil {
		return token{kind: tokBad, off: start, raw: raw, err: "malformed string literal"}
	}
	return token{kind: tokString, off: start, raw: raw, text: text}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_.-:@/+", r)
}

// isKeyword reports whether the current token is the keyword kw.
func (p *filterParser) isKeyword(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

var filterKeywords = []string{"and", "or", "not", "in", "prefix", "true", "false"}

// fail returns the error "expected <what>" at the current token.
func (p *filterParser) fail(what string) error {
	t := p.tok
	var found string
	switch t.kind {
	case tokEOF:
		found = "the end of the filter"
	case tokBad:
		found = fmt.Sprintf("%s %s", t.err, quoteShort(t.raw))
	default:
		found = quoteShort(t.raw)
	}
	return fmt.Errorf("%w: filter: at byte %d: expected %s, found %s", ErrInvalidQuery, t.off, what, found)
}

// failAt returns an error about the token t.
func failAt(t token, format string, args ...any) error {
	return fmt.Errorf("%w: filter: at byte %d: %s", ErrInvalidQuery, t.off, fmt.Sprintf(format, args...))
}

// quoteShort quotes s, cut to a readable length.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// node counts one more node of the tree and fails past maxFilterNodes.
func (p *filterParser) node(t token) error {
	if p.nodes++; p.nodes > maxFilterNodes {
		return failAt(t, "more than %d filter nodes", maxFilterNodes)
	}
	return nil
}

// or parses or = and { "or" and }. nest counts enclosing parentheses and nots.
func (p *filterParser) or(nest int) (Filter, error) {
	return p.chain(nest, "or", OpOr, p.and)
}

// and parses and = unary { "and" unary }.
func (p *filterParser) and(nest int) (Filter, error) {
	return p.chain(nest, "and", OpAnd, p.unary)
}

// chain parses operands separated by the keyword kw into one node of op,
// or returns the single operand as it is.
func (p *filterParser) chain(nest int, kw string, op Op, operand func(int) (Filter, error)) (Filter, error) {
	start := p.tok
	f, err := operand(nest)
	if err != nil || !p.isKeyword(kw) {
		return f, err
	}
	if err := p.node(start); err != nil {
		return Filter{}, err
	}
	args := []Filter{f}
	for p.isKeyword(kw) {
		p.next()
		g, err := operand(nest)
		if err != nil {
			return Filter{}, err
		}
		args = append(args, g)
	}
	return Filter{op: op, args: args}, nil
}

// unary parses unary = "not" unary | primary.
func (p *filterParser) unary(nest int) (Filter, error) {
	if !p.isKeyword("not") {
		return p.primary(nest)
	}
	t := p.tok
	if nest >= maxFilterDepth {
		return Filter{}, failAt(t, "parentheses and nots nested more than %d deep", maxFilterDepth)
	}
	if err := p.node(t); err != nil {
		return Filter{}, err
	}
	p.next()
	f, err := p.unary(nest + 1)
	if err != nil {
		return Filter{}, err
	}
	return Not(f), nil
}

// primary parses primary = "(" or ")" | "true" | "false" | dim pred.
func (p *filterParser) primary(nest int) (Filter, error) {
	t := p.tok
	switch {
	case t.kind == tokLParen:
		if nest >= maxFilterDepth {
			return Filter{}, failAt(t, "parentheses and nots nested more than %d deep", maxFilterDepth)
		}
		p.next()
		f, err := p.or(nest + 1)
		if err != nil {
			return Filter{}, err
		}
		if p.tok.kind != tokRParen {
			return Filter{}, p.fail(`"and", "or" or ")"`)
		}
		p.next()
		return f, nil
	case p.isKeyword("true"), p.isKeyword("false"):
		if err := p.node(t); err != nil {
			return Filter{}, err
		}
		p.next()
		if strings.EqualFold(t.text, "true") {
			return And(), nil
		}
		return Or(), nil
	case t.kind == tokWord:
		return p.predicate()
	}
	return Filter{}, p.fail(`a dimension name, "not", "true", "false" or "("`)
}

// predicate parses dim pred.
func (p *filterParser) predicate() (Filter, error) {
	t := p.tok
	d, err := ParseDimension(t.text)
	if err != nil {
		return Filter{}, p.unknownDimension()
	}
	if err := p.node(t); err != nil {
		return Filter{}, err
	}
	p.next()
	op := p.tok
	switch {
	case op.kind == tokEq:
		p.next()
		v, err := p.value()
		if err != nil {
			return Filter{}, err
		}
		if d == DimIP {
			if err := checkAddr(v); err != nil {
				return Filter{}, err
			}
		}
		return Eq(d, v.text), nil
	case p.isKeyword("prefix"):
		if d == DimIP {
			return Filter{}, failAt(op, "ip takes = and in (an address list or a CIDR prefix), not prefix")
		}
		p.next()
		v, err := p.value()
		if err != nil {
			return Filter{}, err
		}
		return Prefix(d, v.text), nil
	case p.isKeyword("in"):
		p.next()
		if p.tok.kind == tokLParen {
			return p.list(d)
		}
		if d != DimIP {
			return Filter{}, p.fail(`"(" opening a list of values`)
		}
		v, err := p.value()
		if err != nil {
			return Filter{}, err
		}
		if _, err := netip.ParsePrefix(v.text); err != nil {
			return Filter{}, failAt(v, "%s is not a CIDR prefix such as 198.51.100.0/24 or 2001:db8::/32", quoteShort(v.text))
		}
		return CIDR(v.text), nil
	}
	return Filter{}, p.fail(`"=", "in" or "prefix"`)
}

// list parses "(" [ value { "," value } ] ")" for In(d, ...).
func (p *filterParser) list(d Dimension) (Filter, error) {
	p.next()
	var vals []string
	for p.tok.kind != tokRParen {
		if len(vals) > 0 {
			if p.tok.kind != tokComma {
				return Filter{}, p.fail(`"," or ")"`)
			}
			p.next()
		}
		v, err := p.value()
		if err != nil {
			return Filter{}, err
		}
		if d == DimIP {
			if err := checkAddr(v); err != nil {
				return Filter{}, err
			}
		}
		if len(vals) >= maxFilterNodes {
			return Filter{}, failAt(v, "more than %d values in a list", maxFilterNodes)
		}
		vals = append(vals, v.text)
	}
	p.next()
	return In(d, vals...), nil
}

// value parses value = string | word, refusing bare keywords.
func (p *filterParser) value() (token, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		p.next()
		return t, nil
	case tokWord:
		for _, kw := range filterKeywords {
			if strings.EqualFold(t.text, kw) {
				return token{}, failAt(t, "%s is a keyword: quote it to use it as a value", quoteShort(t.text))
			}
		}
		p.next()
		return t, nil
	}
	return token{}, p.fail("a value (a quoted string or a bare word)")
}

// unknownDimension explains a word that names no dimension.
func (p *filterParser) unknownDimension() error {
	t := p.tok
	for _, d := range Dimensions() {
		if strings.EqualFold(d.String(), t.text) {
			return failAt(t, "unknown dimension %s (dimension names are case-sensitive: %s)", quoteShort(t.text), d)
		}
	}
	return p.fail(`a dimension name (appId, os, country, ...), "not", "true", "false" or "("`)
}

// checkAddr checks that the value of an ip comparison is an IP address.
func checkAddr(v token) error {
	if _, err := netip.ParseAddr(v.text); err != nil {
		return failAt(v, "%s is not an IP address (for a CIDR prefix write ip in 198.51.100.0/24)", quoteShort(v.text))
	}
	return nil
}
