package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
	"github.com/insightslab/insights/web"
)

var screenshots = flag.String("screenshots", "", "directory to write the views' screenshots to (default: a temporary one)")

// browserClock is the browser test's present, fixed so that screenshots
// are reproducible.
var browserClock = time.Date(2026, 3, 20, 16, 30, 0, 0, time.UTC)

var (
	panelRE    = regexp.MustCompile(`(?s)<section class="panel" data-query="([^"]*)">(.*?)</section>`)
	markRE     = regexp.MustCompile(`data-point="([^"]*)" data-value="([^"]*)"`)
	logRE      = regexp.MustCompile(`<section class="log" data-query="([^"]*)">`)
	entryRE    = regexp.MustCompile(`<tr data-entry="([^"]*)"`)
	tilesRE    = regexp.MustCompile(`<section class="tiles" data-query="([^"]*)">`)
	tileRE     = regexp.MustCompile(`<div class="tile" data-tile="(\w+)" data-registered="(\d+)" data-enabled="(\d+)" data-capable="(\d+)">`)
	usersRE    = regexp.MustCompile(`<div class="tile" data-tile="users" data-value="(\d+)">`)
	byMethodRE = regexp.MustCompile(`(?s)<section class="panel bymethod" data-summary="([^"]*)">(.*?)</section>`)
	regListRE  = regexp.MustCompile(`<section class="log registrations" data-query="([^"]*)">`)
	regRowRE   = regexp.MustCompile(`<tr data-user="([^"]*)">`)
	actListRE  = regexp.MustCompile(`<section class="log activity" data-query="([^"]*)">`)
	actRowRE   = regexp.MustCompile(`<tr data-activity="([^"]*)"`)
)

// TestBrowser serves generated sample data through the demo's
// authorization on loopback, loads each view in headless Chromium, checks
// that the rendered DOM's charts and sign-in rows hold the JSON API's
// numbers, and saves a screenshot of each view. Without chromium on PATH
// it skips, unless CI is set: then it fails.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not on PATH and CI is set: install it (Debian: apt-get install -y chromium)")
		}
		t.Skip("chromium is not on PATH: install it (Debian: apt-get install chromium) to run the browser test")
	}
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return browserClock }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := load(ctx, eng, generate(sampleConfig{users: 1500, days: 60, now: browserClock, seed: 1}, eng.Zone())); err != nil {
		t.Fatal(err)
	}
	const token = "browser-test-token"
	srv := httptest.NewServer(withLayoutCheck(web.Handler(eng, &web.Options{Authorize: demoAuthorize(token), Challenge: demoChallenge,
		MethodPolicy: demoPolicy(), OnError: func(_ *http.Request, err error) { t.Error(err) }})))
	defer srv.Close()
	api := func(path string) []byte {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s %v", path, res.StatusCode, b, err)
		}
		return b
	}
	// The browser authenticates as a person would, with the token as a
	// Basic password, here given in the URL the test alone sees.
	base := strings.Replace(srv.URL, "http://", "http://demo:"+token+"@", 1)
	detail := detailWithSteps(t, api("api/signins?limit=50"))

	views := []struct{ slug, fragment string }{{"users", ""}, {"authentications", ""}, {"mfa", ""}, {"methods", ""},
		{"signins", detail}, {"registrations", ""}, {"risk", bruteForceEvidence(t, api("api/detections?type=bruteForce&limit=1"))}}
	var wg sync.WaitGroup
	running := make(chan struct{}, 4) // browsers at once
	for _, w := range windows {
		for _, v := range views {
			wg.Go(func() {
				running <- struct{}{}
				defer func() { <-running }()
				url := base + "/" + v.slug + v.fragment
				png := filepath.Join(dir, "dashboard-"+v.slug+w.suffix+".png")
				dom, err := runChromium(ctx, chromium, w.size, "--dump-dom", url)
				if err != nil {
					t.Errorf("%s: %v", v.slug, err)
					return
				}
				checkLayout(t, v.slug+" at "+w.size, dom)
				switch v.slug {
				case "signins":
					checkSignIns(t, dom, api)
				case "registrations":
					checkRegistrations(t, dom, api)
				case "risk":
					checkRisk(t, dom, api)
					checkPanels(t, v.slug, dom, api, 3)
				case "methods":
					checkSummary(t, dom, api)
					checkPanels(t, v.slug, dom, api, 4)
				default:
					checkPanels(t, v.slug, dom, api, 4)
				}
				if w.suffix != "" && !slices.Contains(phoneShots, v.slug) {
					return
				}
				if _, err := runChromium(ctx, chromium, w.size, "--screenshot="+png, url); err != nil {
					t.Errorf("%s: %v", v.slug, err)
					return
				}
				if fi, err := os.Stat(png); err != nil || fi.Size() < 20_000 {
					t.Errorf("%s: screenshot %s missing or blank: %v", v.slug, png, err)
				}
			})
		}
	}
	wg.Wait()
	t.Logf("screenshots in %s", dir)
}

// windows are the browser's window sizes: a desktop's, then a phone's
// (whose screenshots are named with the suffix).
var windows = []struct{ size, suffix string }{{"1440,900", ""}, {"390,844", "-phone"}}

// phoneShots are the views whose phone screenshot is saved.
var phoneShots = []string{"users", "signins", "risk"}

// layoutScript runs in the page once it has loaded and writes what
// overflows into the body's data-layout attribute, for --dump-dom: every
// element whose box passes the viewport's right or left edge (but those
// inside a scrolling or clipping box, such as a wide table's), and every
// chart text cut by its chart's edge.
const layoutScript = `"use strict";
addEventListener("load", function () {
  var vw = document.documentElement.clientWidth, bad = [];
  function name(el) {
    return el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className : "") +
      " " + JSON.stringify((el.textContent || "").trim().slice(0, 40));
  }
  function clipped(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  }
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5) && !clipped(el)) {
      bad.push(name(el) + " spans " + Math.round(r.left) + " to " + Math.round(r.right) + " of " + vw);
    }
  });
  document.querySelectorAll("svg.chart text").forEach(function (el) {
    var r = el.getBoundingClientRect(), s = el.ownerSVGElement.getBoundingClientRect();
    if (r.left < s.left - 0.5 || r.right > s.right + 0.5) {
      bad.push("chart text " + name(el) + " cut by its chart's edge");
    }
  });
  document.body.setAttribute("data-layout", bad.length ? bad.slice(0, 8).join("; ") : "ok");
});
`

var layoutRE = regexp.MustCompile(`<body data-layout="([^"]*)"`)

// withLayoutCheck serves layoutScript beside h and adds it to h's pages.
// The script is a file of the same origin, as the pages' policy requires.
func withLayoutCheck(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /layout-check.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, layoutScript)
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		b := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			b = bytes.Replace(b, []byte("</head>"), []byte(`<script src="layout-check.js" defer></script></head>`), 1)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(b)
	}))
	return mux
}

// checkLayout fails unless the page's layout check ran and found nothing
// overflowing.
func checkLayout(t *testing.T, page, dom string) {
	m := layoutRE.FindStringSubmatch(dom)
	switch {
	case m == nil:
		t.Errorf("%s: the layout check did not run", page)
	case m[1] != "ok":
		t.Errorf("%s: overflows the viewport: %s", page, html.UnescapeString(m[1]))
	}
}

// runChromium runs headless Chromium on url with a private profile and a
// window of size ("width,height") and returns its standard output.
func runChromium(ctx context.Context, chromium, size, mode, url string) (string, error) {
	profile, err := os.MkdirTemp("", "insights-chromium-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(profile)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile, "--window-size="+size, mode, url)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("chromium %s: %v\n%s", mode, err, errOut.String())
	}
	return out.String(), nil
}

// checkPanels checks every chart of a view's DOM against /api/query; the
// view has at least min.
func checkPanels(t *testing.T, slug, dom string, api func(string) []byte, min int) {
	panels := panelRE.FindAllStringSubmatch(dom, -1)
	if len(panels) < min {
		t.Errorf("%s: %d charts in the DOM", slug, len(panels))
		return
	}
	for _, p := range panels {
		var res insights.Result
		if err := json.Unmarshal(api(html.UnescapeString(p[1])), &res); err != nil {
			t.Error(err)
			return
		}
		rows := map[string]float64{}
		for _, r := range res.Rows {
			rows[strings.Join(append([]string{r.Start.String(), r.Series}, r.Groups...), "|")] = r.Value
		}
		marks := markRE.FindAllStringSubmatch(p[2], -1)
		if len(marks) == 0 {
			t.Errorf("%s: a chart without marks: %s", slug, p[1])
		}
		for _, m := range marks {
			key := html.UnescapeString(m[1])
			v, err := strconv.ParseFloat(m[2], 64)
			if want, ok := rows[key]; !ok || err != nil || v != want {
				t.Errorf("%s: mark %q = %s in the browser, %v in the API", slug, key, m[2], want)
			}
		}
	}
}

// checkSignIns checks the sign-in rows of the DOM against /api/signins.
func checkSignIns(t *testing.T, dom string, api func(string) []byte) {
	m := logRE.FindStringSubmatch(dom)
	if m == nil {
		t.Error("signins: no sign-in log in the DOM")
		return
	}
	var page insights.LogPage
	if err := json.Unmarshal(api(html.UnescapeString(m[1])), &page); err != nil {
		t.Error(err)
		return
	}
	var got, want []string
	for _, e := range entryRE.FindAllStringSubmatch(dom, -1) {
		got = append(got, e[1])
	}
	for _, e := range page.Entries {
		want = append(want, e.ID)
	}
	if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("signins: rows %v in the browser, %v in the API", got, want)
	}
}

// detailWithSteps returns the fragment opening the details panel of the
// first sign-in of a page with an MFA step and policies, for the screenshot.
func detailWithSteps(t *testing.T, b []byte) string {
	var page insights.LogPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	for i, e := range page.Entries {
		if e.MFAMethod != "" && len(e.CAPolicies) > 1 {
			return "#d" + strconv.Itoa(i)
		}
	}
	return "#d0"
}

// checkSummary checks the methods view's tiles and users-by-method bars
// in the DOM against /api/methods.
func checkSummary(t *testing.T, dom string, api func(string) []byte) {
	m := tilesRE.FindStringSubmatch(dom)
	if m == nil {
		t.Error("methods: no tiles in the DOM")
		return
	}
	var sum insights.MethodsSummary
	if err := json.Unmarshal(api(html.UnescapeString(m[1])), &sum); err != nil {
		t.Error(err)
		return
	}
	if u := usersRE.FindStringSubmatch(dom); u == nil || u[1] != strconv.Itoa(sum.Users) || sum.Users == 0 {
		t.Errorf("methods: users tile %v, the API says %d", u, sum.Users)
	}
	want := map[string]insights.CapabilityCounts{"mfa": sum.MFA, "sspr": sum.SSPR, "passwordless": sum.Passwordless}
	tiles := tileRE.FindAllStringSubmatch(dom, -1)
	if len(tiles) != len(want) {
		t.Errorf("methods: %d tiles in the DOM", len(tiles))
	}
	for _, tl := range tiles {
		c := want[tl[1]]
		if tl[2] != strconv.Itoa(c.Registered) || tl[3] != strconv.Itoa(c.Enabled) || tl[4] != strconv.Itoa(c.Capable) {
			t.Errorf("methods: tile %s shows %v, the API says %+v", tl[1], tl[2:], c)
		}
	}
	bm := byMethodRE.FindStringSubmatch(dom)
	if bm == nil {
		t.Error("methods: no users-by-method chart in the DOM")
		return
	}
	marks := markRE.FindAllStringSubmatch(bm[2], -1)
	if len(marks) != len(sum.ByMethod) || len(marks) == 0 {
		t.Errorf("methods: %d bars for %d methods", len(marks), len(sum.ByMethod))
	}
	for _, mk := range marks {
		key := strings.Split(html.UnescapeString(mk[1]), "|")
		if n, ok := sum.ByMethod[key[len(key)-1]]; !ok || strconv.Itoa(n) != mk[2] {
			t.Errorf("methods: bar %q = %s in the browser, %d in the API", mk[1], mk[2], n)
		}
	}
}

// checkRegistrations checks the registration details rows and the
// registration and reset events of the DOM against their APIs.
func checkRegistrations(t *testing.T, dom string, api func(string) []byte) {
	lists := []struct {
		name      string
		list, row *regexp.Regexp
		keys      func([]byte) ([]string, error)
	}{
		{"registration details", regListRE, regRowRE, func(b []byte) ([]string, error) {
			var page struct {
				Total int                           `json:"total"`
				Users []insights.RegistrationDetail `json:"users"`
			}
			err := json.Unmarshal(b, &page)
			var keys []string
			for _, u := range page.Users {
				keys = append(keys, u.UserKey)
			}
			return keys, err
		}},
		{"registration and reset events", actListRE, actRowRE, func(b []byte) ([]string, error) {
			var page insights.LogPage
			err := json.Unmarshal(b, &page)
			var ids []string
			for _, e := range page.Entries {
				ids = append(ids, e.ID)
			}
			return ids, err
		}},
	}
	for _, l := range lists {
		m := l.list.FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("registrations: no %s in the DOM", l.name)
			continue
		}
		want, err := l.keys(api(html.UnescapeString(m[1])))
		if err != nil {
			t.Error(err)
			continue
		}
		var got []string
		for _, r := range l.row.FindAllStringSubmatch(dom, -1) {
			got = append(got, html.UnescapeString(r[1]))
		}
		if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("registrations: %s %v in the browser, %v in the API", l.name, got, want)
		}
	}
}

var (
	detListRE  = regexp.MustCompile(`<section class="log detections" data-query="([^"]*)">`)
	detRowRE   = regexp.MustCompile(`<tr data-detection="([^"]*)"`)
	evListRE   = regexp.MustCompile(`<section class="log evidence" id="evidence" data-query="([^"]*)">`)
	userListRE = regexp.MustCompile(`<section class="log riskyusers" data-query="([^"]*)">`)
	userRowRE  = regexp.MustCompile(`<tr data-user="([^"]*)" class="level-`)
)

// bruteForceEvidence returns the query of the risk view
// opening the evidence of the brute force the sample holds.
func bruteForceEvidence(t *testing.T, b []byte) string {
	var page insights.DetectionPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Detections) == 0 {
		t.Fatal("the sample has no brute-force detection")
	}
	return "?type=bruteForce&detection=" + url.QueryEscape(page.Detections[0].ID)
}

// checkRisk requires the risk view's three lists (the detections, the
// chosen detection's evidence sign-ins, the risky users) to show the rows
// of their API queries, in order.
func checkRisk(t *testing.T, dom string, api func(string) []byte) {
	var dets insights.DetectionPage
	var ev struct{ Entries []insights.LogEntry }
	var users insights.RiskyUserPage
	lists := []struct {
		name      string
		list, row *regexp.Regexp
		decode    func([]byte) error
		keys      func() []string
	}{
		{"detections", detListRE, detRowRE, func(b []byte) error { return json.Unmarshal(b, &dets) }, func() (k []string) {
			for _, d := range dets.Detections {
				k = append(k, d.ID)
			}
			return k
		}},
		{"evidence", evListRE, entryRE, func(b []byte) error { return json.Unmarshal(b, &ev) }, func() (k []string) {
			for _, e := range ev.Entries {
				k = append(k, e.ID)
			}
			return k
		}},
		{"risky users", userListRE, userRowRE, func(b []byte) error { return json.Unmarshal(b, &users) }, func() (k []string) {
			for _, u := range users.Users {
				k = append(k, u.UserKey)
			}
			return k
		}},
	}
	for _, l := range lists {
		m := l.list.FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("risk: no %s in the DOM", l.name)
			continue
		}
		if err := l.decode(api(html.UnescapeString(m[1]))); err != nil {
			t.Error(err)
			continue
		}
		want := l.keys()
		var got []string
		for _, r := range l.row.FindAllStringSubmatch(dom, -1) {
			got = append(got, html.UnescapeString(r[1]))
		}
		if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("risk: %s %v in the browser, %v in the API", l.name, got, want)
		}
	}
}
