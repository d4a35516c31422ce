package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

func TestRouting(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	u := s.SignUp(t)
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"trailing slash", "GET", "/api/dashboard/user/profile/", 200, "application/json", u.Email},
		{"without trailing slash", "GET", "/api/dashboard/user/profile", 200, "application/json", u.Email},
		{"unknown API route", "GET", "/api/nope/", 404, "application/problem+json", `"status":404`},
		{"below a route is not the route", "GET", "/api/dashboard/user/profile/extra/", 404, "application/problem+json", `"status":404`},
		{"wrong method", "DELETE", "/api/auth/login/", 405, "application/problem+json", `"status":405`},
		{"unknown page is the web app's", "GET", "/nope", 200, "text/html; charset=utf-8", `<div id="app">`},
		{"healthz", "GET", "/healthz", 200, "application/json", `"ok"`},
		{"readyz", "GET", "/readyz", 200, "application/json", `"sqlite"`},
		{"openapi", "GET", "/openapi.json", 200, "application/openapi+json", `"3.1.0"`},
		{"swagger page", "GET", "/swagger/", 200, "text/html; charset=utf-8", "swagger-ui-bundle.js"},
		{"swagger script served locally", "GET", "/swagger/swagger-ui-bundle.js", 200, "text/javascript; charset=utf-8", "SwaggerUIBundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: tt.method, Path: tt.path, Token: u.Access})
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", res.Status, tt.status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.contentType {
				t.Fatalf("content type %q, want %q", ct, tt.contentType)
			}
			if !strings.Contains(string(res.Body), tt.contains) {
				t.Fatalf("body lacks %q: %.300s", tt.contains, res.Body)
			}
		})
	}
	if allow := s.Do(t, apitest.Request{Method: "GET", Path: "/api/auth/login/"}).Header.Get("Allow"); allow != "POST" {
		t.Fatalf("405 Allow header %q", allow)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
		} `json:"components"`
	}
	s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"}).Decode(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	for _, p := range []string{"/api/auth/register/", "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/", "/api/dashboard/user/profile/"} {
		if doc.Paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	if sch := doc.Components.SecuritySchemes["bearer"]; sch.Type != "http" || sch.Scheme != "bearer" {
		t.Fatalf("bearer scheme: %+v", sch)
	}
	if !strings.Contains(string(doc.Paths["/api/dashboard/user/profile/"]["get"]), `"bearer"`) {
		t.Fatal("profile operation does not declare bearer security")
	}
}

func TestHeadersAndObservability(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/nope/", Header: map[string]string{"X-Request-ID": "abc-123"}})
		for header, want := range map[string]string{
			"X-Request-Id": "abc-123", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}
		evil := s.Do(t, apitest.Request{Method: "GET", Path: "/healthz", Header: map[string]string{"X-Request-ID": "<script>" + strings.Repeat("x", 80)}})
		if id := evil.Header.Get("X-Request-Id"); len(id) != 24 || strings.Contains(id, "<") {
			t.Errorf("unsafe request id echoed: %q", id)
		}
		metrics := s.Do(t, apitest.Request{Method: "GET", Path: "/metrics"})
		for _, want := range []string{
			`callboard_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`callboard_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"`,
		} {
			if !strings.Contains(string(metrics.Body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestRealClientAddress(t *testing.T) {
	// Untrusted peers cannot choose their address: X-Forwarded-For is ignored,
	// so the login failure is counted against the real peer.
	s := apitest.New(t, storetest.SQLite(t))
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": "a@example.com", "password": "wrong-password"},
		Header: map[string]string{"X-Forwarded-For": "10.9.9.9"}})
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("login: %d", res.Status)
	}
	var ip string
	_ = s.DB.Read().QueryRow("SELECT ip FROM audit_events WHERE kind = 'login.failed'").Scan(&ip)
	if ip != "192.0.2.10" {
		t.Fatalf("audit recorded %q, want the peer address", ip)
	}
}

// Bodies are refused in API terms: a field and what it expects, never Go's
// types; a body that is not JSON is 415 on every JSON operation.
func TestBodiesRefusedInAPITerms(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	u := s.SignUp(t)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		location    string
	}{
		{"integer written as 6.0", "PATCH", "/api/dashboard/user/settings/", "application/json", `{"calls": {"auto_answer_delay_seconds": 6.0}}`, 422, "body.calls.auto_answer_delay_seconds"},
		{"form body to login", "POST", "/api/auth/login/", "application/x-www-form-urlencoded", "email=a&password=b", 415, "header.Content-Type"},
		{"text body to a PATCH", "PATCH", "/api/dashboard/user/profile/", "text/plain", `{"first_name": "Zed"}`, 415, "header.Content-Type"},
		{"XML body to the ingest", "POST", "/api/platform/calls/", "application/xml", `<calls/>`, 415, "header.Content-Type"},
		{"form body to the ingest", "POST", "/api/platform/calls/", "application/x-www-form-urlencoded", `calls=1`, 415, "header.Content-Type"},
		{"JSON with a charset is JSON", "POST", "/api/auth/login/", "application/json; charset=utf-8", `{"email": "x@example.com", "password": "wrong-password-1"}`, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: tt.method, Path: tt.path, Body: tt.body, Token: u.Access,
				Header: map[string]string{"Content-Type": tt.contentType, "X-Platform-Key": apitest.PlatformKey}})
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			if tt.location != "" && !slices.Contains(apitest.ErrorLocations(t, res), tt.location) {
				t.Fatalf("errors do not name %s: %s", tt.location, res.Body)
			}
			for _, goWord := range []string{"Go struct", "Go value", "SettingsPatch", "json: "} {
				if strings.Contains(string(res.Body), goWord) {
					t.Fatalf("answer speaks Go (%q): %s", goWord, res.Body)
				}
			}
		})
	}
}

// What the document says about null is what the server does.
func TestOpenAPINullability(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	type prop struct {
		Type        any   `json:"type"`
		Enum        []any `json:"enum"`
		Description string
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]prop `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"}).Decode(t, &doc)
	nullable := func(p prop) bool { return strings.Contains(fmt.Sprint(p.Type), "null") }
	for _, f := range []struct{ schema, field string }{
		{"PreferencesPatch", "theme"}, {"PreferencesPatch", "week_start"}, {"PrivacySettingsPatch", "profile_visibility"},
		{"CallSettingsPatch", "call_quality"},
	} {
		p := doc.Components.Schemas[f.schema].Properties[f.field]
		if !nullable(p) || !slices.Contains(p.Enum, nil) || !strings.Contains(p.Description, "null") {
			t.Errorf("%s.%s: a nullable enum must list null and say what it means: %+v", f.schema, f.field, p)
		}
	}
	if p := doc.Components.Schemas["RegisterInputBody"].Properties["phone"]; !nullable(p) {
		t.Errorf("register phone accepts null but the document says %+v", p)
	}
	u := s.SignUp(t)
	for path, body := range map[string]string{
		"/api/dashboard/user/preferences/": `{"theme": null, "week_start": null}`,
		"/api/dashboard/user/settings/":    `{"privacy": {"profile_visibility": null}, "calls": {"call_quality": null}}`,
	} {
		if res := s.Do(t, apitest.Request{Method: "PATCH", Path: path, Token: u.Access, Body: body}); res.Status != 200 {
			t.Errorf("PATCH %s with nulls: %d %s", path, res.Status, res.Body)
		}
	}
}
