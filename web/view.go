package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/insightslab/insights"
)

// view is one page of the dashboard: its charts and lists under the
// filter bar.
type view struct {
	slug   string // its path under the handler's root
	title  string
	perm   Permissions
	own    []viewParam // parameters of its own, drawn in the filter bar
	hidden []string    // parameters of its own the filter bar does not draw (cursors)
	panels []panel
	// unscoped views do not take the filter bar's dimensions (OS,
	// country, ...): what they show carries none.
	unscoped bool
	// content fills what the view shows besides its panels: tiles, lists.
	content func(h *handler, ctx context.Context, v view, s scope, d *pageData) error
}

// viewParam is a parameter of a view's own: a select of options, of the
// most frequent values of dim in the range when dim is set, or a text
// input.
type viewParam struct {
	name, label string
	options     []string
	dim         insights.Dimension
}

// dims returns the filter bar's dimensions the view takes.
func (v view) dims() []scopeDim {
	if v.unscoped {
		return nil
	}
	return scopeDims
}

// params returns the names of the view's own parameters.
func (v view) params() []string {
	names := append([]string(nil), v.hidden...)
	for _, p := range v.own {
		names = append(names, p.name)
	}
	return names
}

// pageData is what the page template draws: the content of one view
// (Summary, Panels, lists), or Error.
type pageData struct {
	Title         string
	Nav           []navItem
	Zone          string
	Today         string
	Form          *formData
	Summary       *summaryView
	Panels        []panelView
	SignIns       *signInsData
	Registrations *registrationsData
	Activity      *activityData
	Error         string
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
		s, err := parseScope(r.URL.Query(), h.today(), v.dims(), v.params())
		if err == nil {
			err = h.fillPage(r, v, s, perms, data)
		}
		status := http.StatusOK
		if err != nil {
			he := classify(err)
			if he.status == http.StatusInternalServerError && h.onError != nil {
				h.onError(r, err)
			}
			data = &pageData{Title: data.Title, Zone: data.Zone, Today: data.Today, Form: data.Form, Error: he.msg}
			status = he.status
		}
		for _, o := range views {
			if perms.Has(o.perm) {
				href := o.slug
				if err == nil {
					href += "?" + s.link(o).Encode()
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
	for _, d := range v.dims() {
		vals, err := h.choices(ctx, s, d.dim, s.values[d.param])
		if err != nil {
			return err
		}
		f.Selects = append(f.Selects, selectData{Name: d.param, Label: d.label, Options: options(vals, s.values[d.param])})
	}
	for _, p := range v.own {
		vals, sel := p.options, s.own.Get(p.name)
		if p.dim != 0 {
			var err error
			if vals, err = h.choices(ctx, s, p.dim, sel); err != nil {
				return err
			}
		}
		if vals != nil {
			f.Selects = append(f.Selects, selectData{Name: p.name, Label: p.label, Options: options(vals, sel)})
		} else {
			f.Inputs = append(f.Inputs, inputData{Name: p.name, Label: p.label, Value: sel})
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
	if v.content != nil {
		return v.content(h, ctx, v, s, data)
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
