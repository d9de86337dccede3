package insights

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// filterJSONString is f's JSON, the structural form tests compare.
func filterJSONString(t *testing.T, f Filter) string {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("marshal %s: %v", f, err)
	}
	return string(b)
}

func TestParseFilter(t *testing.T) {
	cases := []struct {
		name, in string
		want     Filter
	}{
		{"equality", `appId = "A"`, Eq(DimAppID, "A")},
		{"the package doc's example", `appId = "A" and (os = "iOS" or not country = "US")`,
			And(Eq(DimAppID, "A"), Or(Eq(DimOS, "iOS"), Not(Eq(DimCountry, "US"))))},
		{"in a list", `country in ("US", "FR")`, In(DimCountry, "US", "FR")},
		{"in an empty list matches nothing", `country in ()`, In(DimCountry)},
		{"prefix", `osFamily prefix "Win"`, Prefix(DimOSFamily, "Win")},
		{"cidr as String prints it", `ip in 198.51.100.0/24`, CIDR("198.51.100.0/24")},
		{"cidr quoted", `ip in "2001:db8::/32"`, CIDR("2001:db8::/32")},
		{"ipv6 cidr bare", `ip in 2001:db8::/32`, CIDR("2001:db8::/32")},
		{"ip address", `ip = "198.51.100.7"`, Eq(DimIP, "198.51.100.7")},
		{"ip addresses in a list", `ip in (198.51.100.7, "2001:db8::1")`, In(DimIP, "198.51.100.7", "2001:db8::1")},
		{"true is every event", `true`, And()},
		{"false is no event", `false`, Or()},
		{"bare words as values", `country = US and os in (iOS, Android-14)`,
			And(Eq(DimCountry, "US"), In(DimOS, "iOS", "Android-14"))},
		{"a bare word with dots, colons and at signs", `user = alice@example.com`, Eq(DimUser, "alice@example.com")},
		{"not binds tighter than and", `not os = "iOS" and country = "FR"`,
			And(Not(Eq(DimOS, "iOS")), Eq(DimCountry, "FR"))},
		{"and binds tighter than or", `appId = "A" or appId = "B" and os = "iOS"`,
			Or(Eq(DimAppID, "A"), And(Eq(DimAppID, "B"), Eq(DimOS, "iOS")))},
		{"a chain of ands is one And", `appId = A and os = B and country = C`,
			And(Eq(DimAppID, "A"), Eq(DimOS, "B"), Eq(DimCountry, "C"))},
		{"parentheses make a new node", `(appId = A and os = B) and country = C`,
			And(And(Eq(DimAppID, "A"), Eq(DimOS, "B")), Eq(DimCountry, "C"))},
		{"redundant parentheses vanish", `((appId = A))`, Eq(DimAppID, "A")},
		{"not of a group", `not (os = "iOS" or os = "Android")`, Not(Or(Eq(DimOS, "iOS"), Eq(DimOS, "Android")))},
		{"double negation is kept", `not not os = "iOS"`, Not(Not(Eq(DimOS, "iOS")))},
		{"keywords are case-insensitive", `NOT os = "iOS" AND country IN ("FR") Or TRUE`,
			Or(And(Not(Eq(DimOS, "iOS")), In(DimCountry, "FR")), And())},
		{"escapes in strings", `appName = "say \"hi\"\t\u00e9"`, Eq(DimAppName, "say \"hi\"\té")},
		{"raw strings", "appName = `C:\\path`", Eq(DimAppName, `C:\path`)},
		{"empty value", `os = ""`, Eq(DimOS, "")},
		{"a keyword quoted is a value", `appName = "and"`, Eq(DimAppName, "and")},
		{"no spaces needed", `(os="iOS")or(country=FR)`, Or(Eq(DimOS, "iOS"), Eq(DimCountry, "FR"))},
		{"unicode spaces and letters", "appName\u00a0=\u3000Café", Eq(DimAppName, "Café")},
		{"log fields", `requestId = "r1" and city prefix "Par"`, And(Eq(DimRequestID, "r1"), Prefix(DimCity, "Par"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseFilter(c.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", c.in, err)
			}
			if g, w := filterJSONString(t, got), filterJSONString(t, c.want); g != w {
				t.Fatalf("ParseFilter(%q)\n got %s\nwant %s", c.in, g, w)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", ``, `at byte 0: expected a dimension name, "not", "true", "false" or "(", found the end of the filter`},
		{"unknown dimension", `app = "A"`, `at byte 0: expected a dimension name (appId, os, country, ...)`},
		{"dimension names are case-sensitive", `APPID = "A"`, `unknown dimension "APPID" (dimension names are case-sensitive: appId)`},
		{"missing operator", `os "iOS"`, `at byte 3: expected "=", "in" or "prefix", found "\"iOS\""`},
		{"missing value", `os =`, `at byte 4: expected a value (a quoted string or a bare word), found the end of the filter`},
		{"unterminated string", `os = "iOS`, `at byte 5: expected a value (a quoted string or a bare word), found unterminated string "\"iOS"`},
		{"bad escape", `os = "\q"`, `found malformed string literal`},
		{"a keyword as a bare value", `os = and`, `at byte 5: "and" is a keyword: quote it to use it as a value`},
		{"unexpected character", `os = "iOS" & country = "FR"`, `at byte 11: expected "and", "or" or the end of the filter, found unexpected character "&"`},
		{"trailing and", `os = "iOS" and`, `at byte 14: expected a dimension name, "not", "true", "false" or "(", found the end of the filter`},
		{"unclosed parenthesis", `(os = "iOS"`, `at byte 11: expected "and", "or" or ")", found the end of the filter`},
		{"stray close", `os = "iOS")`, `at byte 10: expected "and", "or" or the end of the filter, found ")"`},
		{"list without comma", `os in ("a" "b")`, `at byte 11: expected "," or ")"`},
		{"list with trailing comma", `os in ("a",)`, `at byte 11: expected a value`},
		{"in without a list", `os in "iOS"`, `at byte 6: expected "(" opening a list of values`},
		{"bad cidr", `ip in 198.51.100.0/33`, `at byte 6: "198.51.100.0/33" is not a CIDR prefix`},
		{"ip equality needs an address", `ip = "198.51.100.0/24"`, `"198.51.100.0/24" is not an IP address (for a CIDR prefix write ip in 198.51.100.0/24)`},
		{"ip list needs addresses", `ip in ("x")`, `at byte 7: "x" is not an IP address`},
		{"no prefix on ip", `ip prefix "198."`, `at byte 3: ip takes = and in`},
		{"not without operand", `not`, `at byte 3: expected a dimension name`},
		{"too deeply nested", strings.Repeat("not ", maxFilterDepth+1) + `os = "iOS"`, `parentheses and nots nested more than 32 deep`},
		{"too many parentheses", strings.Repeat("(", maxFilterDepth+1) + `os = "iOS"` + strings.Repeat(")", maxFilterDepth+1), `at byte 32: parentheses and nots nested more than 32 deep`},
		{"too many nodes", strings.TrimSuffix(strings.Repeat(`os = "a" or `, maxFilterNodes), " or "), `more than 4096 filter nodes`},
		{"tree too deep", strings.Repeat("(os = a or os = b and ", 17) + `os = a` + strings.Repeat(")", 17), `filter: deeper than 32`},
		{"long tokens are cut in messages", `os = "a" ` + strings.Repeat("x", 100), `found "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFilter(c.in)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %s, want an error", c.in, f)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v does not wrap ErrInvalidQuery", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseFilter(%q):\n got %v\nwant it to contain %s", c.in, err, c.want)
			}
		})
	}
}

func TestParseFilterLimitsMatchValidate(t *testing.T) {
	deepest := strings.Repeat("not ", maxFilterDepth) + `os = "iOS"`
	f, err := ParseFilter(deepest)
	if err != nil {
		t.Fatalf("a filter %d deep: %v", maxFilterDepth, err)
	}
	if err := f.validate(); err != nil {
		t.Fatalf("validate of a parsed filter: %v", err)
	}
	largest := strings.TrimSuffix(strings.Repeat(`os = "a" or `, maxFilterNodes-1), " or ")
	f, err = ParseFilter(largest)
	if err != nil {
		t.Fatalf("a filter of %d nodes: %v", maxFilterNodes, err)
	}
	if err := f.validate(); err != nil {
		t.Fatalf("validate of a parsed filter: %v", err)
	}
}

// unwrapSingles returns f without And and Or nodes of one argument, which
// String prints as their argument alone.
func unwrapSingles(f Filter) Filter {
	if (f.op == OpAnd || f.op == OpOr) && len(f.args) == 1 {
		return unwrapSingles(f.args[0])
	}
	if len(f.args) == 0 {
		return f
	}
	g := f
	g.args = make([]Filter, len(f.args))
	for i, a := range f.args {
		g.args[i] = unwrapSingles(a)
	}
	return g
}

// checkRoundTrip checks that ParseFilter(f.String()) is f, up to And and
// Or nodes of one argument.
func checkRoundTrip(t *testing.T, f Filter) {
	t.Helper()
	g, err := ParseFilter(f.String())
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", f.String(), err)
	}
	if got, want := filterJSONString(t, g), filterJSONString(t, unwrapSingles(f)); got != want {
		t.Fatalf("round trip of %s\n got %s\nwant %s", f, got, want)
	}
	if g.String() != unwrapSingles(f).String() {
		t.Fatalf("round trip of %s prints %s", f, g)
	}
}

func TestParseFilterRoundTrip(t *testing.T) {
	for _, f := range []Filter{
		{}, And(), Or(), Not(And()), Not(Or()),
		Eq(DimAppID, "A"), Eq(DimOS, ""), Eq(DimAppName, `quote " backslash \ tab 	 newline
 nul `+"\x00"+` invalid utf-8 `+"\xff"),
		Eq(DimCountry, "and"), Eq(DimCountry, "("), Eq(DimAppName, "=HYPERLINK(\"x\")"),
		In(DimCountry), In(DimCountry, "US"), In(DimOS, "iOS", "", "Windows 10"),
		Prefix(DimBrowser, "Chr"), CIDR("198.51.100.0/24"), CIDR("2001:db8::/32"), CIDR("::ffff:198.51.100.0/120"),
		Eq(DimIP, "198.51.100.7"), In(DimIP, "2001:db8::1", "198.51.100.7"),
		And(Eq(DimAppID, "A")), Or(And(Eq(DimAppID, "A"), Eq(DimOS, "iOS"))),
		And(And(Eq(DimAppID, "A"), Eq(DimOS, "B")), Eq(DimCountry, "C")),
		Or(Or(Eq(DimAppID, "A"), Eq(DimOS, "B")), Or(Eq(DimCountry, "C"))),
		Not(Not(Not(Eq(DimKind, "signIn")))),
		Not(And(Eq(DimAppID, "A"), Or(Eq(DimOS, "B"), And()))),
		And(Or(), And(), Not(Or(Eq(DimStatus, "failure"), Eq(DimStatus, "interrupted")))),
	} {
		checkRoundTrip(t, f)
	}
}

// randomFilter returns a random filter at most depth deep whose values
// stress quoting: keywords, punctuation, escapes, non-ASCII, invalid UTF-8.
func randomFilter(r *rand.Rand, depth int) Filter {
	values := []string{"", "A", "iOS", "Windows 10", "and", "OR", "not", "true", "in", "prefix",
		`"`, `\`, "(", ")", ",", "=", "a b", "é", "日本", "\t", "\n", "\x00", "\xff\xfe", "-1", "+x",
		"=cmd", "@x", "a.b:c/d", "198.51.100.7"}
	value := func() string {
		if r.IntN(4) == 0 {
			return fmt.Sprintf("v%d", r.IntN(100))
		}
		return values[r.IntN(len(values))]
	}
	addrs := []string{"198.51.100.7", "2001:db8::1", "::1", "0.0.0.0", "::ffff:192.0.2.1"}
	prefixes := []string{"198.51.100.0/24", "0.0.0.0/0", "2001:db8::/32", "198.51.100.7/32", "::/0"}
	dims := Dimensions()
	if depth > 0 && r.IntN(3) > 0 {
		switch r.IntN(3) {
		case 0:
			return Not(randomFilter(r, depth-1))
		default:
			args := make([]Filter, r.IntN(4))
			for i := range args {
				args[i] = randomFilter(r, depth-1)
			}
			if r.IntN(2) == 0 {
				return And(args...)
			}
			return Or(args...)
		}
	}
	d := dims[r.IntN(len(dims))]
	if d == DimIP {
		switch r.IntN(3) {
		case 0:
			return Eq(d, addrs[r.IntN(len(addrs))])
		case 1:
			return In(d, addrs[:r.IntN(len(addrs))]...)
		}
		return CIDR(prefixes[r.IntN(len(prefixes))])
	}
	switch r.IntN(3) {
	case 0:
		return Eq(d, value())
	case 1:
		return Prefix(d, value())
	}
	vs := make([]string, r.IntN(4))
	for i := range vs {
		vs[i] = value()
	}
	return In(d, vs...)
}

func TestParseFilterRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		checkRoundTrip(t, randomFilter(r, 6))
	}
}
