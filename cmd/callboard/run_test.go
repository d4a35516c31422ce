package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"callboard/internal/store"
	"callboard/internal/storetest"
)

// syncBuffer collects a command's log output safely across goroutines.
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

// commandLine returns a new data directory and a function that runs the
// binary's commands on it (SQLite) as main does, returning standard output,
// standard error (with the error) and the exit code.
func commandLine(t *testing.T) (dir string, cli func(stdin string, args ...string) (string, string, int)) {
	t.Helper()
	dir = t.TempDir()
	getenv := func(k string) string {
		if k == "CALLBOARD_DATA_DIR" {
			return dir
		}
		return ""
	}
	return dir, func(stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return out.String(), errOut.String(), exitCode(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs "callboard serve" like main does and waits for /healthz.
func startServer(t *testing.T, env map[string]string) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	getenv := func(k string) string { return env[k] }
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", addr}, getenv, strings.NewReader(""), logs, logs) }()
	base = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("server exited: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not become healthy\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("server did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func getWithToken(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestServeEndToEnd is the acceptance path on each database:
// register → login → refresh → reusing the first refresh token is refused
// and revokes the session, whose access token then stops working.
func TestServeEndToEnd(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dataDir := t.TempDir()
			// No grace for a rotated refresh token: its reuse below is at once.
			env := map[string]string{"CALLBOARD_DATA_DIR": dataDir, "CALLBOARD_REFRESH_GRACE": "1ms"}
			if dialect == "postgres" {
				env["CALLBOARD_DATABASE_URL"] = storetest.PostgresSchemaURL(t)
			}
			base, logs, stop := startServer(t, env)

			email := "owner-" + dialect + "@example.com"
			status, reg := postJSON(t, base+"/api/auth/register/", map[string]any{
				"email": email, "password": "violet-lantern-87-orbit", "first_name": "Sana", "last_name": "Iqbal"})
			if status != 201 {
				t.Fatalf("register: %d %v", status, reg)
			}
			status, login := postJSON(t, base+"/api/auth/login", map[string]any{"email": email, "password": "violet-lantern-87-orbit"})
			if status != 200 {
				t.Fatalf("login: %d %v", status, login)
			}
			first := login["refresh"].(string)
			status, refreshed := postJSON(t, base+"/api/auth/refresh/", map[string]any{"refresh": first})
			if status != 200 {
				t.Fatalf("refresh: %d %v", status, refreshed)
			}
			access := refreshed["access"].(string)
			if st := getWithToken(t, base+"/api/dashboard/user/profile/", access); st != 200 {
				t.Fatalf("profile with the new access token: %d", st)
			}
			// The grace is 1 ms and times are kept in whole milliseconds: a fast
			// machine could reuse the token within it.
			time.Sleep(5 * time.Millisecond)
			if status, _ := postJSON(t, base+"/api/auth/refresh/", map[string]any{"refresh": first}); status != 401 {
				t.Fatalf("reused refresh token: %d", status)
			}
			if st := getWithToken(t, base+"/api/dashboard/user/profile/", access); st != 401 {
				t.Fatalf("access token of the revoked session: %d", st)
			}

			if err := stop(); err != nil {
				t.Fatalf("graceful stop: %v", err)
			}
			out := logs.String()
			for _, want := range []string{`"msg":"serving"`, `"msg":"stopped"`, `"request_id"`} {
				if !strings.Contains(out, want) {
					t.Errorf("logs lack %s", want)
				}
			}
			for _, secret := range []string{"violet-lantern-87-orbit", first, access} {
				if strings.Contains(out, secret) {
					t.Fatalf("a secret reached the logs")
				}
			}
			if dialect == "sqlite" {
				for _, f := range []string{"callboard.db", "signing.key"} {
					if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
						t.Errorf("%s not created: %v", f, err)
					}
				}
				if fi, _ := os.Stat(filepath.Join(dataDir, "signing.key")); fi != nil && fi.Mode().Perm() != 0o600 {
					t.Errorf("signing key mode %v", fi.Mode().Perm())
				}
			}
		})
	}
}

func TestMigrateAndUserCreate(t *testing.T) {
	dataDir := t.TempDir()
	getenv := func(k string) string {
		if k == "CALLBOARD_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, nil, &out, &errs); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "sqlite database at migration") {
		t.Fatalf("migrate output %q", out.String())
	}
	tests := []struct {
		name     string
		args     []string
		password string
		wantErr  string
	}{
		{"weak password", []string{"user", "create", "--email", "a@example.com", "--first-name", "A", "--last-name", "B"}, "password\n", "password"},
		{"bad email", []string{"user", "create", "--email", "nope", "--first-name", "A", "--last-name", "B"}, "violet-lantern-87-orbit\n", "email"},
		{"created", []string{"user", "create", "--email", "ops@example.com", "--first-name", "Ops", "--last-name", "Team"}, "violet-lantern-87-orbit\n", ""},
		{"duplicate", []string{"user", "create", "--email", "OPS@example.com", "--first-name", "Ops", "--last-name", "Team"}, "violet-lantern-87-orbit\n", "already exists"},
		{"unknown command", []string{"frobnicate"}, "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out.Reset()
			err := run(context.Background(), tt.args, getenv, strings.NewReader(tt.password), &out, &errs)
			if tt.wantErr == "" {
				if err != nil || !strings.Contains(out.String(), "created user") {
					t.Fatalf("err %v, out %q", err, out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
	// The operator vouches for the address: the account is verified (the
	// platform routes calls by it) and no verification mail is queued.
	db, err := store.Open(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var verified bool
	var mails int
	if err := db.Read().QueryRow(`SELECT is_verified, (SELECT COUNT(*) FROM mail_outbox) FROM users WHERE email = 'ops@example.com'`).Scan(&verified, &mails); err != nil {
		t.Fatal(err)
	}
	if !verified || mails != 0 {
		t.Fatalf("created account verified %v, %d mails queued", verified, mails)
	}
}

// With CALLBOARD_METRICS_ADDR, /metrics is served there and not on the
// public address.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	metricsAddr := freeAddr(t)
	base, _, _ := startServer(t, map[string]string{"CALLBOARD_DATA_DIR": t.TempDir(), "CALLBOARD_METRICS_ADDR": metricsAddr})
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, _ := get(base + "/metrics"); st != 404 {
		t.Fatalf("/metrics on the public address: %d", st)
	}
	if st, body := get("http://" + metricsAddr + "/metrics"); st != 200 || !strings.Contains(body, "callboard_http_requests_total") {
		t.Fatalf("/metrics on the metrics address: %d %.200s", st, body)
	}
}
