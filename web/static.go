package web

import (
	"embed"
	"html/template"
	"net/http"
)

// assets holds the page templates, the style sheet and the script: the
// handler loads nothing from anywhere else.
//
//go:embed assets
var assets embed.FS

// templates are the parsed page templates. They are read-only after
// init; parsing can only fail on a broken build, which the tests catch.
var templates = template.Must(template.New("").Funcs(template.FuncMap{"f": fmtF}).
	ParseFS(assets, "assets/*.html"))

// staticTypes are the files /static/ serves and their content types.
var staticTypes = map[string]string{
	"app.css": "text/css; charset=utf-8",
	"app.js":  "text/javascript; charset=utf-8",
}

// serveStatic answers GET /static/{file} from the embedded assets.
func serveStatic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	ctype, ok := staticTypes[name]
	if !ok {
		return errorf(http.StatusNotFound, "no such file")
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, ctype, b)
	return nil
}
