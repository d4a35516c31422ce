// Package apitest drives the real router with httptest, for the HTTP tests
// of every capability.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/app"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/calls"
	"callboard/internal/mail"
	"callboard/internal/store"
)

// CheapArgon2 keeps tests fast; the real cost is tested in package auth.
var CheapArgon2 = auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the current test time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Server is the whole HTTP surface over one database, wired as the binary
// wires it (package app).
type Server struct {
	*app.App
	Clock   *Clock
	Handler http.Handler
	// Client is the address every request claims to come from.
	Client string
}

// PlatformKey is the platform key of every test server (X-Platform-Key).
const PlatformKey = "test-platform-key-0123456789abcdef"

// Option adjusts a Server's configuration before the app is built: the
// capabilities' settings, or a collaborator a test replaces (a recording
// calls.Config.Observer, say).
type Option func(*app.Config)

// WithAuth adjusts the auth configuration.
func WithAuth(adjust func(*auth.Config)) Option {
	return func(c *app.Config) { adjust(&c.Auth) }
}

// MailFrom and PublicURL are the mail sender and the dashboard's address of
// every test server.
const (
	MailFrom  = "Callboard <no-reply@callboard.test>"
	PublicURL = "https://dash.callboard.test"
)

// WithSMTP sends the server's mail to the SMTP server at url (a
// mailtest.Mailpit's SMTPURL).
func WithSMTP(t testing.TB, url string) Option {
	return func(c *app.Config) {
		smtp, err := mail.NewSMTP(url, MailFrom)
		if err != nil {
			t.Fatal(err)
		}
		c.Mail.Transport = smtp
	}
}

// New builds the router over db with a test clock starting now, and runs
// the app's background work until the test ends.
func New(t testing.TB, db *store.DB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstarted(t, db, opts...)
	s.Start()
	return s
}

// NewUnstarted is New without the background work: a test starts it
// (Start) when it needs to, to see what happens before it runs.
func NewUnstarted(t testing.TB, db *store.DB, opts ...Option) *Server {
	t.Helper()
	clock := NewClock(time.Now().UTC().Truncate(time.Millisecond))
	blobs, err := blob.NewDir(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{DB: db, Blobs: blobs, Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		// Tests sign up many users from one address; TestRegistrationLimit
		// checks the real limit.
		Auth: auth.Config{SigningKey: []byte("test-signing-key-0123456789abcdef0123456789"), Argon2: CheapArgon2,
			RegistrationsPerAddress: 1 << 30},
		// Tests check exact counts on machines busy with other tests:
		// TestCountOverBudget checks the budget itself.
		Calls: calls.Config{PlatformKey: PlatformKey, CountBudget: time.Minute},
		// Mail goes to files unless a test sends it to a real SMTP server
		// (WithSMTP); it is looked for often so tests wait little.
		Mail: mail.Config{Transport: &mail.Files{Dir: filepath.Join(t.TempDir(), "mail"), From: MailFrom},
			PublicURL: PublicURL, PollInterval: 20 * time.Millisecond, RetryBase: 100 * time.Millisecond, RetryMax: time.Second}}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h := a.Handler(app.HTTP{Registry: prometheus.NewRegistry(), Version: "test"})
	return &Server{App: a, Clock: clock, Handler: h, Client: "192.0.2.10:5555"}
}

// Response is a recorded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map (fails the test otherwise).
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode body: %v\n%s", err, r.Body)
	}
}

// Request is one call: Body may be a string (sent as is) or any value
// (sent as JSON).
type Request struct {
	Method string
	Path   string
	Body   any
	Token  string
	Header map[string]string
}

// Do sends req through the router.
func (s *Server) Do(t testing.TB, req Request) *Response {
	t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	r := httptest.NewRequestWithContext(context.Background(), req.Method, req.Path, body)
	r.RemoteAddr = s.Client
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler.ServeHTTP(w, r)
	return &Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// Session is a signed-in test user.
type Session struct {
	UserID  int64
	Email   string
	Access  string
	Refresh string
}

// StrongPassword passes the password policy for any test user.
const StrongPassword = "violet-lantern-87-orbit"

var userSeq struct {
	sync.Mutex
	n int
}

// SignUp registers a new user with a unique email and returns its session.
func (s *Server) SignUp(t testing.TB) Session {
	t.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	email := fmt.Sprintf("user%d@example.com", n)
	res := s.Do(t, Request{Method: "POST", Path: "/api/auth/register/", Body: map[string]string{
		"email": email, "password": StrongPassword, "first_name": "Test", "last_name": fmt.Sprintf("User%d", n),
	}})
	if res.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", res.Status, res.Body)
	}
	var out struct {
		User    struct{ ID int64 } `json:"user"`
		Access  string             `json:"access"`
		Refresh string             `json:"refresh"`
	}
	res.Decode(t, &out)
	return Session{UserID: out.User.ID, Email: email, Access: out.Access, Refresh: out.Refresh}
}

// MarkVerified marks userID's email address verified, as following the
// link of the verification mail does (package auth's tests go through
// the link): for tests whose calls the platform routes by user_email.
func (s *Server) MarkVerified(t testing.TB, userID int64) {
	t.Helper()
	if _, err := s.DB.Write().ExecContext(context.Background(), `UPDATE users SET is_verified = $1 WHERE id = $2`, true, userID); err != nil {
		t.Fatal(err)
	}
}

// ErrorLocations lists the "location" of each entry in a problem's errors.
func ErrorLocations(t testing.TB, r *Response) []string {
	t.Helper()
	var p struct {
		Errors []struct{ Location string } `json:"errors"`
	}
	r.Decode(t, &p)
	var locs []string
	for _, e := range p.Errors {
		locs = append(locs, e.Location)
	}
	return locs
}

// Accounts is the auth service alone over db, for tests that build another
// capability by hand and need its account lookups (calls.Config.Accounts).
func Accounts(t testing.TB, db *store.DB) *auth.Service {
	t.Helper()
	svc, err := auth.NewService(auth.Config{DB: db, SigningKey: []byte("test-signing-key-0123456789abcdef0123456789"), Argon2: CheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
