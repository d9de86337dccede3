package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insightslab/insights"
	"github.com/insightslab/insights/importers"
	"github.com/insightslab/insights/ingest"
	"github.com/insightslab/insights/store"
)

// clock is the engines' clock in these tests.
func clock() time.Time { return time.Date(2023, 9, 25, 0, 0, 0, 0, time.UTC) }

func openEngine(t *testing.T) *insights.Engine {
	t.Helper()
	eng, err := insights.Open(context.Background(), store.NewMemory(), &insights.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func newHandler(t *testing.T, eng ingest.Adder, f importers.Format, o ingest.Options) *ingest.Handler {
	t.Helper()
	o.Now = clock
	h, err := ingest.New(eng, f, &o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends body to h with the headers (name, value pairs).
func post(h http.Handler, body string, headers ...string) *httptest.ResponseRecorder {
	return send(h, http.MethodPost, body, headers...)
}

func send(h http.Handler, method, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/ingest", strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func report(t *testing.T, w *httptest.ResponseRecorder) ingest.Report {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var rep ingest.Report
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// attempts returns the sign-in attempts of the samples' week.
func attempts(t *testing.T, eng *insights.Engine) float64 {
	t.Helper()
	res, err := eng.Query(context.Background(), insights.Query{Metric: insights.Authentications, Granularity: insights.Total,
		From: insights.NewDate(2023, 9, 18), To: insights.NewDate(2023, 9, 25)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Series == "attempts" {
			return r.Value
		}
	}
	return 0
}

// auth0Batch is a custom webhook delivery: a JSON array of log events, one
// a failed login of an unknown user, one a logout (skipped).
const auth0Batch = `[
{"log_id":"L1","date":"2023-09-20T10:00:00.000Z","type":"s","user_id":"auth0|u1","client_id":"web","ip":"198.51.100.1"},
{"log_id":"L2","date":"2023-09-20T10:01:00.000Z","type":"f","client_id":"web","ip":"198.51.100.66","description":"Wrong email or password."},
{"log_id":"L3","date":"2023-09-20T10:02:00.000Z","type":"slo","user_id":"auth0|u1","client_id":"web"}
]`

func TestAuth0StreamReplayImportsNothingTwice(t *testing.T) {
	eng := openEngine(t)
	h := newHandler(t, eng, importers.Auth0, ingest.Options{Token: "s3cret"})
	first := report(t, post(h, auth0Batch, "Authorization", "Bearer s3cret"))
	if first.Read != 3 || first.Imported != 2 || first.AlreadyPresent != 0 || first.Skipped != 1 ||
		len(first.Skips) != 1 || first.Skips[0].String() != `line 4: type "slo" is a logout` {
		t.Errorf("first delivery: %+v", first)
	}
	// Auth0 retries a delivery it thinks failed: the same batch again.
	again := report(t, post(h, auth0Batch, "Authorization", "s3cret")) // the token as configured, without "Bearer"
	if again.Read != 3 || again.Imported != 0 || again.AlreadyPresent != 2 {
		t.Errorf("replayed delivery: %+v", again)
	}
	if n := attempts(t, eng); n != 2 {
		t.Errorf("attempts %v, want 2", n)
	}
}

func TestWrongCredentialsImportNothing(t *testing.T) {
	eng := openEngine(t)
	key := []byte("hmac-key")
	sign := func(body string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	signed := newHandler(t, eng, importers.Auth0, ingest.Options{HMACKey: key})
	both := newHandler(t, eng, importers.Auth0, ingest.Options{HMACKey: key, Token: "tok"})
	for _, c := range []struct {
		name    string
		h       http.Handler
		headers []string
	}{
		{"no signature", signed, nil},
		{"signature of another body", signed, []string{"X-Signature-256", sign(auth0Batch + " ")}},
		{"signature not hex", signed, []string{"X-Signature-256", "sha256=zz"}},
		{"wrong token", newHandler(t, eng, importers.Auth0, ingest.Options{Token: "tok"}), []string{"Authorization", "Bearer tok2"}},
		{"token prefix", newHandler(t, eng, importers.Auth0, ingest.Options{Token: "tok"}), []string{"Authorization", "Bearer to"}},
		{"signature without the token", both, []string{"X-Signature-256", sign(auth0Batch)}},
	} {
		w := post(c.h, auth0Batch, c.headers...)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}
	if n := attempts(t, eng); n != 0 {
		t.Fatalf("attempts %v after refused deliveries", n)
	}
	if rep := report(t, post(signed, auth0Batch, "X-Signature-256", sign(auth0Batch))); rep.Imported != 2 {
		t.Errorf("signed delivery: %+v", rep)
	}
	if rep := report(t, post(both, auth0Batch, "X-Signature-256", strings.TrimPrefix(sign(auth0Batch), "sha256="), "Authorization", "Bearer tok")); rep.AlreadyPresent != 2 {
		t.Errorf("signed delivery with a token: %+v", rep)
	}
}

func TestLimits(t *testing.T) {
	eng := openEngine(t)
	small := newHandler(t, eng, importers.Auth0, ingest.Options{Token: "t", MaxBodyBytes: 100})
	if w := post(small, auth0Batch, "Authorization", "Bearer t"); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", w.Code, w.Body)
	}
	few := newHandler(t, eng, importers.Auth0, ingest.Options{Token: "t", MaxEvents: 2})
	if w := post(few, auth0Batch, "Authorization", "Bearer t"); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("three records, two allowed: %d %s", w.Code, w.Body)
	}
	many := strings.Repeat(`{"log_id":"x","type":"slo"}`+"\n", 3)
	if w := post(few, many, "Authorization", "Bearer t"); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("three skipped records, two allowed: %d %s", w.Code, w.Body)
	}
	if n := attempts(t, eng); n != 0 {
		t.Errorf("attempts %v after refused deliveries", n)
	}
	if w := post(few, "[{", "Authorization", "Bearer t"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "malformed") {
		t.Errorf("malformed body: %d %s", w.Code, w.Body)
	}
	if w := send(few, http.MethodGet, "", "Authorization", "Bearer t"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
}

// blocking is an Adder whose AddCount waits for release, saying when it
// has started.
type blocking struct {
	started chan struct{}
	release chan struct{}
}

func (b *blocking) AddCount(ctx context.Context, evs ...insights.Event) (int, error) {
	b.started <- struct{}{}
	<-b.release
	return len(evs), nil
}

func TestBackPressureAnswers429(t *testing.T) {
	b := &blocking{started: make(chan struct{}), release: make(chan struct{})}
	h := newHandler(t, b, importers.Auth0, ingest.Options{Token: "t", MaxConcurrent: 1, RetryAfter: 1500 * time.Millisecond})
	var wg sync.WaitGroup
	var first *httptest.ResponseRecorder
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = post(h, auth0Batch, "Authorization", "Bearer t")
	}()
	<-b.started // the first request is adding
	w := post(h, auth0Batch, "Authorization", "Bearer t")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Errorf("second request: %d, Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	close(b.release)
	wg.Wait()
	if rep := report(t, first); rep.Imported != 2 {
		t.Errorf("first request: %+v", rep)
	}
	// The slot is free again.
	go func() { <-b.started }()
	if rep := report(t, post(h, auth0Batch, "Authorization", "Bearer t")); rep.Imported != 2 {
		t.Errorf("after: %+v", rep)
	}
}

func TestOktaEventHook(t *testing.T) {
	eng := openEngine(t)
	h := newHandler(t, eng, importers.Okta, ingest.Options{Token: "okta-secret"})

	// The one-time verification Okta sends when the hook is registered.
	w := send(h, http.MethodGet, "", "Authorization", "okta-secret", "X-Okta-Verification-Challenge", "chal-123")
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"verification":"chal-123"}` ||
		w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("verification: %d %q", w.Code, w.Body)
	}
	if w := send(h, http.MethodGet, "", "X-Okta-Verification-Challenge", "chal-123"); w.Code != http.StatusUnauthorized {
		t.Errorf("verification without the secret: %d %s", w.Code, w.Body)
	}
	if w := send(h, http.MethodGet, "", "Authorization", "okta-secret"); w.Code != http.StatusBadRequest {
		t.Errorf("GET without a challenge: %d %s", w.Code, w.Body)
	}

	delivery := `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://example.okta.com/api/v1/eventHooks/who1",
"eventId":"ev-1","eventTime":"2023-09-20T10:00:05.000Z","contentType":"application/json","data":{"events":[
{"uuid":"o-1","published":"2023-09-20T10:00:00.000Z","eventType":"user.session.start","actor":{"id":"00u1","type":"User"},"outcome":{"result":"SUCCESS"},"client":{"ipAddress":"192.0.2.1"}},
{"uuid":"o-2","published":"2023-09-20T10:00:01.000Z","eventType":"user.authentication.verify","actor":{"id":"00u2","type":"User"},"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"target":[{"id":"a","type":"AuthenticatorEnrollment","displayName":"Password"}]}
]}}`
	if rep := report(t, post(h, delivery, "Authorization", "okta-secret")); rep.Read != 2 || rep.Imported != 2 {
		t.Errorf("delivery: %+v", rep)
	}
	if rep := report(t, post(h, delivery, "Authorization", "okta-secret")); rep.AlreadyPresent != 2 {
		t.Errorf("redelivery: %+v", rep)
	}
}

func TestJSONLines(t *testing.T) {
	eng := openEngine(t)
	h := newHandler(t, eng, importers.JSONL, ingest.Options{Token: "t"})
	body := `{"time":"2023-09-20T10:00:00Z","kind":"signIn","userKey":"ann","requestId":"r1"}
{"time":"2023-09-20T10:00:00Z","kind":"login","userKey":"ann"}
`
	rep := report(t, post(h, body, "Authorization", "Bearer t"))
	if rep.Read != 2 || rep.Imported != 1 || rep.Skipped != 1 || !strings.HasPrefix(rep.Skips[0].Reason, "unknown kind") {
		t.Errorf("report %+v", rep)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	eng := openEngine(t)
	for _, c := range []struct {
		name string
		f    importers.Format
		opts *ingest.Options
		want string
	}{
		{"no authentication", importers.Auth0, nil, "Token, HMACKey"},
		{"unknown format", "syslog", &ingest.Options{Token: "t"}, "format"},
		{"negative limit", importers.Auth0, &ingest.Options{Token: "t", MaxEvents: -1}, "MaxEvents"},
	} {
		if _, err := ingest.New(eng, c.f, c.opts); !errors.Is(err, ingest.ErrOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
