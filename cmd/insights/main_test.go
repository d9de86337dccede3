package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

// cmd runs the command line args in process.
func cmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// ok runs args and fails the test unless it exits 0; it returns stdout.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := cmd(t, args...)
	if r.code != exitOK {
		t.Fatalf("insights %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// sample is the path of one of the importers' sample files.
func sample(name string) string { return filepath.Join("..", "..", "importers", "testdata", name) }

func TestHelpListsSubcommandsMetricsAndDimensions(t *testing.T) {
	out := ok(t, "--help")
	golden(t, "help.golden", out)
	for _, want := range []string{"import", "signins", "conditionalAccessPolicies", "mfaMethod", "correlationId", "entra-csv", "monthly/summary"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if got := ok(t, "help"); got != out {
		t.Errorf("help and --help differ")
	}
}

func TestSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "query"}, {"query", "-h"}, {"query", "--help"}} {
		out := ok(t, args...)
		if !strings.HasPrefix(out, "usage: insights query -store DIR -metric METRIC") || !strings.Contains(out, "-granularity") {
			t.Errorf("%v: got\n%s", args, out)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain text stays", "Payroll – Zürich", "Payroll – Zürich"},
		{"escape sequence", "a\x1b[2Jb", "a\uFFFD[2Jb"},
		{"tab and newline", "a\tb\nc", "a\uFFFDb\uFFFDc"},
		{"C1 control and DEL", "a\u009bb\x7f", "a\uFFFDb\uFFFD"},
		{"bidi override", "invoice\u202efdp.exe", "invoice\uFFFDfdp.exe"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
	} {
		if got := sanitize(c.in); got != c.want {
			t.Errorf("%s: sanitize(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestProgressAtMostOncePerSecondAfterTheFirst(t *testing.T) {
	now := func() func() time.Time {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		n := 0
		return func() time.Time {
			n++
			return t0.Add(time.Duration(n) * 300 * time.Millisecond)
		}
	}()
	var w bytes.Buffer
	p := newProgress(&w, now) // starts at 0.3s
	for i := range 10 {       // updates at 0.6s, 0.9s, ... 3.3s
		p.update("big.csv", (i+1)*1000)
	}
	want := "importing big.csv: 4000 events so far (1s)\n" + // at 1.5s, the first a second after the start
		"importing big.csv: 8000 events so far (2s)\n" // at 2.7s; 3.3s is less than a second later
	if w.String() != want {
		t.Errorf("got\n%s\nwant\n%s", w.String(), want)
	}
}
