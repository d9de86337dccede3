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
}

// methodsContent draws the summary of registration state under the
// handler's policy: current state, whatever the range.
func (h *handler) methodsContent(ctx context.Context, _ view, _ scope, d *pageData) error {
	sum, err := h.eng.SummarizeMethods(ctx, h.policy)
	if err != nil {
		return err
	}
	sv := &summaryView{Query: "api/methods", Users: sum.Users, Tiles: []tile{
		{"mfa", "Capable of MFA", sum.MFA, share(sum.MFA.Capable, sum.Users),
			"registered an allowed MFA method, and MFA is enabled for them"},
		{"sspr", "Capable of SSPR", sum.SSPR, share(sum.SSPR.Capable, sum.Users),
			"registered enough allowed reset methods, and SSPR is enabled for them"},
		{"passwordless", "Passwordless capable", sum.Passwordless, share(sum.Passwordless.Capable, sum.Users),
			"registered a passwordless method"},
	}}
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
		sv.Chart = barChart(rows, names{dims: []insights.Dimension{insights.DimMethod}}, "users")
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
