package httpapi

import (
	"net/http"
	"strings"
)

// webRoute is the route label (metrics, logs) of the web dashboard's answers.
const webRoute = "web"

// serverPrefixes are the paths the server answers itself: below them an
// unknown path is a 404 problem, never the dashboard's page.
var serverPrefixes = []string{"/api/", "/swagger", "/openapi", "/media/", "/metrics", "/healthz", "/readyz"}

// webPath reports whether r, which no route matched, belongs to the web
// dashboard: a GET or HEAD outside the server's own paths.
func webPath(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, p := range serverPrefixes {
		if r.URL.Path == strings.TrimSuffix(p, "/") || strings.HasPrefix(r.URL.Path, p) {
			return false
		}
	}
	return true
}
