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

	"callboard/internal/app"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/demo"
	"callboard/internal/store"
)

const version = "0.1.0"

const usage = `Usage: callboard [command] [flags]

Commands:
  serve            serve the API and dashboard (the default); --demo also fills in the demo account
  migrate          apply database migrations and exit
  demo             create (or give a new password to) the demo account, print its login and exit
  user create      create a user (password read from standard input)
  stats rebuild    recompute every user's call statistics from their calls
  openapi          print the OpenAPI document (the web client is generated from it)

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
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "stats":
		return statsCommand(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return openapiCommand(ctx, args, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parseConfig parses a command's flags (the shared ones plus what extra
// declares) and finishes the configuration.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(fs *flag.FlagSet)) (*config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, finish := bindConfig(fs, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// openApp opens and migrates the database and wires every capability.
// Close the result's DB after the app.
func openApp(ctx context.Context, cfg *config, stderr io.Writer) (*app.App, error) {
	logger := cfg.logger(stderr)
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*app.App, error) {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return fail(err)
	}
	if err := db.Optimize(ctx); err != nil {
		return fail(err)
	}
	key, err := cfg.signingKey()
	if err != nil {
		return fail(err)
	}
	blobs, err := blob.NewDir(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return fail(err)
	}
	a, err := app.New(app.Config{
		DB: db, Logger: logger, PlatformKey: cfg.PlatformKey, Blobs: blobs,
		Auth: auth.Config{SigningKey: key, AccessTTL: cfg.AccessTTL, SessionIdle: cfg.SessionIdle, SessionLifetime: cfg.SessionLifetime},
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// withApp runs fn with the application open, and closes it after.
func withApp(ctx context.Context, cfg *config, stderr io.Writer, fn func(a *app.App) error) error {
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() {
		a.Close()
		a.DB.Close()
	}()
	return fn(a)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var withDemo bool
	cfg, err := parseConfig("serve", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&withDemo, "demo", false, "create the demo account (or give it a new password) and print its login")
	})
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error { return serveApp(ctx, cfg, a, withDemo, stdout) })
}

// serveApp serves until ctx ends, then shuts down gracefully.
func serveApp(ctx context.Context, cfg *config, a *app.App, withDemo bool, stdout io.Writer) error {
	if withDemo {
		if err := seedDemo(ctx, a, stdout); err != nil {
			return err
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler(app.HTTP{Registry: registry, TrustedProxies: cfg.TrustedProxies, Version: version}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // avatar uploads on slow mobile links
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: exports and the live stream are long answers.
		ErrorLog: slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a.Logger.Info("serving", "addr", ln.Addr().String(), "database", string(a.DB.Dialect), "version", version)
	fmt.Fprintf(stdout, "Callboard is at %s\n", browserURL(ln.Addr()))

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
	a.Logger.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.Logger.Info("stopped")
	return nil
}

// purgeLoop drops expired sessions and rate-limit windows every few
// minutes, and keeps the query planner's statistics fresh (openApp has
// refreshed them at start, so that waits for the first tick).
func purgeLoop(ctx context.Context, a *app.App) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := a.Auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Warn("purge expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Warn("optimize database", "err", err)
		}
	}
}

// demoCommand is "callboard demo".
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("demo", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error { return seedDemo(ctx, a, stdout) })
}

func seedDemo(ctx context.Context, a *app.App, stdout io.Writer) error {
	login, err := demo.Seed(ctx, demo.Services{Auth: a.Auth, Account: a.Account, Calls: a.Calls})
	if err != nil {
		return err
	}
	what := "demo account ready (new password; earlier sessions ended)"
	if login.Created {
		what = "demo account created with 90 days of calls"
	}
	fmt.Fprintf(stdout, "%s\n  email:    %s\n  password: %s\n", what, login.Email, login.Password)
	return nil
}

// statsCommand is "callboard stats rebuild".
func statsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return fmt.Errorf("usage: callboard stats rebuild")
	}
	cfg, err := parseConfig("stats rebuild", args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		start := time.Now()
		n, err := a.Rollups.RebuildAll(ctx, a.Account.Location)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt call statistics of %d users in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
