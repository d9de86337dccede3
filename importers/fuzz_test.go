package importers_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
)

// Run these with -fuzzminimizetime 1x: every input opens an engine, so the
// default minimization (60 s for each new input) stalls the fuzzer.
//
// fuzzRead reads any bytes in format f, records wrapped under envelope
// when it is not "": Read must not panic, may fail only with ErrMalformed,
// and every event it hands over must have a valid UTF-8 user key or
// principal id and be accepted by a real Engine's Add.
func fuzzRead(f *testing.F, format importers.Format, envelope string) {
	f.Fuzz(func(t *testing.T, b []byte) {
		eng := openEngine(t)
		ctx := context.Background()
		rep, err := importers.Read(ctx, bytes.NewReader(b), format, &importers.Options{Now: clock, BatchSize: 7, Envelope: envelope},
			func(batch []insights.Event) error {
				for _, ev := range batch {
					if !utf8.ValidString(ev.UserKey) || !utf8.ValidString(ev.PrincipalID) {
						t.Fatalf("invalid UTF-8 in %q %q", ev.UserKey, ev.PrincipalID)
					}
					if err := eng.Add(ctx, ev); err != nil {
						t.Fatalf("Add rejected %+v: %v", ev, err)
					}
				}
				return nil
			})
		if err != nil && !errors.Is(err, importers.ErrMalformed) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if rep.Imported+rep.SkippedCount > rep.Read || len(rep.Skipped) > rep.SkippedCount {
			t.Fatalf("report %+v does not add up", rep)
		}
	})
}

func FuzzReadJSONL(f *testing.F)             { fuzzRead(f, importers.JSONL, "") }
func FuzzReadEntraCSV(f *testing.F)          { fuzzRead(f, importers.EntraCSV, "") }
func FuzzReadEntraJSON(f *testing.F)         { fuzzRead(f, importers.EntraJSON, "") }
func FuzzReadEntraLogAnalytics(f *testing.F) { fuzzRead(f, importers.EntraLogAnalytics, "") }
func FuzzReadOkta(f *testing.F)              { fuzzRead(f, importers.Okta, "") }
func FuzzReadOktaEnvelope(f *testing.F)      { fuzzRead(f, importers.Okta, "message") }
func FuzzReadAuth0(f *testing.F)             { fuzzRead(f, importers.Auth0, "") }
func FuzzReadKeycloak(f *testing.F)          { fuzzRead(f, importers.Keycloak, "") }

// FuzzReadSnapshot: no panic, only ErrMalformed, and every user has a key
// within its limit and no method twice.
func FuzzReadSnapshot(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		users, _, err := importers.ReadSnapshot(context.Background(), bytes.NewReader(b), nil)
		if err != nil && !errors.Is(err, importers.ErrMalformed) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		for _, u := range users {
			if u.UserKey == "" || len(u.UserKey) > insights.MaxKeyLength {
				t.Fatalf("user key %q", u.UserKey)
			}
			for i, m := range u.Methods {
				if m == "" || slices.Contains(u.Methods[:i], m) {
					t.Fatalf("methods %q", u.Methods)
				}
			}
		}
	})
}
