package importers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// laColumn is a column of the Log Analytics sign-in tables and the field
// of Graph's signIn it holds.
type laColumn struct {
	name  string // as the tables spell it
	graph string
	kind  laKind
}

// laKind says how a cell becomes a Graph field.
type laKind uint8

const (
	laText laKind = iota // a string
	laJSON               // a JSON object or array, also as a string holding one
	laBool               // true or false, in any case, also as a string
)

// laColumns are the columns read; the package doc lists them.
var laColumns = []laColumn{
	{"Id", "id", laText},
	{"UserId", "userId", laText},
	{"UserPrincipalName", "userPrincipalName", laText},
	{"UserDisplayName", "userDisplayName", laText},
	{"AppId", "appId", laText},
	{"AppDisplayName", "appDisplayName", laText},
	{"ResourceDisplayName", "resourceDisplayName", laText},
	{"IPAddress", "ipAddress", laText},
	{"ClientAppUsed", "clientAppUsed", laText},
	{"UserAgent", "userAgent", laText},
	{"CorrelationId", "correlationId", laText},
	{"SessionId", "sessionId", laText},
	{"ConditionalAccessStatus", "conditionalAccessStatus", laText},
	{"IsInteractive", "isInteractive", laBool},
	{"RiskLevelDuringSignIn", "riskLevelDuringSignIn", laText},
	{"RiskState", "riskState", laText},
	{"CrossTenantAccessType", "crossTenantAccessType", laText},
	{"AuthenticationProtocol", "authenticationProtocol", laText},
	{"AuthenticationRequirement", "authenticationRequirement", laText},
	{"ServicePrincipalId", "servicePrincipalId", laText},
	{"ManagedIdentityType", "managedIdentityType", laText},
	{"Status", "status", laJSON},
	{"DeviceDetail", "deviceDetail", laJSON},
	{"LocationDetails", "location", laJSON},
	{"MfaDetail", "mfaDetail", laJSON},
	{"AuthenticationDetails", "authenticationDetails", laJSON},
	{"ConditionalAccessPolicies", "appliedConditionalAccessPolicies", laJSON},
	{"AuthenticationRequirementPolicies", "authenticationRequirementPolicies", laJSON},
}

// laKeys are the laRow keys of laColumns, in their order.
var laKeys = func() []string {
	keys := make([]string, len(laColumns))
	for i, c := range laColumns {
		keys[i] = strings.ToLower(c.name)
	}
	return keys
}()

// laRow is one record of a Log Analytics export: its cells by column name
// in lower case, without a " [UTC]" suffix; a JSON record's values that
// are not strings are kept as their JSON text.
type laRow map[string]string

// get returns the first non-empty of the named cells, each read from its
// "_dynamic" twin when empty.
func (r laRow) get(names ...string) string {
	for _, n := range names {
		if v := r[n]; v != "" {
			return v
		}
		if v := r[n+"_dynamic"]; v != "" {
			return v
		}
	}
	return ""
}

// readEntraLogAnalytics reads sign-ins exported from Log Analytics or
// Microsoft Sentinel: CSV with a header row, or JSON (an array of objects,
// or one per line) keyed by column name.
func readEntraLogAnalytics(r io.Reader, s *sink) error {
	lr := newLineReader(r)
	if c, err := lr.skipSpace(); err == nil && (c == '[' || c == '{') {
		return jsonEvents(lr.br, s, []string{"value"}, func(raw []byte) (insights.Event, string, string) {
			row, why := laJSONRow(raw)
			if why != "" {
				return insights.Event{}, "", why
			}
			return laEvent(row)
		})
	}
	t, err := newCSVTable(lr.br)
	if t == nil || err != nil {
		return err
	}
	names := make([]string, len(t.names))
	for i, n := range t.names {
		names[i] = laName(n)
	}
	if !slices.Contains(names, "resulttype") && !slices.Contains(names, "status") {
		return fmt.Errorf("%w: line 1: no \"ResultType\" or \"Status\" column", ErrMalformed)
	}
	return t.each(s, func(line int, cells []string) error {
		row := make(laRow, len(cells))
		for i, v := range cells {
			if v = strings.TrimSpace(v); v != "" && row[names[i]] == "" {
				row[names[i]] = v
			}
		}
		ev, id, why := laEvent(row)
		if why != "" {
			s.skip(line, why)
			return nil
		}
		return s.add(line, ev, id, rowBytes(cells))
	})
}

// laName is a column name as laRow keys it: "TimeGenerated [UTC]" →
// "timegenerated".
func laName(n string) string {
	n = strings.ToLower(strings.TrimSpace(n))
	if i := strings.LastIndex(n, " ["); i > 0 && strings.HasSuffix(n, "]") {
		n = n[:i]
	}
	return n
}

// laJSONRow reads one JSON record of a Log Analytics export.
func laJSONRow(raw []byte) (laRow, string) {
	var obj map[string]json.RawMessage
	if why := decodeRecord(raw, &obj); why != "" {
		return nil, why
	}
	row := make(laRow, len(obj))
	for k, v := range obj {
		var str string
		if len(v) > 0 && v[0] == '"' {
			if json.Unmarshal(v, &str) != nil {
				return nil, k + ": not a JSON string"
			}
		} else if string(v) != "null" {
			str = string(v)
		}
		if n := laName(k); str != "" && row[n] == "" {
			row[n] = strings.TrimSpace(str)
		}
	}
	return row, ""
}

// laEvent maps a row through the Graph signIn it describes and returns
// its request id, or says why it cannot.
func laEvent(row laRow) (insights.Event, string, string) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range laColumns {
		v := row.get(laKeys[i])
		if v == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(c.graph))
		b.WriteByte(':')
		switch c.kind {
		case laJSON:
			raw := []byte(v)
			if !json.Valid(raw) || (v[0] != '{' && v[0] != '[') {
				return insights.Event{}, "", c.name + ": not a JSON object or array"
			}
			if field, bad := invalidJSONText(raw); bad {
				return insights.Event{}, "", c.name + "." + field + ": " + notUTF8
			}
			b.WriteString(v)
		case laBool:
			bv, err := strconv.ParseBool(v)
			if err != nil {
				return insights.Event{}, "", c.name + ": " + strconv.Quote(cut(v, 20)) + " is not true or false"
			}
			b.WriteString(strconv.FormatBool(bv))
		default:
			q, _ := json.Marshal(v)
			b.Write(q)
		}
	}
	b.WriteByte('}')
	g := graphSignIn{}
	if why := decodeRecord(b.Bytes(), &g); why != "" {
		return insights.Event{}, "", why
	}
	if !g.Status.ErrorCode.Set {
		if code := row.get("resulttype"); code != "" {
			n, err := strconv.Atoi(code)
			if err != nil {
				return insights.Event{}, "", fmt.Sprintf("ResultType: %q is not a number", cut(code, 20))
			}
			g.Status.ErrorCode = flexInt{V: n, Set: true}
		}
	}
	if !g.Status.ErrorCode.Set {
		return insights.Event{}, "", "no ResultType and no Status.errorCode"
	}
	g.Location.CountryOrRegion = cmp.Or(g.Location.CountryOrRegion, row.get("location"))
	g.CreatedDateTime, g.timeField = row.get("createddatetime"), "CreatedDateTime"
	if g.CreatedDateTime == "" {
		g.CreatedDateTime, g.timeField = row.get("timegenerated"), "TimeGenerated"
	}
	if g.CreatedDateTime == "" && len(g.AuthenticationDetails) > 0 {
		g.CreatedDateTime, g.timeField = g.AuthenticationDetails[0].AuthenticationStepDateTime, "authenticationDetails[0].authenticationStepDateTime"
	}
	if g.CreatedDateTime == "" {
		g.timeField = "TimeGenerated"
	}
	sit, known := categoryType(row.get("category"))
	if !known {
		sit, known = categoryType(row.get("type"))
	}
	if !known && row.get("category", "type") != "" {
		return insights.Event{}, "", "Category " + strconv.Quote(cut(row.get("category", "type"), 64)) + " is not a sign-in log"
	}
	ev, why := g.event(sit)
	return ev, g.ID, why
}
