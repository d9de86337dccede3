package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/internal/storetest"
)

// attackDay is the day of attackStore's attacks: two days ago, so that
// the users they target are risky now (a detection makes a user risky for
// 30 days after it, and the command's clock is the real one).
var attackDay = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)

// attackStore returns a store holding the jsonl sample and two brute
// forces on attackDay: on mallory, 12 wrong passwords in 6 minutes from
// one address from 14:00, then a success at 14:20 (high); on trudy, 11
// wrong passwords in 5 minutes from 16:00 and no success (medium).
func attackStore(t *testing.T) string {
	t.Helper()
	dir := smallStore(t)
	var b strings.Builder
	line := func(at time.Time, user string, code int, ip, id string) {
		fmt.Fprintf(&b, `{"time":%q,"kind":"signIn","userKey":%q,"appId":"portal","errorCode":%d,"ip":%q,"requestId":%q}`+"\n",
			at.Format(time.RFC3339), user, code, ip, id)
	}
	for i := range 12 {
		line(attackDay.Add(14*time.Hour+time.Duration(i)*30*time.Second), "mallory", 50126, "203.0.113.9", fmt.Sprint("brute-", i))
	}
	line(attackDay.Add(14*time.Hour+20*time.Minute), "mallory", 0, "203.0.113.9", "brute-12")
	for i := range 11 {
		line(attackDay.Add(16*time.Hour+time.Duration(i)*30*time.Second), "trudy", 50126, "198.51.100.99", fmt.Sprint("trudy-", i))
	}
	file := filepath.Join(t.TempDir(), "attack.jsonl")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", "-store", dir, "-format", "jsonl", file)
	return dir
}

// detectionsOf decodes the JSON lines of risks -format json.
func detectionsOf(t *testing.T, out string) []insights.Detection {
	t.Helper()
	var ds []insights.Detection
	for ln := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if ln == "" {
			continue
		}
		var d insights.Detection
		if err := json.Unmarshal([]byte(ln), &d); err != nil {
			t.Fatalf("%v: %s", err, ln)
		}
		ds = append(ds, d)
	}
	return ds
}

func TestRisksListsTheBruteForce(t *testing.T) {
	dir := attackStore(t)
	ds := detectionsOf(t, ok(t, "risks", "-store", dir, "-format", "json"))
	var brute []insights.Detection
	for _, d := range ds {
		if d.Type == insights.DetectBruteForce {
			brute = append(brute, d)
		}
	}
	// Newest first: trudy's, then mallory's.
	if len(brute) != 2 || brute[0].UserKey != "trudy" || brute[0].Level != insights.RiskMedium ||
		brute[1].UserKey != "mallory" || brute[1].Level != insights.RiskHigh || len(brute[1].Evidence) < 10 {
		t.Fatalf("brute-force detections %+v, want trudy's at medium then mallory's at high with its failures as evidence (all: %+v)", brute, ds)
	}
	// Filters: each either keeps it or leaves it out.
	day, next, prev := attackDay.Format(time.DateOnly), attackDay.AddDate(0, 0, 1).Format(time.DateOnly), attackDay.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-type", "bruteForce"}, 2},
		{[]string{"-type", "mfaFatigue,passwordSpray"}, 0},
		{[]string{"-type", "bruteForce", "-level", "high"}, 1},
		{[]string{"-type", "bruteForce", "-level", "low,medium"}, 1},
		{[]string{"-type", "bruteForce", "-level", "low"}, 0},
		{[]string{"-type", "bruteForce", "-user", "mallory"}, 1},
		{[]string{"-type", "bruteForce", "-user", "Mallory"}, 0},
		{[]string{"-type", "bruteForce", "-from", day, "-to", next}, 2},
		{[]string{"-type", "bruteForce", "-from", prev, "-to", day}, 0},
		{[]string{"-type", "bruteForce", "-from", next}, 0},
		{[]string{"-type", "bruteForce", "-to", day}, 0},
		{[]string{"-type", "bruteForce", "-all"}, 2},
	} {
		args := append([]string{"risks", "-store", dir, "-format", "json"}, c.args...)
		if got := detectionsOf(t, ok(t, args...)); len(got) != c.want {
			t.Errorf("%v: %d detections, want %d", c.args, len(got), c.want)
		}
	}
	table := ok(t, "risks", "-store", dir, "-type", "bruteForce")
	if !strings.Contains(table, "bruteForce") || !strings.Contains(table, "mallory") || !strings.HasPrefix(table, "risk detections, newest first; zone UTC\n") {
		t.Errorf("table:\n%s", table)
	}
	csv := ok(t, "risks", "-store", dir, "-type", "bruteForce", "-format", "csv", "-excel")
	if !strings.HasPrefix(csv, "\ufeffid,type,level,time,windowStart,windowEnd,userKey,source,rule,evidence\r\n") || !strings.Contains(csv, ",bruteForce,high,") {
		t.Errorf("csv:\n%s", csv)
	}
}

func TestRisksPages(t *testing.T) {
	dir := attackStore(t)
	all := detectionsOf(t, ok(t, "risks", "-store", dir, "-format", "json", "-all"))
	if len(all) < 2 {
		t.Fatalf("%d detections: too few to page", len(all))
	}
	r := cmd(t, "risks", "-store", dir, "-format", "json", "-limit", "1")
	cursor, found := strings.CutPrefix(strings.TrimSpace(r.stderr), "next page: -cursor ")
	if r.code != exitOK || !found {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	first := detectionsOf(t, r.stdout)
	rest := detectionsOf(t, ok(t, "risks", "-store", dir, "-format", "json", "-all", "-cursor", cursor))
	got := append(first, rest...)
	if len(got) != len(all) {
		t.Fatalf("a page and the rest: %d detections, all: %d", len(got), len(all))
	}
	for i := range all {
		if got[i].ID != all[i].ID {
			t.Fatalf("detection %d: %s, want %s", i, got[i].ID, all[i].ID)
		}
	}
}

func TestRiskStateDismissesAUser(t *testing.T) {
	dir := attackStore(t)
	users := func(args ...string) []insights.RiskyUser {
		out := ok(t, append([]string{"risks", "-store", dir, "-users", "-format", "json"}, args...)...)
		var us []insights.RiskyUser
		for ln := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			if ln == "" {
				continue
			}
			var u insights.RiskyUser
			if err := json.Unmarshal([]byte(ln), &u); err != nil {
				t.Fatal(err)
			}
			us = append(us, u)
		}
		return us
	}
	if us := users("-user", "MALL"); len(us) != 1 || us[0].UserKey != "mallory" || us[0].Level != insights.RiskHigh {
		t.Fatalf("risky users %+v, want mallory at high risk", us)
	}
	if out := ok(t, "risk-state", "-store", dir, "-user", "mallory", "-state", "dismissed"); out != "user mallory: dismissed\n" {
		t.Errorf("risk-state printed %q", out)
	}
	if us := users("-state", "dismissed"); len(us) != 1 || us[0].UserKey != "mallory" {
		t.Errorf("dismissed users %+v, want mallory", us)
	}
	if us := users("-state", "atRisk", "-user", "mallory"); len(us) != 0 {
		t.Errorf("mallory is still at risk: %+v", us)
	}
	table := ok(t, "risks", "-store", dir, "-users")
	if !strings.HasPrefix(table, "risky users, highest level first; zone UTC\n") || !strings.Contains(table, "dismissed") {
		t.Errorf("table:\n%s", table)
	}
}

// TestRisksLeavesTheStoreAsItWas: listing detections and risky users
// writes nothing; rescan and risk-state write.
func TestRisksLeavesTheStoreAsItWas(t *testing.T) {
	dir := attackStore(t)
	if err := os.Remove(filepath.Join(dir, "LOCK")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	before := storetest.Tree(t, dir)
	for _, args := range [][]string{
		{"risks", "-store", dir, "-all"},
		{"risks", "-store", dir, "-users", "-format", "csv"},
	} {
		ok(t, args...)
		if after := storetest.Tree(t, dir); !maps.Equal(before, after) {
			t.Fatalf("%v changed the store's directory", args)
		}
	}
	want := detectionsOf(t, ok(t, "risks", "-store", dir, "-format", "json", "-all"))
	from, to := attackDay.AddDate(0, 0, -30).Format(time.DateOnly), attackDay.AddDate(0, 0, 2).Format(time.DateOnly)
	if out := ok(t, "rescan", "-store", dir, "-from", from, "-to", to); !strings.Contains(out, from+" to "+to) {
		t.Errorf("rescan printed %q", out)
	}
	got := detectionsOf(t, ok(t, "risks", "-store", dir, "-format", "json", "-all"))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a rescan:\n%+v\nbefore:\n%+v", got, want)
	}
}
