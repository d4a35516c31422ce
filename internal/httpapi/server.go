// Package httpapi is Callboard's HTTP server: the router, the OpenAPI
// document, middleware (request ids, logs, metrics, security headers, real
// client addresses) and the one place errors become RFC 9457 problems.
package httpapi

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"callboard/internal/store"
)

// Config is what the server is built from.
type Config struct {
	Logger *slog.Logger
	DB     *store.DB // pinged by /readyz; its outages answer 503
	// Capabilities are mounted in this order (routes.go); their
	// middlewares, if any, run before every operation.
	Capabilities []Capability
	Registry     *prometheus.Registry // metrics are registered here and served at /metrics
	// MetricsElsewhere leaves /metrics out of this handler: the binary serves
	// MetricsHandler on an address of its own (CALLBOARD_METRICS_ADDR).
	MetricsElsewhere bool
	// WriteTimeout is how long each write of an answer may wait for the
	// client to read (20s when 0).
	WriteTimeout time.Duration
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
	// Every operation's body is JSON unless it says otherwise (415).
	api.UseMiddleware(requireJSON(api))
	mount(api, cfg.Capabilities)
	documentNullablePatchEnums(api.OpenAPI())

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if !cfg.DB.Available() {
			writeProblem(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		if err := cfg.DB.Ping(ctx); err != nil {
			loggerFrom(r.Context()).Warn("readiness check failed", "err", err)
			writeProblem(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(cfg.DB.Dialect)})
	})
	if !cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", MetricsHandler(cfg.Registry))
	}
	docs, _ := fs.Sub(swaggerUI, "swaggerui")
	mux.Handle("GET /swagger/", http.StripPrefix("/swagger/", http.FileServerFS(docs)))
	mux.Handle("GET /swagger", http.RedirectHandler("/swagger/", http.StatusMovedPermanently))

	metrics := newMetrics(cfg.Registry)
	var h http.Handler = &router{mux: mux, web: cfg.Web}
	h = guardDatabase(h, cfg.DB)
	h = securityHeaders(h)
	h = recoverPanics(h)
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 20 * time.Second
	}
	h = observe(h, metrics, cfg.WriteTimeout)
	h = realClientAddr(h, cfg.TrustedProxies)
	h = withRequestState(h, cfg.Logger)
	return h
}

// MetricsHandler serves the registry's metrics in Prometheus' format.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// requireJSON answers 415 when a request's body is declared as something
// other than JSON on an operation whose body is JSON only. Huma checks this
// for the bodies it parses itself; this covers every operation, including
// those that read their raw body (the platform's ingest). A body without a
// Content-Type is read as JSON. An operation opts out by declaring another
// media type for its body (the one-click unsubscribe takes the form mail
// providers send), and then checks the media type itself.
func requireJSON(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		ct := ctx.Header("Content-Type")
		if ct == "" || op.RequestBody == nil || !jsonOnly(op.RequestBody.Content) {
			next(ctx)
			return
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !isJSON(mt) {
			_ = huma.WriteErr(api, ctx, http.StatusUnsupportedMediaType, "the body must be JSON",
				&huma.ErrorDetail{Location: "header.Content-Type", Message: "must be application/json", Value: truncate(ct, 64)})
			return
		}
		next(ctx)
	}
}

func jsonOnly(content map[string]*huma.MediaType) bool {
	if len(content) == 0 {
		return false
	}
	for mt := range content {
		if !isJSON(mt) {
			return false
		}
	}
	return true
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// documentNullablePatchEnums makes the document say what the server does
// with null in a PATCH body (JSON Merge Patch): a nullable field with a
// fixed list of values lists null among them, and says that null resets it
// to its default.
func documentNullablePatchEnums(doc *huma.OpenAPI) {
	for name, schema := range doc.Components.Schemas.Map() {
		if !strings.HasSuffix(name, "Patch") {
			continue
		}
		for _, p := range schema.Properties {
			if p.Nullable && len(p.Enum) > 0 && !slices.Contains(p.Enum, nil) {
				p.Enum = append(p.Enum, nil)
				p.Description = strings.TrimSpace(p.Description + " null resets it to the default.")
			}
		}
	}
}

func newAPI(mux *http.ServeMux, version string) huma.API {
	hc := huma.DefaultConfig("Callboard API", version)
	hc.Info.Description = "The customer dashboard API of an AI voice-calling platform. " +
		"User routes take `Authorization: Bearer <access token>` from /api/auth/login/. " +
		"Errors are RFC 9457 problem documents; validation errors list each bad field in `errors`."
	hc.CreateHooks = nil // no "$schema" links added to every answer
	hc.DocsPath = ""     // /swagger/ is served from embedded files instead of a CDN
	hc.OpenAPIPath = "/openapi"
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{} // each capability adds its own
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
			if st := stateFrom(r.Context()); st != nil {
				st.route = webRoute // one metrics label for every page and asset of the app
			}
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
