package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// The Graph routes answer as Microsoft Graph does: an OData collection
// with its context, objects that carry an id, pages of $top objects
// linked by @odata.nextLink, $select, and errors as
// {"error":{"code","message"}}. export.Graph writes the objects; this
// file pages and annotates them.

// graphProperties are the properties of each collection's objects but id
// and factDate, as Graph's resource types document them: what $select
// may name.
var graphProperties = func() map[string][]string {
	inactive := map[string][]string{
		"daily":   {"inactive1DayCount", "inactive30DayCount", "inactive60DayCount", "inactive90DayCount"},
		"monthly": {"inactiveCalendarMonthCount", "inactive30DayCount", "inactive60DayCount", "inactive90DayCount"},
	}
	m := map[string][]string{
		"daily/userCount":  {"count"},
		"monthly/requests": {"requestCount"},
		"daily/mfaTelecomFraud": {"captchaFailureCount", "captchaNotTriggeredUserCount", "captchaShownUserCount",
			"captchaSuccessCount", "telecomBlockedUserCount"},
		"monthly/mfaRegisteredUsers": {"mfaType", "count"},
	}
	for _, period := range []string{"daily", "monthly"} {
		m[period+"/activeUsers"] = []string{"count"}
		m[period+"/authentications"] = []string{"appid", "country", "os", "attemptsCount", "successCount"}
		m[period+"/mfaCompletions"] = []string{"appId", "mfaMethod", "os", "attemptsCount", "successCount"}
		m[period+"/signUps"] = []string{"os", "count"}
		m[period+"/summary"] = []string{"appId", "os", "activeUsers", "authenticationCompletions", "authenticationRequests",
			"securityTextCompletions", "securityTextRequests", "securityVoiceCompletions", "securityVoiceRequests"}
		m[period+"/inactiveUsers"] = inactive[period]
		m[period+"/inactiveUsersByApplication"] = append([]string{"appId"}, inactive[period]...)
	}
	return m
}()

// incompleteAnnotation marks an object whose period contains the
// present (today's partial day, this month): an OData instance
// annotation, which clients that do not know it ignore.
const incompleteAnnotation = "@insights.incomplete"

// graphOptions are the query options of a page: $select (nil for every
// property), $top and $skiptoken (the offset of the page's first object,
// opaque to clients, who follow @odata.nextLink).
type graphOptions struct {
	sel       map[string]bool
	top, skip int
}

// parseSelect returns the properties $select names, matched without
// regard to case as Graph does, under their documented spelling; nil when
// s is empty.
func parseSelect(s string, props []string) (map[string]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	all := append([]string{"id", "factDate"}, props...)
	sel := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(p string) bool { return strings.EqualFold(p, name) })
		if i < 0 {
			return nil, badRequest("$select: unknown property %q; known: %s", name, strings.Join(all, ", "))
		}
		sel[all[i]] = true
	}
	return sel, nil
}

// graphProp is one property of an object, its value as JSON.
type graphProp struct {
	name  string
	value json.RawMessage
}

// graphObjects reads the objects of export.Graph's document, keeping the
// order of their properties.
func graphObjects(doc []byte) ([][]graphProp, error) {
	var d struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	objs := make([][]graphProp, 0, len(d.Value))
	for _, raw := range d.Value {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil { // {
			return nil, err
		}
		var obj []graphProp
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, err
			}
			p := graphProp{name: t.(string)}
			if err := dec.Decode(&p.value); err != nil {
				return nil, err
			}
			obj = append(obj, p)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// incompleteDates returns the factDates of the results' buckets that
// contain the present: a bucket's first day, or its month's for monthly
// results.
func incompleteDates(results []*insights.Result) map[string]bool {
	out := map[string]bool{}
	for _, res := range results {
		for _, r := range res.Rows {
			if !r.Incomplete {
				continue
			}
			d := r.Start
			if res.Query.Granularity == insights.Month {
				d = insights.NewDate(d.Year, d.Month, 1)
			}
			out[d.String()] = true
		}
	}
	return out
}

// graphID returns the id of an object of collection: a digest of the
// collection, its factDate and its other text properties (what it counts
// by), shaped as Graph's GUIDs. The same object has the same id in every
// answer.
func graphID(collection string, obj []graphProp) string {
	h := sha256.New()
	h.Write([]byte(collection))
	for _, p := range obj {
		if len(p.value) > 0 && p.value[0] == '"' {
			h.Write([]byte{0})
			h.Write([]byte(p.name))
			h.Write([]byte{0})
			h.Write(p.value)
		}
	}
	x := hex.EncodeToString(h.Sum(nil)[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// graphPage writes the page of objs that o asks for as an OData
// collection of r's collection, with the absolute link of the next page
// when there is one.
func graphPage(r *http.Request, collection string, objs [][]graphProp, incomplete map[string]bool, o graphOptions) []byte {
	base := graphBase(r)
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":` + jsonString(base+"$metadata#reports/userInsights/"+collection) + `,"value":[`)
	start, end := min(o.skip, len(objs)), min(o.skip+o.top, len(objs))
	for i, obj := range objs[start:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n{\"id\":" + jsonString(graphID(collection, obj)))
		var date string
		for _, p := range obj {
			if p.name == "factDate" {
				json.Unmarshal(p.value, &date)
			}
			if o.sel == nil || o.sel[p.name] {
				b.WriteString("," + jsonString(p.name) + ":")
				b.Write(p.value)
			}
		}
		if incomplete[date] {
			b.WriteString("," + jsonString(incompleteAnnotation) + ":true")
		}
		b.WriteByte('}')
	}
	b.WriteString("\n]")
	if end < len(objs) {
		q := url.Values{}
		for k, vs := range r.URL.Query() {
			q[k] = vs
		}
		q.Set("$skiptoken", strconv.Itoa(end))
		b.WriteString(`,"@odata.nextLink":` + jsonString(base+"reports/userInsights/"+collection+"?"+q.Encode()))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// graphBase returns the absolute URL of the handler's root as the client
// reached it: its scheme (https under TLS, or as X-Forwarded-Proto says
// when a proxy sets it to http or https), host and the path of the mount
// (what StripPrefix removed), with a final slash.
func graphBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	path := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.Path
	}
	prefix := strings.TrimSuffix(path, r.URL.Path)
	return scheme + "://" + r.Host + prefix + "/"
}

// jsonString returns s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
