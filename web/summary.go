package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/insightslab/insights"
)

// summaryView is what the methods view draws of Engine.SummarizeMethods:
// a tile per purpose and the users by registered method.
type summaryView struct {
	Query string // the /api/methods URL of the numbers (data-query), relative
	Users int    // users with a registered method
	List  string // the registration details of those users, "" when the viewer may not see it
	Tiles []tile
	Chart chart
	Rows  []tableRow // the chart's table: Groups[0] is the method
}

// tile is one purpose's counts, and its capable users' share of Users.
type tile struct {
	Key, Title string // Key is the purpose's JSON name in MethodsSummary
	Counts     insights.CapabilityCounts
	Share      string
	Hint       string // what capable means for the purpose
	// Registered, Enabled and Capable link to the registration details
	// of the users each counts; "" when the viewer may not see them.
	Registered, Enabled, Capable string
}

// methodsContent draws the summary of registration state under the
// handler's policy: current state, whatever the range.
func (h *handler) methodsContent(ctx context.Context, _ view, s scope, perms Permissions, d *pageData) error {
	sum, err := h.eng.SummarizeMethods(ctx, h.policy)
	if err != nil {
		return err
	}
	sv := &summaryView{Query: "api/methods", Users: sum.Users, Tiles: []tile{
		{Key: "mfa", Title: "Capable of MFA", Counts: sum.MFA, Share: share(sum.MFA.Capable, sum.Users),
			Hint: "registered an allowed MFA method, and MFA is enabled for them"},
		{Key: "sspr", Title: "Capable of SSPR", Counts: sum.SSPR, Share: share(sum.SSPR.Capable, sum.Users),
			Hint: "registered enough allowed reset methods, and SSPR is enabled for them"},
		{Key: "passwordless", Title: "Passwordless capable", Counts: sum.Passwordless, Share: share(sum.Passwordless.Capable, sum.Users),
			Hint: "registered a passwordless method"},
	}}
	if perms.Has(registrationsView.perm) {
		list := func(flag string) string {
			q := s.link(registrationsView)
			if flag != "" {
				q.Set("flag", flag)
			}
			return registrationsView.slug + "?" + q.Encode()
		}
		sv.List = list("")
		for i, t := range sv.Tiles {
			sv.Tiles[i].Registered, sv.Tiles[i].Capable = list(t.Key+"Registered"), list(t.Key+"Capable")
			if t.Key != "passwordless" { // passwordless has no enabled state
				sv.Tiles[i].Enabled = list(t.Key + "Enabled")
			}
		}
	}
	rows := make([]insights.Row, 0, len(sum.ByMethod))
	for m, n := range sum.ByMethod {
		rows = append(rows, insights.Row{Series: "users", Groups: []string{m}, Value: float64(n)})
	}
	slices.SortFunc(rows, func(a, b insights.Row) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Groups[0], b.Groups[0]))
	})
	if len(rows) == 0 {
		sv.Chart = chart{Width: chartW, Height: 60, Empty: true}
	} else {
		sv.Chart = barChart(rows, dimNames(insights.DimMethod), "users")
	}
	for _, r := range rows {
		sv.Rows = append(sv.Rows, tableRow{Series: r.Series, Groups: r.Groups, Value: formatValue(r.Value)})
	}
	d.Summary = sv
	return nil
}

// share returns n as a percentage of total, with one decimal.
func share(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// serveMethods answers GET /api/methods: insights.MethodsSummary under
// the handler's policy, as JSON. It takes no parameter.
func (h *handler) serveMethods(w http.ResponseWriter, r *http.Request) error {
	p := &params{v: r.URL.Query()}
	p.known(nil)
	if p.err != nil {
		return p.err
	}
	sum, err := h.eng.SummarizeMethods(r.Context(), h.policy)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}
