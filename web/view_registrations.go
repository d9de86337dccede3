package web

import (
	"context"
	"net/url"
	"strconv"

	"github.com/insightslab/insights"
)

// registrationsView is Entra's user registration details and its
// registration and reset events: the lists behind the methods view. They
// name people, hence ViewSignIns. The search (the start of a user key or
// display name, case ignored) and the method select apply to both lists, the capability to the users, action and status to the
// events.
var registrationsView = view{slug: "registrations", title: "Registrations and resets", perm: ViewSignIns, unscoped: true,
	content: (*handler).registrationsContent,
	own: []viewParam{
		{name: "user", label: "User or name starts with"},
		{name: "method", label: "Method", dim: insights.DimMethod},
		{name: "flag", label: "Capability (users)", options: flagNames(), optionLabel: flagLabel},
		{name: "action", label: "Action (events)", options: []string{insights.ActionRegistered, insights.ActionRemoved,
			insights.ActionPasswordReset, insights.ActionAccountUnlock}, dim: insights.DimAction},
		{name: "status", label: "Status (events)", options: []string{"success", "failure"}, dim: insights.DimStatus},
	},
	hidden: []string{"after", "cursor"},
}

// registrationsData is what the registration details template draws.
type registrationsData struct {
	Query, CSV  string // the /api/registrations URLs of the rows (data-query) and of them all as CSV
	Total       int    // users matching
	From, To    int    // the rows shown, 1-based
	Users       []registrationRow
	Next, First string // links to the following page and to the first one
}

// activityData is what the registration and reset events template draws.
type activityData struct {
	Zone        string
	Query, CSV  string // the /api/methodactivity URLs of the entries (data-query) and of them all as CSV
	Entries     []activityRow
	Next, First string
}

// activityRow is one registration or reset event.
type activityRow struct {
	E    insights.LogEntry
	Time string
}

// registrationsContent fills both lists for s through the same parsing
// as their API routes.
func (h *handler) registrationsContent(ctx context.Context, v view, s scope, _ Permissions, d *pageData) error {
	reg, err := h.registrationList(ctx, v, s)
	if err != nil {
		return err
	}
	act, err := h.activityList(ctx, v, s)
	if err != nil {
		return err
	}
	d.Registrations, d.Activity = reg, act
	return nil
}

// registrationList is a page of the registration details list.
func (h *handler) registrationList(ctx context.Context, v view, s scope) (*registrationsData, error) {
	q := url.Values{"limit": {strconv.Itoa(listPage)}}
	for _, k := range []string{"user", "method", "flag", "after"} {
		if val := s.own.Get(k); val != "" {
			q.Set(k, val)
		}
	}
	rq, err := parseRegistrations(q, h.policy)
	if err != nil {
		return nil, err
	}
	page, _, err := h.registrations(ctx, rq)
	if err != nil {
		return nil, err
	}
	d := &registrationsData{Query: "api/registrations?" + q.Encode(), CSV: "api/registrations?" + csvQuery(q, "after").Encode(),
		Total: page.Total, From: page.first + 1, To: page.first + len(page.Users), Users: page.Users}
	d.Next, d.First = pagerLinks(v, s, "after", page.Next)
	return d, nil
}

// activityList is a page of the registration and reset events of s's range.
func (h *handler) activityList(ctx context.Context, v view, s scope) (*activityData, error) {
	var fs []insights.Filter
	for _, c := range []struct {
		param string
		dim   insights.Dimension
	}{{"method", insights.DimMethod}, {"action", insights.DimAction}, {"status", insights.DimStatus}} {
		if val := s.own.Get(c.param); val != "" {
			fs = append(fs, insights.Eq(c.dim, val))
		}
	}
	q, lq, err := logList(s, fs, s.own.Get("user"))
	if err != nil {
		return nil, err
	}
	page, err := h.eng.MethodActivity(ctx, lq)
	if err != nil {
		return nil, err
	}
	d := &activityData{Zone: h.eng.Zone().String(), Query: "api/methodactivity?" + q.Encode(),
		CSV: "api/methodactivity?" + csvQuery(q, "cursor").Encode()}
	for _, e := range page.Entries {
		d.Entries = append(d.Entries, activityRow{E: e, Time: e.Time.Format("2006-01-02 15:04:05")})
	}
	d.Next, d.First = pagerLinks(v, s, "cursor", page.Next)
	return d, nil
}
