package httpapi_test

import (
	"strings"
	"testing"

	"callboard/internal/apitest"
	"callboard/internal/storetest"
	"callboard/web"
)

// TestWebFallback: the dashboard answers every GET the server does not; the
// server's own paths keep their answers and their 404 problems.
func TestWebFallback(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	u := s.SignUp(t)
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		csp                string // "app": the dashboard's; "api": the API's; "docs": the server's default
	}{
		{"the app", "GET", "/", 200, "text/html; charset=utf-8", "app"},
		{"a page of the app", "GET", "/calls", 200, "text/html; charset=utf-8", "app"},
		{"an unknown page", "GET", "/nope/deeper", 200, "text/html; charset=utf-8", "app"},
		{"HEAD of a page", "HEAD", "/settings", 200, "text/html; charset=utf-8", "app"},
		{"a missing asset", "GET", "/assets/gone-0000.js", 404, "text/plain; charset=utf-8", "app"},
		{"POST to a page", "POST", "/calls", 404, "application/problem+json", "docs"},
		{"unknown API route", "GET", "/api/nope/", 404, "application/problem+json", "api"},
		{"wrong method on an API route", "GET", "/api/auth/login/", 405, "application/problem+json", "api"},
		{"an API route", "GET", "/api/dashboard/user/profile/", 200, "application/json", "api"},
		{"unknown media", "GET", "/media/nope", 404, "application/problem+json", "docs"},
		{"below swagger", "GET", "/swagger/nope.js", 404, "text/plain; charset=utf-8", "docs"},
		{"swagger", "GET", "/swagger/", 200, "text/html; charset=utf-8", "docs"},
		{"openapi", "GET", "/openapi.json", 200, "application/openapi+json", "docs"},
		{"near openapi", "GET", "/openapi.txt", 404, "application/problem+json", "docs"},
		{"metrics-like", "GET", "/metricsx", 404, "application/problem+json", "docs"},
		{"healthz", "GET", "/healthz", 200, "application/json", "docs"},
		{"below readyz", "GET", "/readyz/x", 404, "application/problem+json", "docs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: tt.method, Path: tt.path, Token: u.Access})
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", res.Status, tt.status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.contentType {
				t.Fatalf("Content-Type %q, want %q", ct, tt.contentType)
			}
			csp := res.Header.Get("Content-Security-Policy")
			switch tt.csp {
			case "app":
				if csp != web.CSP {
					t.Fatalf("CSP %q, want the app's", csp)
				}
			case "api":
				if csp != "default-src 'none'; frame-ancestors 'none'" {
					t.Fatalf("CSP %q, want the API's", csp)
				}
			default:
				if csp == web.CSP || !strings.Contains(csp, "default-src 'self'") {
					t.Fatalf("CSP %q, want the server's default (swagger needs its inline styles)", csp)
				}
			}
			if tt.csp == "app" && tt.status == 200 && tt.method == "GET" && !strings.Contains(string(res.Body), `<div id="app">`) {
				t.Fatalf("not the app's page: %.200s", res.Body)
			}
		})
	}
	// The app's answers share one metrics label, never their paths.
	metrics := string(s.Do(t, apitest.Request{Method: "GET", Path: "/metrics"}).Body)
	if !strings.Contains(metrics, `method="GET",route="web",status="200"`) || strings.Contains(metrics, `route="/nope/deeper"`) {
		t.Fatalf("metrics do not label the app's answers as web:\n%s", grepLines(metrics, "callboard_http_requests_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
