package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"callboard/internal/account"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/calls"
	"callboard/internal/httpapi"
	"callboard/internal/store"
)

const version = "0.1.0"

const usage = `Usage: callboard [command] [flags]

Commands:
  serve            serve the API and dashboard (the default)
  migrate          apply database migrations and exit
  user create      create a user (password read from standard input)

Run "callboard COMMAND -h" for a command's flags.
`

// run is the whole program: main only adds the process's signals and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// app is what every command that touches data opens.
type app struct {
	cfg    *config
	logger *slog.Logger
	db     *store.DB
	auth   *auth.Service
	calls  *calls.Service
}

func openApp(ctx context.Context, cfg *config, stderr io.Writer) (*app, error) {
	logger := cfg.logger(stderr)
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	key, err := cfg.signingKey()
	if err != nil {
		db.Close()
		return nil, err
	}
	authSvc, err := auth.NewService(db, auth.Config{
		SigningKey: key, AccessTTL: cfg.AccessTTL, SessionIdle: cfg.SessionIdle, SessionLifetime: cfg.SessionLifetime,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	callsSvc := calls.NewService(db, calls.Config{PlatformKey: cfg.PlatformKey, Logger: logger})
	return &app{cfg: cfg, logger: logger, db: db, auth: authSvc, calls: callsSvc}, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, finish := bindConfig(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	blobs, err := blob.NewDir(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return err
	}
	accountSvc := account.NewService(account.Config{DB: a.db, Users: a.auth, Blobs: blobs, Logger: a.logger})
	handler := httpapi.New(httpapi.Config{
		Logger: a.logger, DB: a.db, Auth: a.auth, Account: accountSvc, Calls: a.calls, Registry: registry, TrustedProxies: cfg.TrustedProxies, Version: version,
	})
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // avatar uploads on slow mobile links
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: exports and the live stream are long answers.
		ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.logger.Info("serving", "addr", ln.Addr().String(), "database", string(a.db.Dialect), "version", version)

	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go purgeLoop(bgCtx, a)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.logger.Info("stopped")
	return nil
}

// purgeLoop drops expired sessions and rate-limit windows every few minutes.
func purgeLoop(ctx context.Context, a *app) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := a.auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("purge expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
