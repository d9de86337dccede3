package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
)

// view is one page of the dashboard: its charts, or for the sign-in log
// its list, under the filter bar.
type view struct {
	slug    string // its path under the handler's root
	title   string
	perm    Permissions
	own     []viewParam // parameters of its own, drawn in the filter bar
	hidden  []string    // parameters of its own the filter bar does not draw (a cursor)
	panels  []panel
	signIns bool // the view lists the sign-in log
}

// viewParam is a parameter of a view's own: a select of options, or a
// text input when options is nil.
type viewParam struct {
	name, label string
	options     []string
}

// params returns the names of the view's own parameters.
func (v view) params() []string {
	names := append([]string(nil), v.hidden...)
	for _, p := range v.own {
		names = append(names, p.name)
	}
	return names
}

// pageData is what the page template draws.
type pageData struct {
	Title   string
	Nav     []navItem
	Zone    string
	Today   string
	Form    *formData
	Panels  []panelView
	SignIns *signInsData
	Error   string
}

type navItem struct {
	Title, Href string
	Current     bool
}

// formData is the filter bar.
type formData struct {
	From, To string
	Selects  []selectData
	Inputs   []inputData
	Ranges   []navItem
}

type selectData struct {
	Name, Label string
	Options     []option
}

type option struct {
	Value    string
	Selected bool
}

type inputData struct{ Name, Label, Value string }

// servePage answers GET /<slug>: the view's page, or the page with the
// error in place of its content (status 400 for bad parameters).
func (h *handler) servePage(v view) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		perms := permsOf(r)
		data := &pageData{Title: v.title, Zone: h.eng.Zone().String(), Today: h.today().String()}
		s, err := parseScope(r.URL.Query(), h.today(), v.params())
		if err == nil {
			err = h.fillPage(r, v, s, perms, data)
		}
		status := http.StatusOK
		if err != nil {
			he := classify(err)
			if he.status == http.StatusInternalServerError && h.onError != nil {
				h.onError(r, err)
			}
			status, data.Error, data.Panels, data.SignIns = he.status, he.msg, nil, nil
		}
		for _, o := range views {
			if perms.Has(o.perm) {
				href := o.slug
				if err == nil {
					href += "?" + s.query(nil).Encode()
				}
				data.Nav = append(data.Nav, navItem{Title: o.title, Href: href, Current: o.slug == v.slug})
			}
		}
		var buf bytes.Buffer
		if err := templates.ExecuteTemplate(&buf, "page", data); err != nil {
			return err
		}
		writeBody(w, status, "text/html; charset=utf-8", buf.Bytes())
		return nil
	}
}

// fillPage computes the filter bar and the view's content for scope s.
func (h *handler) fillPage(r *http.Request, v view, s scope, perms Permissions, data *pageData) error {
	ctx := r.Context()
	f := &formData{From: s.from.String(), To: s.to.String()}
	for _, d := range scopeDims {
		vals, err := h.choices(ctx, s, d)
		if err != nil {
			return err
		}
		f.Selects = append(f.Selects, selectData{Name: d.param, Label: d.label, Options: options(vals, s.values[d.param])})
	}
	for _, p := range v.own {
		if p.options != nil {
			f.Selects = append(f.Selects, selectData{Name: p.name, Label: p.label, Options: options(p.options, s.own.Get(p.name))})
		} else {
			f.Inputs = append(f.Inputs, inputData{Name: p.name, Label: p.label, Value: s.own.Get(p.name)})
		}
	}
	end := s.today.AddDays(1)
	for _, n := range []int{7, 30, 90} {
		q := s.query(nil)
		q.Set("from", end.AddDays(-n).String())
		q.Set("to", end.String())
		f.Ranges = append(f.Ranges, navItem{Title: "Last " + strconv.Itoa(n) + " days", Href: v.slug + "?" + q.Encode(),
			Current: s.from == end.AddDays(-n) && s.to == end})
	}
	data.Form = f
	for _, p := range v.panels {
		pv, err := h.runPanel(ctx, p, s, perms)
		if err != nil {
			return err
		}
		data.Panels = append(data.Panels, pv)
	}
	if v.signIns {
		si, err := h.signIns(ctx, v, s)
		if err != nil {
			return err
		}
		data.SignIns = si
	}
	return nil
}

// options marks the selected value among vals.
func options(vals []string, selected string) []option {
	out := make([]option, len(vals))
	for i, v := range vals {
		out[i] = option{Value: v, Selected: v == selected}
	}
	return out
}

// withOwn returns the scope's query with the view's own parameters and extra.
func withOwn(s scope, extra url.Values) url.Values {
	q := s.query(s.own)
	for k, vs := range extra {
		q[k] = vs
	}
	return q
}
