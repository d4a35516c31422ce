package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"callboard/internal/blob"
	"callboard/internal/httpapi"
	"callboard/internal/mail"
	"callboard/internal/store"
)

// Settings is what the binary is configured with: where the data lives and
// the capabilities' own settings (see Config).
type Settings struct {
	DatabaseURL string // postgres://… or empty for SQLite in DataDir
	DataDir     string // the SQLite database, uploaded files and, without SMTP, outgoing mail
	Logger      *slog.Logger
	MailFrom    string // the From of outgoing mail
	Config             // Auth and Calls settings; DB, Blobs and Logger are set by Open
}

// Open opens and migrates the database, refreshes the planner's statistics
// and builds the application over it. Close closes the database too.
func Open(ctx context.Context, s Settings) (*App, error) {
	db, err := store.Open(ctx, s.DatabaseURL, s.DataDir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*App, error) {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return fail(err)
	}
	if err := db.Optimize(ctx); err != nil {
		return fail(err)
	}
	blobs, err := blob.NewDir(filepath.Join(s.DataDir, "media"))
	if err != nil {
		return fail(err)
	}
	cfg := s.Config
	cfg.DB, cfg.Blobs, cfg.Logger = db, blobs, s.Logger
	if cfg.Mail.Transport == nil {
		// No SMTP server: mail goes to files an operator can open.
		cfg.Mail.Transport = &mail.Files{Dir: filepath.Join(s.DataDir, "mail"), From: s.MailFrom, Logger: s.Logger}
	}
	a, err := New(cfg)
	if err != nil {
		return fail(err)
	}
	a.closeDB = true
	return a, nil
}

// Serving is how the HTTP server runs.
type Serving struct {
	Addr            string
	MetricsAddr     string // when set, /metrics is served here only, not on Addr
	TrustedProxies  []netip.Prefix
	Version         string
	ShutdownTimeout time.Duration       // for requests in flight once ctx ends
	Listening       func(addr net.Addr) // told the listening address once, when not nil
}

// Serve serves the HTTP surface on s.Addr and runs the background work
// (Run) until ctx ends, then finishes requests in flight (within
// ShutdownTimeout) and stops the background work.
func (a *App) Serve(ctx context.Context, s Serving) error {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{
		Addr: s.Addr,
		Handler: a.Handler(HTTP{Registry: registry, TrustedProxies: s.TrustedProxies, Version: s.Version,
			MetricsElsewhere: s.MetricsAddr != ""}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // avatar uploads on slow mobile links
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: exports and the live stream are long answers.
		ErrorLog: slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.Logger.Info("serving", "addr", ln.Addr().String(), "database", string(a.DB.Dialect), "version", s.Version)
	if s.Listening != nil {
		s.Listening(ln.Addr())
	}

	bgCtx, stopBackground := context.WithCancel(ctx)
	background := make(chan error, 1)
	go func() { background <- a.Run(bgCtx) }()
	defer func() {
		stopBackground()
		if err := <-background; err != nil {
			a.Logger.Error("background work", "err", err)
		}
		a.Logger.Info("stopped")
	}()

	errc := make(chan error, 2)
	if s.MetricsAddr != "" {
		metricsSrv, err := serveMetrics(s.MetricsAddr, registry, errc)
		if err != nil {
			ln.Close()
			return err
		}
		defer metricsSrv.Close()
		a.Logger.Info("serving metrics", "addr", s.MetricsAddr)
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down: finishing requests in flight", "timeout", s.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves /metrics alone on addr (CALLBOARD_METRICS_ADDR), so
// the public address does not expose it; a failure to serve goes to errc.
func serveMetrics(addr string, registry *prometheus.Registry, errc chan<- error) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", httpapi.MetricsHandler(registry))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve metrics: %w", err)
		}
	}()
	return srv, nil
}

// RebuildStats recomputes every user's call statistics from their calls in
// their timezone ("callboard stats rebuild"); it returns how many users.
func (a *App) RebuildStats(ctx context.Context) (int, error) {
	return a.Stats.RebuildAll(ctx, a.Auth, a.Account)
}
