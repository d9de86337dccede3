package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// registrationParams are the parameters of /api/registrations.
var registrationParams = []string{"user", "method", "flag", "limit", "after", "format", "excel"}

// registrationFlag is a value of the flag parameter: a capability of a
// registration details row, held or not.
type registrationFlag struct {
	name string
	keep func(insights.RegistrationDetail) bool
}

// registrationFlags are the flag parameter's values, in the filter bar's
// order: <purpose><state> keeps the rows with the state,
// <purpose>Not<state> those without. Passwordless is enabled for every
// user, hence no passwordlessEnabled.
var registrationFlags = func() []registrationFlag {
	purposes := []struct {
		name string
		of   func(insights.RegistrationDetail) insights.MethodCapability
	}{
		{"mfa", func(d insights.RegistrationDetail) insights.MethodCapability { return d.MFA }},
		{"sspr", func(d insights.RegistrationDetail) insights.MethodCapability { return d.SSPR }},
		{"passwordless", func(d insights.RegistrationDetail) insights.MethodCapability { return d.Passwordless }},
	}
	states := []struct {
		name string
		of   func(insights.MethodCapability) bool
	}{
		{"Registered", func(c insights.MethodCapability) bool { return c.Registered }},
		{"Enabled", func(c insights.MethodCapability) bool { return c.Enabled }},
		{"Capable", func(c insights.MethodCapability) bool { return c.Capable }},
	}
	var fs []registrationFlag
	for _, p := range purposes {
		for _, st := range states {
			if p.name == "passwordless" && st.name == "Enabled" {
				continue
			}
			fs = append(fs,
				registrationFlag{p.name + st.name, func(d insights.RegistrationDetail) bool { return st.of(p.of(d)) }},
				registrationFlag{p.name + "Not" + st.name, func(d insights.RegistrationDetail) bool { return !st.of(p.of(d)) }})
		}
	}
	return fs
}()

// flagNames lists the flag parameter's values.
func flagNames() []string {
	names := make([]string, len(registrationFlags))
	for i, f := range registrationFlags {
		names[i] = f.name
	}
	return names
}

// registrationsRequest is a parsed /api/registrations request.
type registrationsRequest struct {
	query insights.RegistrationQuery
	limit int    // rows of a JSON page
	after string // the page starts after this user key
}

// parseRegistrations reads the parameters of /api/registrations: user
// (the start of a user key or display name, case ignored:
// RegistrationQuery.UserSearch), method (registered), flag (registrationFlags),
// limit (1 to insights.MaxPageSize, default 100), after (the next of a
// previous page), format and excel.
func parseRegistrations(v url.Values, policy *insights.MethodPolicy) (registrationsRequest, error) {
	p := &params{v: v}
	p.known(registrationParams)
	rq := registrationsRequest{limit: p.int("limit", 1, insights.MaxPageSize), after: p.str("after"),
		query: insights.RegistrationQuery{Policy: policy, UserSearch: p.str("user"), Method: p.str("method")}}
	if rq.limit == 0 {
		rq.limit = 100
	}
	if s := p.str("flag"); s != "" {
		i := slices.IndexFunc(registrationFlags, func(f registrationFlag) bool { return f.name == s })
		if i < 0 {
			p.fail(badRequest("flag %q: want one of %s", s, strings.Join(flagNames(), ", ")))
		} else {
			rq.query.Filter = registrationFlags[i].keep
		}
	}
	p.format()
	p.bool("excel")
	return rq, p.err
}

// registrationRow is a row of the registration details list with the
// user's display name (Engine.DisplayNames; "" when none is known).
type registrationRow struct {
	insights.RegistrationDetail
	DisplayName string `json:"displayName"`
}

// registrationPage is one page of the registration details list.
type registrationPage struct {
	Total int               `json:"total"` // rows matching, on every page
	Users []registrationRow `json:"users"` // by user key
	// Next is the after of the following page, "" on the last.
	Next string `json:"next,omitempty"`
	// first is the index of Users[0] among the matching rows.
	first int
}

// registrations returns the page of rq, display names included, and the
// rows from its first on. Cost: that of Engine.RegistrationDetails,
// whatever the page, and of the page's display names.
func (h *handler) registrations(ctx context.Context, rq registrationsRequest) (registrationPage, []insights.RegistrationDetail, error) {
	rows, err := h.eng.RegistrationDetails(ctx, rq.query)
	if err != nil {
		return registrationPage{}, nil, err
	}
	first := sort.Search(len(rows), func(i int) bool { return rows[i].UserKey > rq.after })
	end := min(first+rq.limit, len(rows))
	names, err := h.eng.DisplayNames(ctx, userKeys(rows[first:end]))
	if err != nil {
		return registrationPage{}, nil, err
	}
	page := registrationPage{Total: len(rows), Users: make([]registrationRow, 0, end-first), first: first}
	for _, r := range rows[first:end] {
		page.Users = append(page.Users, registrationRow{r, names[r.UserKey]})
	}
	if end < len(rows) {
		page.Next = rows[end-1].UserKey
	}
	return page, rows[first:], nil
}

// userKeys returns the user keys of rows.
func userKeys(rows []insights.RegistrationDetail) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.UserKey
	}
	return keys
}

// serveRegistrations answers GET /api/registrations: one page of the
// registration details list under the handler's policy as JSON
// (registrationPage), or with format=csv every matching row from after on
// with its display name (export.RegistrationsCSV).
func (h *handler) serveRegistrations(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	rq, err := parseRegistrations(v, h.policy)
	if err != nil {
		return err
	}
	page, rest, err := h.registrations(r.Context(), rq)
	if err != nil {
		return err
	}
	if v.Get("format") != "csv" {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	names, err := h.eng.DisplayNames(r.Context(), userKeys(rest))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := export.RegistrationsCSV(&buf, rest, names, csvOptions(v)); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="registrations.csv"`)
	writeBody(w, http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
