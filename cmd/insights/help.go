package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// writeHelp writes the command's overview: subcommands, metrics,
// dimensions, formats.
func writeHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString("insights imports identity logs into a store, computes user insights, lists sign-ins.\n\n")
	b.WriteString("usage: insights SUBCOMMAND [flags] [FILE...]\n\nsubcommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s  %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'insights help SUBCOMMAND' (or 'insights SUBCOMMAND -h') for its flags.\n")
	b.WriteString("Exit codes: 0 done, 1 bad input, 2 internal error (corrupt store, I/O).\n")

	var metrics []string
	for _, m := range insights.Metrics() {
		metrics = append(metrics, m.String())
	}
	var indexed, logFields []string
	for _, d := range insights.Dimensions() {
		if d.Indexed() {
			indexed = append(indexed, d.String())
		} else {
			logFields = append(logFields, d.String())
		}
	}
	var kinds []string
	for k := insights.KindSignIn; k <= insights.KindRiskDecision; k++ {
		kinds = append(kinds, k.String())
	}
	var formats []string
	for _, f := range importFormats {
		formats = append(formats, string(f))
	}
	for _, l := range []struct {
		title string
		items []string
	}{
		{"metrics (query -metric)", metrics},
		{"dimensions (filters, query -by)", indexed},
		{"log fields (filters only)", logFields},
		{"event kinds (kind = signIn in filters; kind in the event format)", kinds},
		{"import formats (import -format)", formats},
		{"Graph collections (query -format graph -graph)", export.GraphCollections()},
		{"risk detection types (risks -type)", detectionTypeNames()},
	} {
		fmt.Fprintf(&b, "\n%s:\n%s", l.title, wrap(l.items, "  ", 80))
	}
	b.WriteString("\nfilters: appName = Payroll and (osFamily = iOS or not country in (US, FR)),\n" +
		"  osFamily prefix Win, ip in 198.51.100.0/24; quote values with spaces: appName = \"My app\".\n")
	io.WriteString(w, b.String())
}

// wrap lists items separated by ", " in lines of at most width bytes, each
// starting with indent.
func wrap(items []string, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		if len(line) > len(indent) && len(line)+1+len(it) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += it
	}
	b.WriteString(line + "\n")
	return b.String()
}
