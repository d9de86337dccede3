// Command ingest is a demo host receiving pushed identity logs: an Auth0
// custom webhook log stream at /ingest/auth0, an Okta event hook at
// /ingest/okta (answering its one-time verification) and the library's
// JSON lines at /ingest/events, each with its own secret, into a
// directory store. It prints each endpoint's secret and serves on
// loopback.
//
//	go run ./examples/ingest [-addr 127.0.0.1:8090] [-store DIR]
//
// Configure Auth0's custom webhook with the printed token as its
// Authorization Token ("Bearer <token>"), Okta's event hook with an
// Authorization header holding its token; send JSON lines with
// "Authorization: Bearer <token>":
//
//	curl -H "Authorization: Bearer $TOKEN" --data-binary @events.jsonl http://127.0.0.1:8090/ingest/events
//
// Each answer is a JSON report of what was imported, already present and
// skipped; 429 with Retry-After when the engine is behind.
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
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/ingest"
	"github.com/insightslab/insights/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on")
	dir := flag.String("store", "", "the store's directory (default: a new temporary one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *dir == "" {
		d, err := os.MkdirTemp("", "insights-ingest-")
		if err != nil {
			return err
		}
		*dir = d
	}
	st, err := store.Dir(*dir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := insights.Open(ctx, st, nil)
	if err != nil {
		return err
	}
	defer eng.Close()

	mux := http.NewServeMux()
	for _, src := range []struct {
		path   string
		format importers.Format
	}{
		{"/ingest/auth0", importers.Auth0},
		{"/ingest/okta", importers.Okta},
		{"/ingest/events", importers.JSONL},
	} {
		token, err := newToken()
		if err != nil {
			return err
		}
		h, err := ingest.New(eng, src.format, &ingest.Options{Token: token})
		if err != nil {
			return err
		}
		mux.Handle(src.path, h)
		fmt.Printf("http://%s%s  token %s\n", *addr, src.path, token)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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

// newToken returns 32 random hex digits.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
