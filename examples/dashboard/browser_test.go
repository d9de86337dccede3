package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	panelRE = regexp.MustCompile(`(?s)<section class="panel" data-query="([^"]*)">(.*?)</section>`)
	markRE  = regexp.MustCompile(`data-point="([^"]*)" data-value="([^"]*)"`)
	logRE   = regexp.MustCompile(`<section class="log" data-query="([^"]*)">`)
	entryRE = regexp.MustCompile(`<tr data-entry="([^"]*)"`)
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
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	eng, err := insights.Open(ctx, store.NewMemory(), &insights.Options{Zone: "Europe/Paris", Now: func() time.Time { return browserClock }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := addAll(ctx, eng, generate(sampleConfig{users: 1500, days: 60, now: browserClock, seed: 1}, eng.Zone())); err != nil {
		t.Fatal(err)
	}
	const token = "browser-test-token"
	srv := httptest.NewServer(web.Handler(eng, &web.Options{Authorize: demoAuthorize(token), Challenge: demoChallenge,
		OnError: func(_ *http.Request, err error) { t.Error(err) }}))
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

	views := []struct{ slug, fragment string }{{"users", ""}, {"authentications", ""}, {"mfa", ""}, {"signins", detail}}
	var wg sync.WaitGroup
	for _, v := range views {
		wg.Go(func() {
			url := base + "/" + v.slug + v.fragment
			png := filepath.Join(dir, "dashboard-"+v.slug+".png")
			dom, err := runChromium(ctx, chromium, "--dump-dom", url)
			if err != nil {
				t.Errorf("%s: %v", v.slug, err)
				return
			}
			if v.slug == "signins" {
				checkSignIns(t, dom, api)
			} else {
				checkPanels(t, v.slug, dom, api)
			}
			if _, err := runChromium(ctx, chromium, "--screenshot="+png, url); err != nil {
				t.Errorf("%s: %v", v.slug, err)
				return
			}
			if fi, err := os.Stat(png); err != nil || fi.Size() < 20_000 {
				t.Errorf("%s: screenshot %s missing or blank: %v", v.slug, png, err)
			}
		})
	}
	wg.Wait()
	t.Logf("screenshots in %s", dir)
}

// runChromium runs headless Chromium on url with a private profile and
// returns its standard output.
func runChromium(ctx context.Context, chromium, mode, url string) (string, error) {
	profile, err := os.MkdirTemp("", "insights-chromium-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(profile)
	height := "1400"
	if strings.Contains(url, "/signins") {
		height = "1000"
	}
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir="+profile, "--window-size=1280,"+height, mode, url)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("chromium %s: %v\n%s", mode, err, errOut.String())
	}
	return out.String(), nil
}

// checkPanels checks every chart of a view's DOM against /api/query.
func checkPanels(t *testing.T, slug, dom string, api func(string) []byte) {
	panels := panelRE.FindAllStringSubmatch(dom, -1)
	if len(panels) < 4 {
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
