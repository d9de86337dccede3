package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallStore returns a store holding the jsonl sample.
func smallStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	ok(t, "import", "-store", dir, "-format", "jsonl", sample("events.jsonl"))
	return dir
}

func TestBadInputExitsOneNamingWhatIsWrong(t *testing.T) {
	dir := smallStore(t)
	q := func(args ...string) []string {
		return append([]string{"query", "-store", dir, "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01"}, args...)
	}
	notJSON := filepath.Join(t.TempDir(), "okta.json")
	if err := os.WriteFile(notJSON, []byte("[\n{\"uuid\": \"a\"},\n{oops}\n]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"no subcommand", nil, []string{"usage: insights SUBCOMMAND"}},
		{"unknown subcommand", []string{"serve"}, []string{`unknown subcommand "serve"`}},
		{"unknown flag", q("-bogus"), []string{"-bogus"}},
		{"bad date", q("-from", "2023-02-30"), []string{"-from", "2023-02-30", "YYYY-MM-DD"}},
		{"from after to", q("-from", "2023-11-01"), []string{"from 2023-11-01 is not before to 2023-10-01"}},
		{"bad filter", q("-filter", "appId = portal and"), []string{"-filter", "at byte 18"}},
		{"unknown dimension in a filter", q("-filter", "app = portal"), []string{"-filter", "at byte 0", `"app"`}},
		{"unknown metric", []string{"query", "-store", dir, "-metric", "dau"}, []string{"-metric", `"dau"`, "unknown metric", "activeUsers"}},
		{"unknown group-by dimension", q("-by", "appName,planet"), []string{"-by", `"planet"`}},
		{"bad granularity", q("-granularity", "year"), []string{"-granularity", "day, week, month or total"}},
		{"missing flag", []string{"query", "-store", dir, "-from", "2023-09-01"}, []string{"-metric is required"}},
		{"stray argument", q("extra"), []string{`unexpected argument "extra"`}},
		{"graph without a collection", q("-format", "graph", "-granularity", "week"), []string{"-graph", "daily/activeUsers"}},
		{"no such store", []string{"signins", "-store", filepath.Join(t.TempDir(), "nowhere")}, []string{"no such store"}},
		{"another zone", []string{"init", "-store", dir, "-zone", "Europe/Paris"}, []string{"zone", "Europe/Paris"}},
		{"unknown zone", []string{"init", "-store", dir, "-zone", "Mars/Olympus"}, []string{"-zone", "Mars/Olympus"}},
		{"limit and all", []string{"signins", "-store", dir, "-all", "-limit", "5"}, []string{"-limit and -all"}},
		{"limit too large", []string{"signins", "-store", dir, "-limit", "5000"}, []string{"limit 5000"}},
		{"bad cursor", []string{"signins", "-store", dir, "-cursor", "xyz"}, []string{`cursor "xyz"`}},
		{"unknown import format", []string{"import", "-store", dir, "-format", "csv", sample("entra.csv")}, []string{"-format", "entra-csv"}},
		{"missing file", []string{"import", "-store", dir, "-format", "jsonl", "missing.jsonl"}, []string{"missing.jsonl", "no such file"}},
		{"no file", []string{"import", "-store", dir, "-format", "jsonl"}, []string{"no file to import"}},
		{"malformed file", []string{"import", "-store", dir, "-format", "okta", notJSON}, []string{notJSON, "malformed input: line "}},
		{"unknown detection type", []string{"risks", "-store", dir, "-type", "bruteForce,phishing"}, []string{"-type", `"phishing"`, "passwordSpray"}},
		{"unknown risk level", []string{"risks", "-store", dir, "-level", "severe"}, []string{"-level", `"severe"`, "low, medium, high"}},
		{"unknown risk state", []string{"risks", "-store", dir, "-users", "-state", "atrisk"}, []string{"-state", `"atrisk"`, "atRisk"}},
		{"state of detections", []string{"risks", "-store", dir, "-state", "atRisk"}, []string{"-state needs -users"}},
		{"type of risky users", []string{"risks", "-store", dir, "-users", "-type", "bruteForce"}, []string{"-type", "-users"}},
		{"risks limit and all", []string{"risks", "-store", dir, "-all", "-limit", "5"}, []string{"-limit and -all"}},
		{"risks limit too large", []string{"risks", "-store", dir, "-limit", "0"}, []string{"limit 0"}},
		{"risks stray argument", []string{"risks", "-store", dir, "alice"}, []string{`unexpected argument "alice"`}},
		{"risk-state without a state", []string{"risk-state", "-store", dir, "-user", "alice"}, []string{"-state is required"}},
		{"risk-state atRisk", []string{"risk-state", "-store", dir, "-user", "alice", "-state", "atRisk"}, []string{"-state", "dismissed, confirmedCompromised"}},
		{"risk-state empty user", []string{"risk-state", "-store", dir, "-user", "", "-state", "dismissed"}, []string{"-user: empty"}},
		{"risk-state on no store", []string{"risk-state", "-store", filepath.Join(t.TempDir(), "nowhere"), "-user", "a", "-state", "dismissed"}, []string{"no such store"}},
		{"rescan backwards", []string{"rescan", "-store", dir, "-from", "2023-10-01", "-to", "2023-09-01"}, []string{"-from 2023-10-01 is not before -to 2023-09-01"}},
		{"rescan without to", []string{"rescan", "-store", dir, "-from", "2023-10-01"}, []string{"-to is required"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cmd(t, c.args...)
			if r.code != exitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitBadInput, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestCorruptStoreExitsTwo: a damaged file is reported, naming it, by the
// command that reads the damaged part. A day segment is read in parts
// (store/FORMAT.md: each section, and the head, has its own checksum):
// active users read its head and active set, the sign-in log its event
// log, the latter half of the segment.
func TestCorruptStoreExitsTwo(t *testing.T) {
	query := []string{"query", "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01"}
	for _, c := range []struct {
		name    string
		file    string // under the store, see store/FORMAT.md
		corrupt func([]byte) []byte
		args    []string // the command, but -store
	}{
		{"truncated meta.json", "meta.json", func(b []byte) []byte { return b[:len(b)/2] }, query},
		{"a day segment with a flipped byte in its head", "days/2023-09-20", func(b []byte) []byte {
			b[8] ^= 0xff
			return b
		}, query},
		{"a day segment with a flipped byte in its log", "days/2023-09-20", func(b []byte) []byte {
			b[len(b)-len(b)/4] ^= 0xff
			return b
		}, []string{"signins", "-from", "2023-09-20", "-to", "2023-09-21"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := smallStore(t)
			path := filepath.Join(dir, c.file)
			if fi, err := os.Stat(path); err == nil && fi.IsDir() { // the day's one segment version
				ents, err := os.ReadDir(path)
				if err != nil || len(ents) != 1 {
					t.Fatalf("%s: %v, %d entries", path, err, len(ents))
				}
				path = filepath.Join(path, ents[0].Name())
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, c.corrupt(b), 0o600); err != nil {
				t.Fatal(err)
			}
			r := cmd(t, append([]string{c.args[0], "-store", dir}, c.args[1:]...)...)
			if r.code != exitInternal || !strings.Contains(r.stderr, "corrupt") || !strings.Contains(r.stderr, c.file) {
				t.Errorf("exit %d, want %d naming %s; stderr:\n%s", r.code, exitInternal, c.file, r.stderr)
			}
		})
	}
}

func TestTableShowsNoControlCharacters(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.jsonl")
	line := `{"time":"2023-09-20T09:00:00Z","kind":"signIn","userKey":"mallory\u001b[2J","appName":"Pay\u202eroll\tX","requestId":"r1"}` + "\n"
	if err := os.WriteFile(events, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	ok(t, "import", "-store", dir, "-format", "jsonl", events)
	out := ok(t, "signins", "-store", dir) +
		ok(t, "query", "-store", dir, "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01", "-by", "appName")
	if strings.ContainsAny(out, "\x1b\u202e\t") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	if !strings.Contains(out, "mallory\uFFFD[2J") || !strings.Contains(out, "Pay\uFFFDroll\uFFFDX") {
		t.Errorf("values are not shown with U+FFFD:\n%s", out)
	}
}
