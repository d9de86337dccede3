package web

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// signInsView is Entra's sign-in log: newest first, filtered, each entry
// with a details panel (authentication steps, policies). It names people,
// hence ViewSignIns.
var signInsView = view{slug: "signins", title: "Sign-ins", perm: ViewSignIns, content: (*handler).signInsContent,
	own: []viewParam{
		{name: "type", label: "Sign-in type", tab: true, options: signInTypes},
		{name: "status", label: "Status", options: []string{"success", "failure", "interrupted"}, dim: insights.DimStatus},
		{name: "user", label: "User or name starts with"},
		{name: "ip", label: "IP address or CIDR"},
		{name: "requestId", label: "Request id"},
		{name: "correlationId", label: "Correlation id"},
		{name: "clientApp", label: "Client app", dim: insights.DimClientApp},
		{name: "ca", label: "Conditional access", options: []string{"success", "failure", "notApplied"}, dim: insights.DimConditionalAccess},
	},
	hidden: []string{"cursor"},
	lists:  []listParam{{"cols", canonColumns}},
}

// signInTypes are the sign-in log's tabs, as Entra's: the sign-in types.
var signInTypes = []string{insights.SignInInteractiveUser.String(), insights.SignInNonInteractiveUser.String(),
	insights.SignInServicePrincipal.String(), insights.SignInManagedIdentity.String()}

// signInTypeTitles are the tabs' titles.
var signInTypeTitles = []string{"Interactive user", "Non-interactive user", "Service principal", "Managed identity"}

// signInFilters are the sign-in log's own parameters that filter one
// dimension with an equality.
var signInFilters = []struct {
	param string
	dim   insights.Dimension
}{
	{"type", insights.DimSignInType}, {"status", insights.DimStatus}, {"requestId", insights.DimRequestID},
	{"correlationId", insights.DimCorrelationID}, {"clientApp", insights.DimClientApp}, {"ca", insights.DimConditionalAccess},
}

// signInsData is what the sign-in log template draws.
type signInsData struct {
	Zone    string
	Query   string    // the /api/signins URL of the entries (data-query), relative
	CSV     string    // every matching sign-in as CSV
	Tabs    []navItem // the sign-in types, and all
	Columns []columnView
	Shown   []columnView // the table's columns
	Default string       // the page with the default columns, when it has others
	Entries []entryView
	Next    string // the next (older) page, "" at the end
	First   string // the first page, when this one is not
}

// entryView is one sign-in: N numbers its details panel; Cells are its
// texts in the shown columns.
type entryView struct {
	N        int
	E        insights.LogEntry
	Time     string
	Location string
	Cells    []cellView
}

// columnView is a column of the column picker.
type columnView struct {
	Name, Title string
	Shown       bool
}

// cellView is one cell of a sign-in's row: its column's name and text.
type cellView struct{ Col, Text string }

// signInColumn is a column of the sign-in table: its name in the cols
// parameter, its heading, whether it shows by default, and its text (the
// date and the user cells are drawn with links and markup of their own).
type signInColumn struct {
	name, title string
	def         bool
	text        func(entryView) string
}

// signInColumns are the sign-in table's columns, in the table's order,
// Entra's that the log has. The date, which opens the details panel, is
// always shown: the picker does not list it.
var signInColumns = []signInColumn{
	{"date", "Date", true, func(v entryView) string { return v.Time }},
	{"requestId", "Request id", false, func(v entryView) string { return v.E.RequestID }},
	{"correlationId", "Correlation id", false, func(v entryView) string { return v.E.CorrelationID }},
	{"user", "User", true, func(v entryView) string { return v.E.UserKey }},
	{"app", "Application", true, func(v entryView) string { return v.E.AppName }},
	{"appId", "Application id", false, func(v entryView) string { return v.E.AppID }},
	{"resource", "Resource", false, func(v entryView) string { return v.E.Resource }},
	{"status", "Status", true, func(v entryView) string {
		if v.E.ErrorCode != 0 {
			return v.E.Status.String() + " (" + strconv.Itoa(v.E.ErrorCode) + ")"
		}
		return v.E.Status.String()
	}},
	{"reason", "Failure reason", false, func(v entryView) string { return v.E.Reason }},
	{"type", "Sign-in type", false, func(v entryView) string { return v.E.SignInType.String() }},
	{"ip", "IP address", true, func(v entryView) string { return v.E.IP }},
	{"location", "Location", true, func(v entryView) string { return v.Location }},
	{"os", "OS", true, func(v entryView) string { return v.E.OS }},
	{"browser", "Browser", false, func(v entryView) string { return v.E.Browser }},
	{"deviceId", "Device id", false, func(v entryView) string { return v.E.DeviceID }},
	{"clientApp", "Client app", true, func(v entryView) string { return v.E.ClientApp }},
	{"idp", "Identity provider", false, func(v entryView) string { return v.E.IdentityProvider }},
	{"authFlow", "Authentication flow", false, func(v entryView) string { return v.E.AuthFlow }},
	{"requirement", "Authentication", true, func(v entryView) string {
		if v.E.AuthRequirement == insights.RequirementMultiFactor {
			return "multi-factor"
		}
		return "single-factor"
	}},
	{"primary", "Primary method", false, func(v entryView) string { return v.E.PrimaryMethod }},
	{"mfaMethod", "MFA method", false, func(v entryView) string { return v.E.MFAMethod }},
	{"mfaResult", "MFA result", false, func(v entryView) string { return v.E.MFAResult }},
	{"ca", "Conditional access", true, func(v entryView) string { return v.E.ConditionalAccess }},
	{"riskLevel", "Risk level", false, func(v entryView) string { return v.E.RiskLevel }},
	{"computedRisk", "Computed risk", false, func(v entryView) string { return riskLabel(v.E.ComputedRisk) }},
	{"riskState", "Risk state", false, func(v entryView) string { return v.E.RiskState }},
	{"crossTenant", "Cross-tenant access", false, func(v entryView) string { return v.E.CrossTenant }},
	{"language", "Language", false, func(v entryView) string { return v.E.Language }},
	{"userAgent", "User agent", false, func(v entryView) string { return v.E.UserAgent }},
	{"sessionId", "Session id", false, func(v entryView) string { return v.E.SessionID }},
}

// chosenColumns returns the columns the cols parameter names, comma
// separated, in the table's order, the date first; the default ones when
// it names none.
func chosenColumns(cols string) ([]signInColumn, error) {
	names := strings.FieldsFunc(cols, func(r rune) bool { return r == ',' })
	var known []string
	for _, c := range signInColumns[1:] {
		known = append(known, c.name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, badRequest("column %q: want some of %s", truncate(n), strings.Join(known, ", "))
		}
	}
	var out []signInColumn
	for i, c := range signInColumns {
		if i == 0 || len(names) == 0 && c.def || slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// canonColumns is the cols parameter's canon: the columns it names, in
// the table's order, without the date; "" for the default ones.
func canonColumns(cols string) (string, error) {
	chosen, err := chosenColumns(cols)
	if err != nil {
		return "", err
	}
	var names, defaults []string
	for _, c := range signInColumns[1:] {
		if slices.ContainsFunc(chosen, func(x signInColumn) bool { return x.name == c.name }) {
			names = append(names, c.name)
		}
		if c.def {
			defaults = append(defaults, c.name)
		}
	}
	if slices.Equal(names, defaults) {
		return "", nil
	}
	return strings.Join(names, ","), nil
}

// signInsContent lists a page of the sign-in log for s through the same
// parsing as /api/signins.
func (h *handler) signInsContent(ctx context.Context, v view, s scope, _ Permissions, data *pageData) error {
	fs := []insights.Filter{}
	for _, c := range signInFilters {
		if val := s.own.Get(c.param); val != "" {
			fs = append(fs, insights.Eq(c.dim, val))
		}
	}
	if ip := s.own.Get("ip"); strings.Contains(ip, "/") {
		fs = append(fs, insights.CIDR(ip))
	} else if ip != "" {
		fs = append(fs, insights.Eq(insights.DimIP, ip))
	}
	cols, err := chosenColumns(s.own.Get("cols"))
	if err != nil {
		return err
	}
	q, lq, err := logList(s, fs, s.own.Get("user"))
	if err != nil {
		return err
	}
	page, err := h.eng.SignIns(ctx, lq)
	if err != nil {
		return err
	}
	d := &signInsData{Zone: h.eng.Zone().String(), Query: "api/signins?" + q.Encode(), CSV: "api/signins?" + csvQuery(q, "cursor").Encode()}
	for _, c := range cols {
		d.Shown = append(d.Shown, columnView{Name: c.name, Title: c.title, Shown: true})
	}
	for _, c := range signInColumns[1:] {
		shown := slices.ContainsFunc(cols, func(x signInColumn) bool { return x.name == c.name })
		d.Columns = append(d.Columns, columnView{Name: c.name, Title: c.title, Shown: shown})
	}
	if s.own.Has("cols") {
		q := withOwn(s, nil)
		q.Del("cursor")
		q.Del("cols")
		d.Default = v.slug + "?" + q.Encode()
	}
	for i, e := range page.Entries {
		loc := strings.Join(nonEmpty(e.City, e.State, e.Country), ", ")
		ev := entryView{N: i, E: e, Time: e.Time.Format("2006-01-02 15:04:05"), Location: loc}
		for _, c := range cols {
			ev.Cells = append(ev.Cells, cellView{Col: c.name, Text: c.text(ev)})
		}
		d.Entries = append(d.Entries, ev)
	}
	d.Next, d.First = pagerLinks(v, s, "cursor", page.Next)
	for i, t := range append([]string{""}, signInTypes...) {
		q := withOwn(s, nil)
		q.Del("cursor")
		q.Del("type")
		title := "All"
		if t != "" {
			q.Set("type", t)
			title = signInTypeTitles[i-1]
		}
		d.Tabs = append(d.Tabs, navItem{Title: title, Href: v.slug + "?" + q.Encode(), Current: s.own.Get("type") == t})
	}
	data.SignIns = d
	return nil
}

// nonEmpty returns the non-empty strings of ss.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
