package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/mail"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Internal errors are logged with their cause; requests their clients
// abandoned are neither logged as errors nor counted as 500s, but as 499.
func TestLogsAndMetricsTellFailuresApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs syncBuffer
		blobs, err := blob.NewDir(filepath.Join(t.TempDir(), "media"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(app.Config{DB: db, Blobs: blobs, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			Auth: auth.Config{SigningKey: []byte("test-signing-key-0123456789abcdef0123456789"), Argon2: apitest.CheapArgon2},
			Mail: mail.Config{Transport: &mail.Files{Dir: t.TempDir()}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		s := &apitest.Server{App: a, Handler: a.Handler(app.HTTP{Registry: prometheus.NewRegistry(), Version: "test"}), Client: "192.0.2.10:1"}
		u := s.SignUp(t)

		// A client that hangs up before the answer.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, "GET", "/api/dashboard/user/profile/", nil)
		r.Header.Set("Authorization", "Bearer "+u.Access)
		s.Handler.ServeHTTP(httptest.NewRecorder(), r)

		// A real failure: the sessions table is gone.
		for _, dependent := range []string{"retired_refresh_tokens", "notification_stream_tickets"} {
			if _, err := db.Write().Exec("DROP TABLE " + dependent); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Write().Exec("DROP TABLE sessions"); err != nil {
			t.Fatal(err)
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access}); res.Status != 500 ||
			strings.Contains(string(res.Body), "sessions") {
			t.Fatalf("internal error answered %d: %s", res.Status, res.Body)
		}

		metrics := string(s.Do(t, apitest.Request{Method: "GET", Path: "/metrics"}).Body)
		for _, want := range []string{
			`callboard_http_requests_total{method="GET",route="GET /api/dashboard/user/profile/",status="499"} 1`,
			`callboard_http_requests_total{method="GET",route="GET /api/dashboard/user/profile/",status="500"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		var errorLines []string
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, `"level":"ERROR"`) {
				errorLines = append(errorLines, line)
			}
		}
		// Two lines for the one failure: its cause, and the request's line.
		if len(errorLines) != 2 || !strings.Contains(errorLines[0], "sessions") || strings.Contains(logs.String(), `"errs":[{}]`) {
			t.Fatalf("error log lines (want the failure's cause, and nothing for the abandoned request):\n%s", strings.Join(errorLines, ""))
		}
	})
}
