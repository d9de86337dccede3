package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/insightslab/insights"
)

// newFlagSet returns the flag set of a subcommand, silent: parse reports
// its errors.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("insights "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args into fs. With -h it writes the usage to stdout and
// reports done. Arguments left after the flags are an error unless
// positional names them ("FILE..."), which usage shows too.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer, synopsis string) (done bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s %s\n\nflags:\n", fs.Name(), synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return true, nil
	}
	if err != nil {
		return false, badInput("%v (run '%s -h' for usage)", err, fs.Name())
	}
	return false, nil
}

// noArgs fails when fs has arguments left after its flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q: flags come before arguments", fs.Arg(0))
	}
	return nil
}

// required fails unless every named flag was given.
func required(fs *flag.FlagSet, names ...string) error {
	seen := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { seen[f.Name] = true })
	for _, n := range names {
		if !seen[n] {
			return badInput("flag -%s is required (run '%s -h' for usage)", n, fs.Name())
		}
	}
	return nil
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// plain is err's message without the library's sentinel prefix, for a
// flag error that names the flag already.
func plain(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), insights.ErrInvalidQuery.Error()+": ", ""))
}

// dateValue is a YYYY-MM-DD flag.
type dateValue insights.Date

func (v *dateValue) String() string { return insights.Date(*v).String() }

func (v *dateValue) Set(s string) error {
	d, err := insights.ParseDate(s)
	if err != nil {
		return errors.New("not a date YYYY-MM-DD")
	}
	*v = dateValue(d)
	return nil
}

// filterValue is a filter expression flag (insights.ParseFilter).
type filterValue insights.Filter

func (v *filterValue) String() string {
	if f := insights.Filter(*v); !f.IsAll() {
		return f.String()
	}
	return ""
}

func (v *filterValue) Set(s string) error {
	f, err := insights.ParseFilter(s)
	if err != nil {
		return plain(err)
	}
	*v = filterValue(f)
	return nil
}

// metricValue is a metric name flag.
type metricValue insights.Metric

func (v *metricValue) String() string {
	if *v == 0 {
		return ""
	}
	return insights.Metric(*v).String()
}

func (v *metricValue) Set(s string) error {
	m, err := insights.ParseMetric(s)
	if err != nil {
		names := make([]string, 0, len(insights.Metrics()))
		for _, m := range insights.Metrics() {
			names = append(names, m.String())
		}
		return fmt.Errorf("unknown metric; the metrics are %s", strings.Join(names, ", "))
	}
	*v = metricValue(m)
	return nil
}

// granularityValue is a granularity flag.
type granularityValue insights.Granularity

func (v *granularityValue) String() string { return insights.Granularity(*v).String() }

func (v *granularityValue) Set(s string) error {
	g, err := insights.ParseGranularity(s)
	if err != nil {
		return errors.New("not day, week, month or total")
	}
	*v = granularityValue(g)
	return nil
}

// dimsValue is a comma-separated list of dimensions.
type dimsValue []insights.Dimension

func (v *dimsValue) String() string {
	names := make([]string, len(*v))
	for i, d := range *v {
		names[i] = d.String()
	}
	return strings.Join(names, ",")
}

func (v *dimsValue) Set(s string) error {
	var ds []insights.Dimension
	for name := range strings.SplitSeq(s, ",") {
		d, err := insights.ParseDimension(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("unknown dimension %q ('insights help' lists them)", name)
		}
		ds = append(ds, d)
	}
	*v = ds
	return nil
}

// zoneValue is an IANA time zone flag.
type zoneValue string

func (v *zoneValue) String() string { return string(*v) }

func (v *zoneValue) Set(s string) error {
	if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
		return errors.New("not an IANA time zone such as UTC or Europe/Paris")
	}
	*v = zoneValue(s)
	return nil
}

// choiceValue is a flag taking one of a few words.
type choiceValue struct {
	value   string
	choices []string
}

func newChoice(def string, choices ...string) *choiceValue {
	return &choiceValue{value: def, choices: choices}
}

func (v *choiceValue) String() string {
	if v == nil {
		return ""
	}
	return v.value
}

func (v *choiceValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("not one of %s", strings.Join(v.choices, ", "))
	}
	v.value = s
	return nil
}

// pageFlags are the paging and output flags of the listing commands:
// -limit, -cursor, -all, -format and -excel.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
	format *choiceValue
	excel  bool
}

// addPageFlags defines the listing flags on fs; what names the items
// ("matching sign-in").
func addPageFlags(fs *flag.FlagSet, what string) *pageFlags {
	p := &pageFlags{format: newChoice("table", "table", "csv", "json")}
	fs.IntVar(&p.limit, "limit", 100, fmt.Sprintf("the page size, 1 to %d", insights.MaxPageSize))
	fs.StringVar(&p.cursor, "cursor", "", "resume after an earlier page: the cursor it printed")
	fs.BoolVar(&p.all, "all", false, "list every "+what+", not one page")
	fs.Var(p.format, "format", "the output: table, csv or json (JSON lines)")
	fs.BoolVar(&p.excel, "excel", false, "with -format csv, write for Excel (byte order mark, CRLF)")
	return p
}

// check refuses -limit with -all, and a limit out of range.
func (p *pageFlags) check(fs *flag.FlagSet) error {
	if p.all && given(fs, "limit") {
		return badInput("-limit and -all exclude each other")
	}
	if p.limit < 1 || p.limit > insights.MaxPageSize {
		return badInput("-limit %d: want 1 to %d", p.limit, insights.MaxPageSize)
	}
	return nil
}
