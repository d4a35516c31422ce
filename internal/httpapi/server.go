// Package httpapi is Callboard's HTTP server: the router, the OpenAPI
// document, middleware (request ids, logs, metrics, security headers, real
// client addresses) and the one place errors become RFC 9457 problems.
package httpapi

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"callboard/internal/account"
	"callboard/internal/auth"
	"callboard/internal/calls"
	"callboard/internal/stats"
	"callboard/internal/store"
)

// Config is what the server is built from.
type Config struct {
	Logger   *slog.Logger
	DB       *store.DB
	Auth     *auth.Service
	Account  *account.Service     // profile, settings, preferences and avatar
	Calls    *calls.Service       // the platform ingest and the call history
	Stats    *stats.Service       // the dashboard overview
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	Version        string
	// Web is the dashboard, served for GET and HEAD on every path that is
	// not the API's or the operations' (see webPath); nil serves none.
	Web http.Handler
}

//go:embed swaggerui
var swaggerUI embed.FS

// New returns the whole HTTP surface as one handler.
func New(cfg Config) http.Handler {
	useProblemErrors()
	mux := http.NewServeMux()
	api := newAPI(mux, cfg.Version)
	api.UseMiddleware(auth.Middleware(api, cfg.Auth))
	registerRoutes(api, cfg)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cfg.DB.Ping(ctx); err != nil {
			loggerFrom(r.Context()).Warn("readiness check failed", "err", err)
			writeProblem(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(cfg.DB.Dialect)})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	docs, _ := fs.Sub(swaggerUI, "swaggerui")
	mux.Handle("GET /swagger/", http.StripPrefix("/swagger/", http.FileServerFS(docs)))
	mux.Handle("GET /swagger", http.RedirectHandler("/swagger/", http.StatusMovedPermanently))

	metrics := newMetrics(cfg.Registry)
	var h http.Handler = &router{mux: mux, web: cfg.Web}
	h = securityHeaders(h)
	h = recoverPanics(h)
	h = observe(h, metrics)
	h = realClientAddr(h, cfg.TrustedProxies)
	h = withRequestState(h, cfg.Logger)
	return h
}

func newAPI(mux *http.ServeMux, version string) huma.API {
	hc := huma.DefaultConfig("Callboard API", version)
	hc.Info.Description = "The customer dashboard API of an AI voice-calling platform. " +
		"User routes take `Authorization: Bearer <access token>` from /api/auth/login/. " +
		"Errors are RFC 9457 problem documents; validation errors list each bad field in `errors`."
	hc.CreateHooks = nil // no "$schema" links added to every answer
	hc.DocsPath = ""     // /swagger/ is served from embedded files instead of a CDN
	hc.OpenAPIPath = "/openapi"
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		auth.BearerScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
		calls.PlatformScheme: {Type: "apiKey", In: "header", Name: calls.PlatformHeader,
			Description: "The platform key (CALLBOARD_PLATFORM_KEY); `Authorization: Bearer <key>` works too."},
	}
	return huma.NewAPI(hc, humago.NewAdapter(exactMux{mux}, ""))
}

// exactMux registers Huma's paths so that "/api/x/" matches only itself:
// a ServeMux pattern ending in "/" would otherwise match every path below it.
type exactMux struct{ *http.ServeMux }

func (m exactMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}"
	}
	m.ServeMux.HandleFunc(pattern, h)
}

// router serves the mux, adding the seed's trailing slash to API paths and
// answering unmatched routes (404, 405) with problem documents.
type router struct {
	mux *http.ServeMux
	web http.Handler
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasSuffix(r.URL.Path, "/") {
		r.URL.Path += "/"
		if r.URL.RawPath != "" {
			r.URL.RawPath += "/"
		}
	}
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		if rt.web != nil && webPath(r) {
			rt.web.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		rt.mux.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := rec.status
		if status < 400 {
			// The mux's own redirects (paths that need cleaning) are fine as they are.
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			return
		}
		writeProblem(w, status, problemDetail(status))
		return
	}
	rt.mux.ServeHTTP(w, r)
	if st := stateFrom(r.Context()); st != nil {
		st.route = strings.TrimSuffix(r.Pattern, "{$}")
	}
}

func problemDetail(status int) string {
	switch status {
	case http.StatusNotFound:
		return "no such route"
	case http.StatusMethodNotAllowed:
		return "method not allowed on this route; see the Allow header"
	}
	return http.StatusText(status)
}

// headerRecorder captures the status and headers of the mux's built-in
// 404/405 answers so they can be rewritten as problem documents.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
