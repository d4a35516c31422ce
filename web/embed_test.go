package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

const indexHTML = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>`

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":             {Data: []byte(indexHTML)},
		"favicon.svg":            {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"assets/index-abc123.js": {Data: bytes.Repeat([]byte("console.log('callboard');\n"), 200)},
		"assets/font-x1.woff2":   {Data: []byte{0x77, 0x4f, 0x46, 0x32, 1, 2, 3}},
	}
}

func newTestHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := New(testFS())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestServe(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		name, method, path string
		status             int
		contentType, cache string
		body               string // a substring of the (decoded) body
	}{
		{"index", "GET", "/", 200, "text/html; charset=utf-8", cacheRevalidate, `<div id="app">`},
		{"index by name", "GET", "/index.html", 200, "text/html; charset=utf-8", cacheRevalidate, `<div id="app">`},
		{"a page of the app", "GET", "/calls", 200, "text/html; charset=utf-8", cacheRevalidate, `<div id="app">`},
		{"a deep page with a query", "GET", "/calls/12?status=failed", 200, "text/html; charset=utf-8", cacheRevalidate, `<div id="app">`},
		{"path tricks stay inside", "GET", "/../../etc/passwd", 200, "text/html; charset=utf-8", cacheRevalidate, `<div id="app">`},
		{"hashed asset", "GET", "/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", cacheImmutable, "callboard"},
		{"font", "GET", "/assets/font-x1.woff2", 200, "font/woff2", cacheImmutable, "wOF2"},
		{"unhashed file", "GET", "/favicon.svg", 200, "image/svg+xml", cacheRevalidate, "<svg"},
		{"missing asset is not the page", "GET", "/assets/index-old999.js", 404, "text/plain; charset=utf-8", cacheRevalidate, "not found"},
		{"HEAD", "HEAD", "/calls", 200, "text/html; charset=utf-8", cacheRevalidate, ""},
		{"POST", "POST", "/calls", 405, "text/plain; charset=utf-8", "", "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if cc := res.Header.Get("Cache-Control"); cc != tt.cache {
				t.Errorf("Cache-Control %q, want %q", cc, tt.cache)
			}
			if csp := res.Header.Get("Content-Security-Policy"); csp != CSP {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			body, _ := io.ReadAll(res.Body)
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered a body of %d bytes", len(body))
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body lacks %q: %.200s", tt.body, body)
			}
		})
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	h := newTestHandler(t)
	get := func(path string, hdr map[string]string) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	plain := get("/assets/index-abc123.js", nil)
	plainBody, _ := io.ReadAll(plain.Body)
	zipped := get("/assets/index-abc123.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if zipped.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("not gzipped: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plainBody) {
		t.Fatal("gzipped body differs from the file")
	}
	if zipped.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Fatal("the gzipped and plain answers share an ETag")
	}
	if refused := get("/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); refused.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent although refused with q=0")
	}
	if font := get("/assets/font-x1.woff2", map[string]string{"Accept-Encoding": "gzip"}); font.Header.Get("Content-Encoding") != "" {
		t.Fatal("a font was gzipped")
	}
	for _, enc := range []string{"", "gzip"} {
		first := get("/", map[string]string{"Accept-Encoding": enc})
		again := get("/", map[string]string{"Accept-Encoding": enc, "If-None-Match": first.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified {
			t.Fatalf("encoding %q: revalidation answered %d, want 304", enc, again.StatusCode)
		}
		if stale := get("/", map[string]string{"Accept-Encoding": enc, "If-None-Match": `"other"`}); stale.StatusCode != http.StatusOK {
			t.Fatalf("encoding %q: a stale ETag answered %d", enc, stale.StatusCode)
		}
	}
}

func TestNewNeedsIndex(t *testing.T) {
	if _, err := New(fstest.MapFS{"assets/a.js": {Data: []byte("x")}}); err == nil {
		t.Fatal("a build without index.html was accepted")
	}
}

func TestCSPIsStrict(t *testing.T) {
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	for _, bad := range []string{"unsafe-eval", "script-src 'self' 'unsafe-inline'", "http:", "https:", "*"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP allows %q", bad)
		}
	}
}

// TestEmbeddedBuild checks the committed build: it serves, its page runs no
// inline script (the CSP would block it) and every file it names exists.
func TestEmbeddedBuild(t *testing.T) {
	h, err := Handler()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, `<div id="app">`) {
		t.Fatalf("index: %d %.200s", rec.Code, page)
	}
	if m := regexp.MustCompile(`<script(?:(?:\s+[a-z-]+(?:="[^"]*")?)*)>`).FindAllString(page, -1); len(m) == 0 {
		t.Fatal("no script in index.html")
	} else {
		for _, tag := range m {
			if !strings.Contains(tag, ` src="/assets/`) {
				t.Errorf("inline or foreign script: %s", tag)
			}
		}
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Error("index.html has inline styles")
	}
	sub, _ := fs.Sub(dist, "dist")
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if _, err := fs.Stat(sub, strings.TrimPrefix(ref[1], "/")); err != nil {
			t.Errorf("index.html names %s, which the build lacks", ref[1])
		}
	}
}
