package web

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
	// lists are parameters of its own the filter bar does not draw, which
	// choose what the view shows, not what it counts: a form's checkboxes
	// repeat them. Links to the view with another range keep them.
	lists  []listParam
	panels []panel
	// unscoped views do not take the filter bar's dimensions (OS,
	// country, ...): what they show carries none.
	unscoped bool
	// content fills what the view shows besides its panels: tiles, lists.
	content func(h *handler, ctx context.Context, v view, s scope, perms Permissions, d *pageData) error
}

// viewParam is a parameter of a view's own: a select of options, or
// without them of the most frequent values of dim in the range (labeled as
// the dimension's values are, or by optionLabel), or a text input; or,
// when tab, a value the view draws as tabs, which the filter bar keeps in
// a hidden field.
type viewParam struct {
	name, label string
	options     []string
	dim         insights.Dimension
	optionLabel func(string) string
	tab         bool
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
	names := slices.Clone(v.hidden)
	for _, l := range v.lists {
		names = append(names, l.name)
	}
	for _, p := range v.own {
		names = append(names, p.name)
	}
	return names
}

// listParam is a view's parameter whose values are read joined by commas,
// and rewritten by canon ("": as if absent), which rejects bad ones.
type listParam struct {
	name  string
	canon func(string) (string, error)
}

// joinLists joins the values of v's list parameters in given, before
// parseScope, which takes one value a parameter.
func (v view) joinLists(given url.Values) {
	for _, l := range v.lists {
		if len(given[l.name]) > 1 {
			given[l.name] = []string{strings.Join(given[l.name], ",")}
		}
	}
}

// canonLists rewrites the values of v's list parameters in s.own.
func (v view) canonLists(s scope) error {
	for _, l := range v.lists {
		c, err := l.canon(s.own.Get(l.name))
		if err != nil {
			return err
		}
		s.own.Del(l.name)
		if c != "" {
			s.own.Set(l.name, c)
		}
	}
	return nil
}

// kept returns the values of v's list parameters in s: what links to v
// with another range keep.
func (v view) kept(s scope) url.Values {
	out := url.Values{}
	for _, l := range v.lists {
		if c := s.own.Get(l.name); c != "" {
			out.Set(l.name, c)
		}
	}
	return out
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
	Risk          *riskData
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
	Hidden   []inputData // the view's tabs, kept when the bar is applied
	Ranges   []navItem
}

type selectData struct {
	Name, Label string
	Options     []option
}

type option struct {
	Value, Label string
	Selected     bool
}

type inputData struct{ Name, Label, Value string }

// servePage answers GET /<slug>: the view's page, or the page with the
// error in place of its content (status 400 for bad parameters) under a
// filter bar that can fix it.
func (h *handler) servePage(v view) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		data := h.newPage(v)
		given := r.URL.Query()
		v.joinLists(given)
		s, err := parseScope(given, h.today(), v.dims(), v.params())
		if err == nil {
			err = v.canonLists(s)
		}
		if err == nil {
			err = h.fillPage(r, v, s, permsOf(r), data)
		}
		if err == nil {
			return h.writePage(w, r, v, data, http.StatusOK, &s)
		}
		he := classify(err)
		if he.status == http.StatusInternalServerError && h.onError != nil {
			h.onError(r, err)
		}
		form := data.Form
		if form == nil {
			form = rangeForm(v, r.URL.Query(), h.today())
		}
		data = h.newPage(v)
		data.Form, data.Error = form, he.msg
		return h.writePage(w, r, v, data, he.status, nil)
	}
}

// forbiddenPage answers a request for v without v's permission: a page
// that says so, and leads to the views the request may see.
func (h *handler) forbiddenPage(v view) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		data := h.newPage(v)
		data.Error = "You may not open " + v.title + ": it needs the " + v.perm.String() +
			" permission, which your account does not have. Ask an administrator, or open one of the views above."
		return h.writePage(w, r, v, data, http.StatusForbidden, nil)
	}
}

// newPage returns the page data every page of v has.
func (h *handler) newPage(v view) *pageData {
	return &pageData{Title: v.title, Zone: h.eng.Zone().String(), Today: h.today().String()}
}

// writePage answers the page of v with status, its navigation listing
// the views r may see, with s's range and filters when s is not nil.
func (h *handler) writePage(w http.ResponseWriter, r *http.Request, v view, data *pageData, status int, s *scope) error {
	for _, o := range views {
		if permsOf(r).Has(o.perm) {
			href := o.slug
			if s != nil {
				q := s.link(o)
				if o.slug == v.slug {
					maps.Copy(q, v.kept(*s))
				}
				href += "?" + q.Encode()
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

// rangeForm is the filter bar of a page whose parameters are wrong: the
// range as given, to correct, and the usual ranges.
func rangeForm(v view, given url.Values, today insights.Date) *formData {
	return &formData{From: truncate(given.Get("from")), To: truncate(given.Get("to")), Ranges: ranges(v, url.Values{}, today, insights.Date{})}
}

// ranges returns the links to the last 7, 30 and 90 days ending today,
// with the parameters of q; the one whose range starts on from is current.
func ranges(v view, q url.Values, today, from insights.Date) []navItem {
	var out []navItem
	for _, n := range []int{7, 30, 90} {
		start := today.AddDays(1 - n)
		q.Set("from", start.String())
		q.Set("to", today.String())
		out = append(out, navItem{Title: "Last " + strconv.Itoa(n) + " days", Href: v.slug + "?" + q.Encode(), Current: from == start})
	}
	return out
}

// fillPage computes the filter bar and the view's content for scope s.
func (h *handler) fillPage(r *http.Request, v view, s scope, perms Permissions, data *pageData) error {
	ctx := r.Context()
	f := &formData{From: s.from.String(), To: s.last().String()}
	for _, d := range v.dims() {
		vals, err := h.choices(ctx, s, d.dim, s.values[d.param])
		if err != nil {
			return err
		}
		f.Selects = append(f.Selects, selectData{Name: d.param, Label: d.label, Options: options(vals, s.values[d.param], func(v string) string { return label(d.dim, v) })})
	}
	for _, p := range v.own {
		vals, sel := p.options, s.own.Get(p.name)
		if p.tab {
			if sel != "" {
				f.Hidden = append(f.Hidden, inputData{Name: p.name, Value: sel})
			}
			continue
		}
		if p.dim != 0 && p.options == nil {
			var err error
			if vals, err = h.choices(ctx, s, p.dim, sel); err != nil {
				return err
			}
		}
		if vals != nil {
			name := p.optionLabel
			if name == nil {
				name = func(v string) string { return label(p.dim, v) }
			}
			f.Selects = append(f.Selects, selectData{Name: p.name, Label: p.label, Options: options(vals, sel, name)})
		} else {
			f.Inputs = append(f.Inputs, inputData{Name: p.name, Label: p.label, Value: sel})
		}
	}
	var from insights.Date
	if s.last() == s.today {
		from = s.from
	}
	f.Ranges = ranges(v, s.query(v.kept(s)), s.today, from)
	data.Form = f
	for _, p := range v.panels {
		pv, err := h.runPanel(ctx, p, s, perms)
		if err != nil {
			return err
		}
		data.Panels = append(data.Panels, pv)
	}
	if v.content != nil {
		return v.content(h, ctx, v, s, perms, data)
	}
	return nil
}

// options marks the selected value among vals, each labeled by name.
func options(vals []string, selected string, name func(string) string) []option {
	out := make([]option, len(vals))
	for i, v := range vals {
		out[i] = option{Value: v, Label: name(v), Selected: v == selected}
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
