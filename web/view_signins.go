package web

import (
	"context"
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
		{name: "user", label: "User key starts with"},
		{name: "ip", label: "IP address or CIDR"},
		{name: "requestId", label: "Request id"},
		{name: "correlationId", label: "Correlation id"},
		{name: "clientApp", label: "Client app", dim: insights.DimClientApp},
		{name: "ca", label: "Conditional access", options: []string{"success", "failure", "notApplied"}, dim: insights.DimConditionalAccess},
	},
	hidden: []string{"cursor"},
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
	Entries []entryView
	Next    string // the next (older) page, "" at the end
	First   string // the first page, when this one is not
}

// entryView is one sign-in: N numbers its details panel.
type entryView struct {
	N        int
	E        insights.LogEntry
	Time     string
	Location string
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
	if u := s.own.Get("user"); u != "" {
		fs = append(fs, insights.Prefix(insights.DimUser, u))
	}
	if ip := s.own.Get("ip"); strings.Contains(ip, "/") {
		fs = append(fs, insights.CIDR(ip))
	} else if ip != "" {
		fs = append(fs, insights.Eq(insights.DimIP, ip))
	}
	q, lq, err := logList(s, fs)
	if err != nil {
		return err
	}
	page, err := h.eng.SignIns(ctx, lq)
	if err != nil {
		return err
	}
	d := &signInsData{Zone: h.eng.Zone().String(), Query: "api/signins?" + q.Encode(), CSV: "api/signins?" + csvQuery(q, "cursor").Encode()}
	for i, e := range page.Entries {
		loc := strings.Join(nonEmpty(e.City, e.State, e.Country), ", ")
		d.Entries = append(d.Entries, entryView{N: i, E: e, Time: e.Time.Format("2006-01-02 15:04:05"), Location: loc})
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
