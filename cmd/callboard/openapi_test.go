package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestOpenAPICommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, out.String())
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	for _, p := range []string{"/api/auth/login/", "/api/dashboard/user/", "/api/dashboard/user/calls/"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("document lacks %s", p)
		}
	}
	// The web client is generated from it: the same build prints the same bytes.
	var again bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, func(string) string { return "" }, strings.NewReader(""), &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Fatal("two runs printed different documents")
	}
	if err := run(context.Background(), []string{"openapi", "extra"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Fatal("an argument was accepted")
	}
}

func TestBrowserURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8000", "http://127.0.0.1:8000/"},
		{"0.0.0.0:8000", "http://localhost:8000/"},
		{"[::]:8000", "http://localhost:8000/"},
		{"[::1]:9000", "http://[::1]:9000/"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := browserURL(addr); got != tt.want {
			t.Errorf("browserURL(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

// TestServePrintsURLAndServesTheApp: the newcomer's first minute: the URL is
// printed, and opening it gives the dashboard's page.
func TestServePrintsURLAndServesTheApp(t *testing.T) {
	base, logs, _ := startServer(t, map[string]string{"CALLBOARD_DATA_DIR": t.TempDir()})
	if !strings.Contains(logs.String(), "Callboard is at "+base+"/\n") {
		t.Fatalf("URL not printed:\n%s", logs)
	}
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), `<div id="app">`) {
		t.Fatalf("GET /: %d %.200s", res.StatusCode, body)
	}
}
