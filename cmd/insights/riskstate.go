package main

import (
	"context"
	"fmt"
	"io"

	"github.com/insightslab/insights"
)

// runRiskState records an administrator's decision on a user's risk:
// dismissed or confirmedCompromised. It opens the store for writing: the
// decision is an event in the store's log.
func runRiskState(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("risk-state")
	dir := fs.String("store", "", "the store's directory")
	user := fs.String("user", "", "the user's key")
	state := newChoice("", insights.RiskStateDismissed, insights.RiskStateConfirmedCompromised)
	fs.Var(state, "state", "the decision: dismissed (not a risk) or confirmedCompromised")
	if done, err := parse(fs, args, stdout, "-store DIR -user KEY -state dismissed|confirmedCompromised"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store", "user", "state"); err != nil {
		return err
	}
	if *user == "" {
		return badInput("-user: empty user key")
	}
	return withEngine(ctx, *dir, "", readWriteExisting, func(eng *engine) error {
		if err := eng.SetUserRiskState(ctx, *user, state.value); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "user %s: %s\n", sanitize(*user), state.value)
		return err
	})
}

// runRescan rebuilds the risk detections of a range of days from the
// event log, replacing what ingest computed there (after a change of the
// address lists or of thresholds, say). It opens the store for writing.
func runRescan(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("rescan")
	dir := fs.String("store", "", "the store's directory")
	var from, to insights.Date
	fs.Var((*dateValue)(&from), "from", "the first date, YYYY-MM-DD, in the store's zone")
	fs.Var((*dateValue)(&to), "to", "the date after the last, YYYY-MM-DD: the range is [from, to)")
	if done, err := parse(fs, args, stdout, "-store DIR -from DATE -to DATE"); done || err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := required(fs, "store", "from", "to"); err != nil {
		return err
	}
	if !from.Before(to) {
		return badInput("-from %s is not before -to %s", from, to)
	}
	return withEngine(ctx, *dir, "", readWriteExisting, func(eng *engine) error {
		if err := eng.RescanRisk(ctx, from, to); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "rescanned risk detections of %s to %s (exclusive)\n", from, to)
		return err
	})
}
