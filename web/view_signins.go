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
		{name: "status", label: "Status", options: []string{"success", "failure", "interrupted"}},
		{name: "user", label: "User"},
		{name: "ip", label: "IP address or CIDR"},
	},
	hidden: []string{"cursor"},
}

// signInsData is what the sign-in log template draws.
type signInsData struct {
	Zone    string
	Query   string // the /api/signins URL of the entries (data-query), relative
	CSV     string // every matching sign-in as CSV
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
func (h *handler) signInsContent(ctx context.Context, v view, s scope, data *pageData) error {
	fs := []insights.Filter{}
	if st := s.own.Get("status"); st != "" {
		fs = append(fs, insights.Eq(insights.DimStatus, st))
	}
	if u := s.own.Get("user"); u != "" {
		fs = append(fs, insights.Eq(insights.DimUser, u))
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
