package web

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
)

// riskView is Entra's Identity Protection reports: risk detections over
// time, the detections with a detection's evidence sign-ins, and the
// risky users. They name people, hence ViewSignIns. Detections carry no
// application, OS or country: the view does not take the filter bar's
// dimensions. type, level and user filter the detections (user: an exact
// key); level, state and user the risky users (user: the start of a key
// or display name); the charts count every detection and risky user.
var riskView = view{slug: "risk", title: "Risk", perm: ViewSignIns, unscoped: true, content: (*handler).riskContent,
	panels: []panel{
		{title: "Risk detections", kind: columns, params: map[string]string{"metric": "riskDetections"},
			note: "Detections each day, by type and level (Password spray / High)."},
		{title: "Risk detections by type", kind: bars, params: map[string]string{"metric": "riskDetections", "granularity": "total"},
			note: "Detections of the range by type and level."},
		{title: "Risky users", kind: lines, params: map[string]string{"metric": "riskyUsers"},
			note: "Users by risk level and state at the end of each day: the highest level of their detections of the 30 days before not remediated."},
	},
	own: []viewParam{
		{name: "type", label: "Detection type", options: detectionTypeNames(), optionLabel: riskLabel},
		{name: "level", label: "Level", options: riskLevels, optionLabel: riskLabel},
		{name: "state", label: "User state", options: riskStates, optionLabel: riskLabel},
		{name: "user", label: "User"},
	},
	hidden: []string{"cursor", "ucursor", "detection"},
}

// maxEvidenceShown is how many of a detection's evidence sign-ins the
// page lists; the API link lists the rest.
const maxEvidenceShown = listPage

// riskData is what the risk template draws.
type riskData struct {
	Zone        string
	Query, CSV  string // the /api/detections URLs of the rows (data-query) and of them all as CSV
	Detections  []detectionRow
	Next, First string
	Evidence    *evidenceData // the chosen detection's, nil when none is chosen

	UsersQuery, UsersCSV  string // the /api/riskyusers URLs
	Users                 []riskyUserRow
	UsersNext, UsersFirst string
}

// detectionRow is one detection of the list.
type detectionRow struct {
	D                 insights.Detection
	Time              string
	Type, Level, User string // labels
	Href              string // the page with its evidence
	Current           bool   // its evidence is shown
}

// riskyUserRow is one risky user.
type riskyUserRow struct {
	U              insights.RiskyUser
	Level, State   string // labels
	Updated        string
	DetectionsHref string // the page with the user's detections
}

// evidenceData is a detection's evidence sign-ins.
type evidenceData struct {
	D        detectionRow
	Window   string
	Query    string // the /api/evidence URL of the entries listed
	Entries  []evidenceRow
	Shown    int // the ids asked for: at most maxEvidenceShown
	Total    int // the detection's evidence ids
	Missing  int // of those asked for, the entries erased or retired since
	Close    string
	NotFound bool // the detection is not on this page of the list
}

// evidenceRow is one evidence sign-in.
type evidenceRow struct {
	E              insights.LogEntry
	Time, Location string
}

// riskContent fills the detections list, the chosen detection's evidence
// and the risky users list for s, through the same parsing as the API.
func (h *handler) riskContent(ctx context.Context, v view, s scope, _ Permissions, data *pageData) error {
	d := &riskData{Zone: h.eng.Zone().String()}
	if err := h.detectionList(ctx, v, s, d); err != nil {
		return err
	}
	if err := h.riskyUserList(ctx, v, s, d); err != nil {
		return err
	}
	if id := s.own.Get("detection"); id != "" {
		ev, err := h.evidence(ctx, v, s, d, id)
		if err != nil {
			return err
		}
		d.Evidence = ev
	}
	data.Risk = d
	return nil
}

// detectionList is a page of the detections of s's range.
func (h *handler) detectionList(ctx context.Context, v view, s scope, d *riskData) error {
	q := url.Values{"from": {s.from.String()}, "to": {s.to.String()}, "limit": {strconv.Itoa(listPage)}}
	for _, k := range []string{"type", "level", "user", "cursor"} {
		if val := s.own.Get(k); val != "" {
			q.Set(k, val)
		}
	}
	dq, err := parseDetectionQuery(q)
	if err != nil {
		return err
	}
	page, err := h.eng.Detections(ctx, dq)
	if err != nil {
		return err
	}
	d.Query, d.CSV = "api/detections?"+q.Encode(), "api/detections?"+csvQuery(q, "cursor").Encode()
	for _, det := range page.Detections {
		d.Detections = append(d.Detections, detectionRow{D: det, Time: det.Time.In(h.eng.Zone()).Format("2006-01-02 15:04:05"),
			Type: riskLabel(string(det.Type)), Level: riskLabel(det.Level), User: det.UserKey,
			Href:    v.slug + "?" + withOwn(s, url.Values{"detection": {det.ID}}).Encode() + "#evidence",
			Current: det.ID == s.own.Get("detection")})
	}
	d.Next, d.First = pagerLinks(v, s, "cursor", page.Next)
	return nil
}

// riskyUserList is a page of the risky users; the range does not apply.
func (h *handler) riskyUserList(ctx context.Context, v view, s scope, d *riskData) error {
	q := url.Values{"limit": {strconv.Itoa(listPage)}}
	for _, k := range []string{"level", "state", "user"} {
		if val := s.own.Get(k); val != "" {
			q.Set(k, val)
		}
	}
	if c := s.own.Get("ucursor"); c != "" {
		q.Set("cursor", c)
	}
	uq, err := parseRiskyUserQuery(q)
	if err != nil {
		return err
	}
	page, err := h.eng.RiskyUsers(ctx, uq)
	if err != nil {
		return err
	}
	d.UsersQuery, d.UsersCSV = "api/riskyusers?"+q.Encode(), "api/riskyusers?"+csvQuery(q, "cursor").Encode()
	for _, u := range page.Users {
		link := s.query(url.Values{"user": {u.UserKey}})
		d.Users = append(d.Users, riskyUserRow{U: u, Level: riskLabel(u.Level), State: riskLabel(u.State),
			Updated: u.Updated.In(h.eng.Zone()).Format("2006-01-02 15:04:05"), DetectionsHref: v.slug + "?" + link.Encode()})
	}
	d.UsersNext, d.UsersFirst = pagerLinks(v, s, "ucursor", page.Next)
	return nil
}

// evidence returns the evidence sign-ins of the detection id, which must
// be on the page's list (the list's filters and cursor find it again).
func (h *handler) evidence(ctx context.Context, v view, s scope, d *riskData, id string) (*evidenceData, error) {
	back := withOwn(s, nil)
	back.Del("detection")
	ev := &evidenceData{Close: v.slug + "?" + back.Encode()}
	i := slices.IndexFunc(d.Detections, func(r detectionRow) bool { return r.D.ID == id })
	if i < 0 {
		ev.NotFound = true
		return ev, nil
	}
	ev.D = d.Detections[i]
	ev.Window = ev.D.D.WindowStart.In(h.eng.Zone()).Format("2006-01-02 15:04:05") + " to " +
		ev.D.D.WindowEnd.In(h.eng.Zone()).Format("2006-01-02 15:04:05")
	ids := ev.D.D.Evidence[:min(len(ev.D.D.Evidence), maxEvidenceShown)]
	ev.Shown, ev.Total = len(ids), len(ev.D.D.Evidence)
	if len(ids) == 0 {
		return ev, nil
	}
	entries, err := h.eng.EntriesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	ev.Query = "api/evidence?" + url.Values{"ids": {strings.Join(ids, ",")}}.Encode()
	ev.Missing = len(ids) - len(entries)
	for _, e := range entries {
		ev.Entries = append(ev.Entries, evidenceRow{E: e, Time: e.Time.Format("2006-01-02 15:04:05"),
			Location: strings.Join(nonEmpty(e.City, e.State, e.Country), ", ")})
	}
	return ev, nil
}
