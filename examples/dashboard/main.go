// Command dashboard is a demo host for the insights dashboard: it
// generates a few thousand users' sign-ins over 60 days (apps, operating
// systems, countries and cities, IP addresses, failures, MFA steps,
// conditional-access policies) and authentication methods (a registration
// snapshot imported for part of the users, registrations, removals,
// password resets and account unlocks, some failing) into a directory
// store and serves package web's handler on loopback.
//
//	go run ./examples/dashboard [-addr 127.0.0.1:8080] [-store DIR] [-users 3000] [-days 60]
//
// It prints a random token. Open the printed URL in a browser and give
// the token as the password (any user name); scripts send it as
// "Authorization: Bearer <token>". The demo listens on loopback only and
// grants every permission to whoever has the token: a real host plugs
// its own authentication into web.Options.Authorize.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/store"
	"github.com/insightslab/insights/web"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	addr := flag.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	dir := flag.String("store", "", "directory of the store (default: a new temporary directory, removed at exit)")
	users := flag.Int("users", 3000, "users to generate")
	days := flag.Int("days", 60, "days of activity to generate, ending today")
	zone := flag.String("zone", "Europe/Paris", "IANA zone of a new store")
	flag.Parse()
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "insights-dashboard-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	st, err := store.Dir(*dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := insights.Open(ctx, st, &insights.Options{Zone: *zone})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); err == nil {
			err = cerr
		}
	}()
	start := time.Now()
	s := generate(sampleConfig{users: *users, days: *days, now: time.Now(), seed: 1}, eng.Zone())
	if err := load(ctx, eng, s); err != nil {
		return err
	}
	fmt.Printf("Added %d events for %d users over %d days and a registration snapshot of %d users to %s in %v (request ids make a rerun add nothing new).\n",
		len(s.events), *users, *days, len(s.snapshot), *dir, time.Since(start).Round(time.Millisecond))

	token, err := newToken()
	if err != nil {
		return err
	}
	h := web.Handler(eng, &web.Options{
		Authorize:    demoAuthorize(token),
		Challenge:    demoChallenge,
		MethodPolicy: demoPolicy(),
		OnError: func(r *http.Request, err error) {
			fmt.Fprintf(os.Stderr, "dashboard: %s %s: %v\n", r.Method, r.URL.Path, err)
		},
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("\nDemo dashboard on http://%s/ (loopback only)\n", ln.Addr())
	fmt.Printf("  browser: any user name, password %s\n", token)
	fmt.Printf("  scripts: curl -H 'Authorization: Bearer %s' 'http://%s/api/query?metric=activeUsers&granularity=week'\n", token, ln.Addr())
	fmt.Println("Ctrl-C stops it.")
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkLoopback refuses an address that is not on loopback: the demo's
// data and token are not for a network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %s: the demo listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// load imports the sample's registration snapshot, as a host does once,
// then adds its events in batches.
func load(ctx context.Context, eng *insights.Engine, s sample) error {
	if err := eng.ImportRegistrations(ctx, s.snapshotAt, s.snapshot); err != nil {
		return err
	}
	events := s.events
	for len(events) > 0 {
		n := min(len(events), 10_000)
		if err := eng.Add(ctx, events[:n]...); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// newToken returns 128 random bits in hex.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
