package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/insightslab/insights/internal/storetest"
)

// TestReadingLeavesTheStoreAsItWas runs every reading subcommand on a
// store: none may write in its directory, not even a LOCK file, so that a
// store on a read-only mount, in a backup or of another user can be read.
func TestReadingLeavesTheStoreAsItWas(t *testing.T) {
	dir := smallStore(t)
	// Events logged since the last checkpoint, which a writable open
	// would fold into a new one at Close.
	more := filepath.Join(t.TempDir(), "more.jsonl")
	if err := os.WriteFile(more, []byte(`{"time":"2023-09-20T10:00:00Z","kind":"signIn","userKey":"late","appId":"portal"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", "-store", dir, "-format", "jsonl", more)
	if err := os.Remove(filepath.Join(dir, "LOCK")); err != nil {
		t.Fatal(err) // as in a backup that left it out
	}
	before := storetest.Tree(t, dir)
	for _, args := range [][]string{
		{"query", "-store", dir, "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01"},
		{"signins", "-store", dir, "-all"},
		{"export", "-store", dir},
	} {
		out := ok(t, args...)
		if out == "" {
			t.Errorf("%s printed nothing", args[0])
		}
		if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
			t.Fatalf("%s changed the store's directory", args[0])
		}
	}
	if out := ok(t, "export", "-store", dir); !strings.Contains(out, `"late"`) {
		t.Errorf("export misses the event logged since the last checkpoint:\n%s", out)
	}

	empty := t.TempDir()
	r := cmd(t, "query", "-store", empty, "-metric", "activeUsers", "-from", "2023-09-01", "-to", "2023-10-01")
	if r.code != exitBadInput || !strings.Contains(r.stderr, "not an insights store") {
		t.Errorf("query on an empty directory: exit %d, %s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("query left %d files in an empty directory", len(entries))
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if r := cmd(t, "signins", "-store", missing); r.code != exitBadInput {
		t.Errorf("signins on a missing directory: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("signins created the missing directory: %v", err)
	}
}

// TestImportRefusesADirectoryOfOtherFiles: a directory that holds files
// but was never a store does not become one.
func TestImportRefusesADirectoryOfOtherFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := storetest.Tree(t, dir)
	r := cmd(t, "import", "-store", dir, "-format", "jsonl", sample("events.jsonl"))
	if r.code != exitBadInput || !strings.Contains(r.stderr, "not a store") || !strings.Contains(r.stderr, "notes.txt") {
		t.Errorf("import into a directory of other files: exit %d, %s", r.code, r.stderr)
	}
	if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
		t.Errorf("import wrote into a directory it refused")
	}
}
