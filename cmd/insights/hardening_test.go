package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to name in a new temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportSummarySaysWhatWasAlreadyPresent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	first := ok(t, "import", "-store", dir, "-format", "entra-csv", sample("entra.csv"))
	if !strings.Contains(first, "read 10, imported 8, already present 0, skipped 2") {
		t.Errorf("first import:\n%s", first)
	}
	again := ok(t, "import", "-store", dir, "-format", "entra-csv", sample("entra.csv"))
	if !strings.Contains(again, "read 10, imported 0, already present 8, skipped 2") {
		t.Errorf("second import:\n%s", again)
	}
}

func TestImportOfNothingFailsAndLeavesNoStore(t *testing.T) {
	bad := writeFile(t, "bad.jsonl", "{\"time\":\"2023-09-20T10:00:00Z\",\"kind\":\"login\",\"userKey\":\"u\"}\n")
	dir := filepath.Join(t.TempDir(), "store")
	r := cmd(t, "import", "-store", dir, "-format", "jsonl", bad)
	if r.code != exitBadInput || !strings.Contains(r.stderr, "none of the 1 records read was imported") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `line 1: unknown kind "login"; want one of signIn, signUp, userCreated`) {
		t.Errorf("the skip reason lacks the kinds:\n%s", r.stdout)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the new store is left behind: %v", err)
	}
	// A failure into an existing store keeps it.
	existing := smallStore(t)
	if r := cmd(t, "import", "-store", existing, "-format", "jsonl", bad); r.code != exitBadInput {
		t.Errorf("existing store: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	ok(t, "signins", "-store", existing)
	// So does a failure on a malformed file into a new path.
	notJSON := writeFile(t, "okta.json", "[\n{oops}\n]\n")
	if r := cmd(t, "import", "-store", dir, "-format", "okta", notJSON); r.code != exitBadInput {
		t.Errorf("malformed: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the new store is left behind after a malformed file: %v", err)
	}
}

func TestSmallerInputErrors(t *testing.T) {
	dir := smallStore(t)
	file := writeFile(t, "plain", "not a store")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"store is a file", []string{"signins", "-store", file}, "not a directory"},
		{"import into a file", []string{"import", "-store", file, "-format", "jsonl", sample("events.jsonl")}, "not a directory"},
		{"limit 0", []string{"signins", "-store", dir, "-limit", "0"}, "-limit 0: want 1 to 1000"},
		{"another zone", []string{"import", "-store", dir, "-zone", "Europe/Berlin", "-format", "jsonl", sample("events.jsonl")},
			`the store's zone is "UTC"; opened with "Europe/Berlin"`},
	} {
		r := cmd(t, c.args...)
		if r.code != exitBadInput || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, want %d and %q in stderr:\n%s", c.name, r.code, exitBadInput, c.want, r.stderr)
		}
	}
	if _, err := os.ReadFile(file); err != nil {
		t.Errorf("the file given as a store: %v", err)
	}
}

func TestHelpListsTheEventKinds(t *testing.T) {
	out := ok(t, "help")
	if !strings.Contains(out, "signIn, signUp, userCreated, userDeleted, mfa, registration, reset") {
		t.Errorf("help lacks the kinds:\n%s", out)
	}
}

func TestQueryJSONKeepsRetentionOffsetZero(t *testing.T) {
	dir := smallStore(t)
	out := ok(t, "query", "-store", dir, "-metric", "retention", "-from", "2023-09-18", "-to", "2023-09-25", "-format", "json")
	if !strings.Contains(out, `"offset":0,`) || !strings.Contains(out, `"offset":1,`) {
		t.Errorf("retention rows without their offset:\n%s", out)
	}
	out = ok(t, "query", "-store", dir, "-metric", "activeUsers", "-from", "2023-09-18", "-to", "2023-09-25", "-format", "json")
	if strings.Contains(out, `"offset"`) || !strings.Contains(out, `"value":0`) {
		t.Errorf("activeUsers: an offset, or no value 0:\n%s", out)
	}
}
