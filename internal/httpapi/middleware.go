package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/store"
)

// maxRequestBody caps every request body; operations set tighter limits.
// The platform's call ingest (1000 calls with transcripts) needs the most.
const maxRequestBody = 32 << 20

// requestState travels in the request context: the id and logger for this
// request, and the route the mux matched (filled in after routing).
type requestState struct {
	id     string
	logger *slog.Logger
	route  string
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if st := stateFrom(ctx); st != nil {
		return st.logger
	}
	return slog.Default()
}

func ctxOf(hc huma.Context) context.Context {
	if hc == nil {
		return context.Background()
	}
	return hc.Context()
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// withRequestState gives each request an id (the caller's X-Request-ID when
// it is sane, else a new one), echoes it, and a logger that carries it.
func withRequestState(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !saneRequestID(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		st := &requestState{id: id, logger: logger.With("request_id", id)}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// realClientAddr replaces RemoteAddr with the client's address from
// X-Forwarded-For, but only when the direct peer is a trusted proxy; the
// right-most address not itself a trusted proxy is the client.
func realClientAddr(next http.Handler, trusted []netip.Prefix) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(trusted) > 0 {
			if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && isTrusted(peer.Addr()) {
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break
					}
					if !isTrusted(a) || i == 0 {
						r = r.Clone(r.Context())
						r.RemoteAddr = net.JoinHostPort(a.Unmap().String(), "0")
						break
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer gets (OWASP secure headers),
// caps the body size, and keeps API answers out of caches: they carry tokens
// and personal data.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		} else {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "+
				"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a logged 500 problem.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				loggerFrom(r.Context()).Error("panic", "panic", v)
				writeProblem(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callboard_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "callboard_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe logs each request and records its metrics, labelled by the
// matched route pattern (never the raw path, which would explode label sets).
// A request its client abandoned counts as 499 (also a streamed answer cut
// off half-way), never as a server error, and is logged at info.
//
// Every write of an answer gets writeTimeout to complete (a deadline on the
// connection, set before each write and flush): a client that stops reading
// fails the write that waits for it instead of holding the handler, and
// whatever the handler holds, for ever. Long answers (exports) stay
// possible as long as the client keeps reading.
func observe(next http.Handler, m *metrics, writeTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, rc: http.NewResponseController(w), writeTimeout: writeTimeout}
		defer func() {
			rw.extendDeadline() // for the server's own final flush
			elapsed := time.Since(start)
			route := "unmatched"
			if st := stateFrom(r.Context()); st != nil && st.route != "" {
				route = st.route
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			aborted := recover()
			if clientGone(r.Context()) && (status >= 500 || aborted != nil) {
				status = StatusClientClosedRequest
			} else if aborted != nil && status < 500 {
				status = http.StatusInternalServerError // cut off half-way by the server
			}
			m.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			loggerFrom(r.Context()).LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", status), slog.Int64("bytes", rw.bytes), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("client", r.RemoteAddr))
			if aborted != nil {
				panic(aborted)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// guardDatabase answers API requests 503 with Retry-After at once while the
// database is down, and runs the others with a context that is cancelled as
// soon as it goes down, so no request hangs on a frozen database.
func guardDatabase(next http.Handler, db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if !db.Available() {
			for k, v := range errDatabaseUnavailable.GetHeaders() {
				w.Header()[k] = v
			}
			writeProblem(w, http.StatusServiceUnavailable, errDatabaseUnavailable.Message)
			return
		}
		ctx, release := db.Guard(r.Context())
		defer release()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type statusWriter struct {
	http.ResponseWriter
	rc           *http.ResponseController
	writeTimeout time.Duration
	status       int
	bytes        int64
}

// extendDeadline gives the next write writeTimeout to complete. Writers
// without deadlines (tests' recorders) are left as they are.
func (w *statusWriter) extendDeadline() {
	if w.writeTimeout > 0 {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.extendDeadline()
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.extendDeadline()
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines (SSE, exports).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through for streamed answers.
func (w *statusWriter) Flush() {
	w.extendDeadline()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
