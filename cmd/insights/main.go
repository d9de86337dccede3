// Command insights imports identity logs into an insights store, queries
// its metrics, lists its sign-in log and exports its events (SPEC §11).
//
//	insights import --store DIR --format entra-csv signins.csv
//	insights query --store DIR --metric activeUsers --from 2023-09-01 --to 2023-10-01 --granularity month --by appName
//	insights signins --store DIR --filter 'status = failure' --limit 20
//	insights export --store DIR > events.jsonl
//	insights risks --store DIR --type bruteForce,mfaFatigue --level high
//	insights risks --store DIR --users --state atRisk
//	insights risk-state --store DIR --user alice --state dismissed
//
// Run "insights help" for the subcommands, metrics and dimensions, and
// "insights help SUBCOMMAND" for one subcommand's flags. Flags come
// before a subcommand's file arguments.
//
// # Stores
//
// import creates its store on first use, in UTC unless -zone names
// another; init creates one without importing. The zone is fixed at
// creation: -zone with another zone is an error. A directory that holds
// other files is never made a store. risk-state and rescan need an
// existing store and open it for writing (an administrator's decision is
// an event of the log; a rescan rewrites detections). The other
// subcommands (query, signins, export, risks) need an existing store and
// open it read-only: they
// write nothing in its directory, not even a LOCK file, so a store on a
// read-only mount, a backup or another user's store can be read; they
// fail while a writer (an import, a service) has the store open. import streams each file through
// importers.Read into Engine.AddCount and prints, per file, the records
// read, the events imported (new to the store), those already present
// (same request id) and the records skipped, with the first reasons and
// line numbers. A file whose records were all skipped fails. import stops
// at the first file that fails, keeping what it imported into an existing
// store; a store the failed import created is removed. Request ids make
// importing a file twice change nothing, so a failed import can simply be
// run again. An import that takes more than a second prints a progress
// line on stderr at most every second.
//
// # Exit codes
//
// 0 when the command did what it was asked; 1 for bad input, with a
// message naming the flag, the file or the line at fault (an unknown
// flag, a bad date or filter, an unknown metric, a missing or malformed
// file, a file of which nothing could be imported, a store path that is
// not a directory, a store opened with another zone); 2 for anything else: a corrupt
// store, an I/O error, a store locked by another process, an interrupt.
//
// # Output
//
// What a subcommand was asked for (a table, CSV, JSON, an import summary)
// goes to stdout; warnings, progress, errors and the next page's cursor
// ("next page: -cursor C", for signins and risks without -all) go to stderr, so that
// stdout can be piped to a file or a tool. Table output is meant for a terminal:
// control characters (C0, DEL, C1), Unicode bidirectional controls and
// invalid UTF-8 in values are each shown as U+FFFD, since logs carry
// attacker-controlled strings. CSV and JSON output is data for tools and
// keeps values as they are (JSON escapes control characters; CSV
// neutralizes formulas, see package export).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	_ "time/tzdata" // zones for --zone on systems without a zone database

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK       = 0
	exitBadInput = 1
	exitInternal = 2
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are the subcommands, in the order help lists them.
var commands = []command{
	{"init", "create a store with its time zone", runInit},
	{"import", "import log files into a store", runImport},
	{"query", "compute a metric", runQuery},
	{"signins", "list the sign-in log, newest first", runSignIns},
	{"export", "write the event log as JSON lines or CSV", runExport},
	{"risks", "list risk detections, or with -users the risky users", runRisks},
	{"risk-state", "dismiss a risky user, or confirm them compromised", runRiskState},
	{"rescan", "rebuild the risk detections of a range from the log", runRescan},
	{"help", "show this help, or a subcommand's", nil},
}

// run runs the command line args (without the program name), writing to
// stdout and stderr, and returns the exit code. An interrupt cancels the
// work in progress; the store is still closed properly.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(args) == 0 {
		writeHelp(stderr)
		return exitBadInput
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 || rest[0] == "help" {
			writeHelp(stdout)
			return exitOK
		}
		name, rest = rest[0], []string{"-h"}
	}
	for _, c := range commands {
		if c.name == name && c.run != nil {
			return report(stderr, name, c.run(ctx, rest, stdout, stderr))
		}
	}
	fmt.Fprintf(stderr, "insights: unknown subcommand %q; run 'insights help'\n", sanitize(name))
	return exitBadInput
}

// report prints err, if any, and returns its exit code.
func report(stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "insights %s: %s\n", name, sanitizeLines(plain(err).Error()))
	return exitCode(err)
}

// inputError marks an error as the user's input being at fault.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// badInput returns an inputError with the message of fmt.Errorf.
func badInput(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

// exitCode classifies err: bad input or an internal error.
func exitCode(err error) int {
	var in inputError
	switch {
	case errors.Is(err, insights.ErrCorrupt):
		return exitInternal
	case errors.As(err, &in),
		errors.Is(err, insights.ErrInvalidQuery),
		errors.Is(err, insights.ErrInvalidEvent),
		errors.Is(err, importers.ErrMalformed),
		errors.Is(err, importers.ErrUnknownFormat):
		return exitBadInput
	}
	return exitInternal
}
