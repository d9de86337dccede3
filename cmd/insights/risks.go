package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/export"
)

// runRisks lists risk detections, newest first, or with -users the risky
// users: one page and the next page's cursor (on stderr), or with -all
// every one.
func runRisks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("risks")
	dir := fs.String("store", "", "the store's directory")
	users := fs.Bool("users", false, "list the risky users, highest level first, instead of the detections")
	var dq insights.DetectionQuery
	types := newList(detectionTypeNames()...)
	fs.Var(types, "type", "detections of these types, comma-separated: "+strings.Join(types.choices, ", "))
	levels := newList(insights.RiskLow, insights.RiskMedium, insights.RiskHigh)
	fs.Var(levels, "level", "these levels, comma-separated: low, medium, high")
	states := newList(riskStates()...)
	fs.Var(states, "state", "with -users, users in these states, comma-separated: "+strings.Join(states.choices, ", "))
	user := fs.String("user", "", "the detections of this user key; with -users, users whose key or display name starts with it, case ignored")
	fs.Var((*dateValue)(&dq.From), "from", "detections from this date, YYYY-MM-DD (default: the first kept)")
	fs.Var((*dateValue)(&dq.To), "to", "detections before this date, YYYY-MM-DD (default: after today)")
	pf := addPageFlags(fs, "match")
	if done, err := parse(fs, args, stdout, "-store DIR [-users] [-type T,...] [-level L,...] [-state S,...] [-user KEY] [-from DATE] [-to DATE] [-limit N | -all] [-cursor C] [-format F]"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	if err := pf.check(fs); err != nil {
		return err
	}
	for _, f := range []string{"type", "from", "to"} {
		if *users && given(fs, f) {
			return badInput("-%s lists detections: it does not go with -users", f)
		}
	}
	if !*users && given(fs, "state") {
		return badInput("-state needs -users")
	}
	if pf.all {
		pf.limit = insights.MaxPageSize
	}
	return withEngine(ctx, *dir, "", readOnly, func(eng *engine) error {
		var next string
		var err error
		if *users {
			uq := insights.RiskyUserQuery{Levels: levels.values, States: states.values, UserSearch: *user,
				Limit: pf.limit, Cursor: pf.cursor}
			next, err = listRiskyUsers(ctx, stdout, eng, uq, pf.all, pf.format.value, pf.excel)
		} else {
			for _, t := range types.values {
				dq.Types = append(dq.Types, insights.DetectionType(t))
			}
			dq.Levels, dq.UserKey, dq.Limit, dq.Cursor = levels.values, *user, pf.limit, pf.cursor
			next, err = listDetections(ctx, stdout, eng, dq, pf.all, pf.format.value, pf.excel)
		}
		if err == nil && next != "" {
			fmt.Fprintf(stderr, "next page: -cursor %s\n", next)
		}
		return err
	})
}

// listDetections writes one page of detections, or every one with all,
// and returns the next page's cursor.
func listDetections(ctx context.Context, w io.Writer, eng *engine, q insights.DetectionQuery, all bool, format string, excel bool) (string, error) {
	var src export.DetectionSource
	var next string
	if all {
		src = export.DetectionPages(ctx, eng.Detections, q)
	} else {
		page, err := eng.Detections(ctx, q)
		if err != nil {
			return "", err
		}
		src, next = export.DetectionList(page.Detections), page.Next
	}
	var err error
	switch format {
	case "csv":
		err = export.DetectionsCSV(w, src, &export.CSVOptions{Excel: excel})
	case "json":
		err = export.DetectionsJSON(w, src, nil)
	default:
		err = writeDetectionTable(w, src, eng.Zone().String())
	}
	return next, err
}

// listRiskyUsers writes one page of risky users, or every one with all,
// and returns the next page's cursor.
func listRiskyUsers(ctx context.Context, w io.Writer, eng *engine, q insights.RiskyUserQuery, all bool, format string, excel bool) (string, error) {
	var src export.RiskyUserSource
	var next string
	if all {
		src = export.RiskyUserPages(ctx, eng.RiskyUsers, q)
	} else {
		page, err := eng.RiskyUsers(ctx, q)
		if err != nil {
			return "", err
		}
		src, next = export.RiskyUserList(page.Users), page.Next
	}
	var err error
	switch format {
	case "csv":
		err = export.RiskyUsersCSV(w, src, &export.CSVOptions{Excel: excel})
	case "json":
		err = export.RiskyUsersJSON(w, src, nil)
	default:
		err = writeRiskyUserTable(w, src, eng.Zone().String())
	}
	return next, err
}

// writeDetectionTable writes detections as a table. The evidence column
// counts the sign-ins; -format json lists their ids.
func writeDetectionTable(w io.Writer, src export.DetectionSource, zone string) error {
	return writeRows(w, "risk detections, newest first; zone "+zone, src,
		[]string{"time", "type", "level", "user", "source", "evidence", "id", "rule"},
		func() []string {
			d := src.Detection()
			return []string{d.Time.Format("2006-01-02 15:04:05"), string(d.Type), d.Level, d.UserKey, d.Source,
				strconv.Itoa(len(d.Evidence)), d.ID, d.Rule}
		})
}

// writeRiskyUserTable writes risky users as a table.
func writeRiskyUserTable(w io.Writer, src export.RiskyUserSource, zone string) error {
	return writeRows(w, "risky users, highest level first; zone "+zone, src,
		[]string{"user", "name", "level", "state", "updated", "detections"},
		func() []string {
			u := src.RiskyUser()
			return []string{u.UserKey, u.DisplayName, u.Level, u.State, u.Updated.Format("2006-01-02 15:04:05"),
				strconv.Itoa(u.Detections)}
		})
}

// detectionTypeNames are the names of the detection types.
func detectionTypeNames() []string {
	var names []string
	for _, t := range insights.DetectionTypes() {
		names = append(names, string(t))
	}
	return names
}

// riskStates are the risky-user states.
func riskStates() []string {
	return []string{insights.RiskStateAtRisk, insights.RiskStateRemediated,
		insights.RiskStateDismissed, insights.RiskStateConfirmedCompromised}
}

// listValue is a flag taking a comma-separated list of some words.
type listValue struct {
	values  []string
	choices []string
}

func newList(choices ...string) *listValue { return &listValue{choices: choices} }

func (v *listValue) String() string {
	if v == nil {
		return ""
	}
	return strings.Join(v.values, ",")
}

func (v *listValue) Set(s string) error {
	var values []string
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		if !slices.Contains(v.choices, w) {
			return fmt.Errorf("%q is not one of %s", w, strings.Join(v.choices, ", "))
		}
		values = append(values, w)
	}
	v.values = values
	return nil
}
