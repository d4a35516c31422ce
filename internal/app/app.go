// Package app wires Callboard's capabilities together: which service reads
// whose data and which observes whose events. The binary and the tests build
// the same thing through New, so tests exercise the real wiring.
package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/account"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/calls"
	"callboard/internal/httpapi"
	"callboard/internal/stats"
	"callboard/internal/store"
	"callboard/web"
)

// Config is what the application is built from.
type Config struct {
	DB          *store.DB
	Auth        auth.Config // its Now is replaced by Now
	PlatformKey string      // the platform API's key; empty disables it
	Blobs       blob.Store  // avatar files
	Logger      *slog.Logger
	Now         func() time.Time // the clock; time.Now when nil
}

// App is every capability, wired.
type App struct {
	DB      *store.DB
	Logger  *slog.Logger
	Auth    *auth.Service
	Account *account.Service
	Calls   *calls.Service
	Rollups *stats.Rollups
	Stats   *stats.Service

	stopBackground context.CancelFunc
}

// New builds the application. Close it to stop its background work.
func New(cfg Config) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	cfg.Auth.Now = cfg.Now
	users, err := auth.NewService(cfg.DB, cfg.Auth)
	if err != nil {
		return nil, err
	}
	acct := account.NewService(account.Config{DB: cfg.DB, Users: users, Blobs: cfg.Blobs, Now: cfg.Now, Logger: cfg.Logger})
	rollups := stats.NewRollups(cfg.DB, cfg.Now)
	background, stop := context.WithCancel(context.Background())
	statsSvc := stats.NewService(background, cfg.DB, rollups, acct, cfg.Now)
	// Rollups are kept per user-local day: a new timezone means a rebuild.
	acct.OnTimezoneChange = statsSvc.TimezoneChanged
	callsSvc := calls.NewService(cfg.DB, calls.Config{
		PlatformKey: cfg.PlatformKey, Now: cfg.Now, Logger: cfg.Logger,
		Zones:    acct,    // date filters are days in the user's timezone
		Consent:  acct,    // recordings only with the user's consent
		Observer: rollups, // statistics stay exact in the ingest transaction
	})
	return &App{DB: cfg.DB, Logger: cfg.Logger, Auth: users, Account: acct, Calls: callsSvc, Rollups: rollups, Stats: statsSvc,
		stopBackground: stop}, nil
}

// Close stops background work (statistics rebuilds) and waits for it.
func (a *App) Close() {
	a.stopBackground()
	a.Stats.Wait()
}

// HTTP is what the HTTP surface needs beyond the services.
type HTTP struct {
	Registry       *prometheus.Registry
	TrustedProxies []netip.Prefix
	Version        string
}

// Handler returns the whole HTTP surface, with the embedded web dashboard.
func (a *App) Handler(h HTTP) http.Handler {
	ui, err := web.Handler()
	if err != nil {
		a.Logger.Error("web dashboard not served", "err", err)
	}
	return httpapi.New(httpapi.Config{
		Logger: a.Logger, DB: a.DB, Auth: a.Auth, Account: a.Account, Calls: a.Calls, Stats: a.Stats,
		Registry: h.Registry, TrustedProxies: h.TrustedProxies, Version: h.Version, Web: ui,
	})
}
