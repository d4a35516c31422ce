// Package app is Callboard's composition root: it builds every capability
// from its Config, wires who reads whose data and who observes whose
// events, holds the one list of capabilities, mounts their routes
// (Handler) and runs their background work (Run). The binary and the tests
// build the same thing through New (or Open), so tests exercise the real
// wiring.
//
// Adding a capability: write its package (a NewService(Config), a
// Register(huma.API) with named handlers, a Run(ctx) if it has background
// work), then construct it in New and append it to the list there. Nothing
// else changes: httpapi mounts whatever the list holds and Run runs it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/account"
	"callboard/internal/auth"
	"callboard/internal/blob"
	"callboard/internal/calls"
	"callboard/internal/dashboard"
	"callboard/internal/httpapi"
	"callboard/internal/stats"
	"callboard/internal/store"
)

// Config is what the application is built from: shared infrastructure and
// the capabilities' own settings. In the capabilities' configs New fills in
// the collaborators (DB, clock, logger and other capabilities) and keeps any
// a caller set (a test's recording observer, say).
type Config struct {
	DB     *store.DB
	Blobs  blob.Store // avatar files
	Logger *slog.Logger
	Now    func() time.Time // the clock; time.Now when nil

	Auth    auth.Config    // signing key, token and session lifetimes, limits
	Account account.Config // limits; a test's own TimezoneChanges
	Calls   calls.Config   // the platform key; a test's own Observer, Publisher, Zones, Consent
}

// App is every capability, wired.
type App struct {
	DB        *store.DB
	Logger    *slog.Logger
	Auth      *auth.Service
	Account   *account.Service
	Calls     *calls.Service
	Stats     *stats.Service
	Dashboard *dashboard.Service

	// capabilities is the one list: each has routes (httpapi.Capability),
	// background work (Runner), or both.
	capabilities []any
	closeDB      bool // Open opened the database: Close closes it
	stopRun      context.CancelFunc
	runDone      chan struct{}
}

// Runner is a capability with background work: Run works until ctx ends
// and then returns nil; an error means it could not work at all.
type Runner interface {
	Run(ctx context.Context) error
}

// New builds the application over an open, migrated database. Errors: an
// invalid auth configuration.
func New(cfg Config) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	a := &App{DB: cfg.DB, Logger: cfg.Logger}

	a.Stats = stats.NewService(stats.Config{DB: cfg.DB, Now: cfg.Now, Logger: cfg.Logger})
	accountCfg := cfg.Account
	accountCfg.DB, accountCfg.Blobs, accountCfg.Now, accountCfg.Logger = cfg.DB, cfg.Blobs, cfg.Now, cfg.Logger
	if accountCfg.TimezoneChanges == nil {
		accountCfg.TimezoneChanges = a.Stats // rollups are kept per user-local day: a new timezone means a rebuild
	}
	a.Account = account.NewService(accountCfg)

	authCfg := cfg.Auth
	authCfg.DB, authCfg.Now, authCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	authCfg.Profiles = a.Account // sign-in answers show the profile
	var err error
	if a.Auth, err = auth.NewService(authCfg); err != nil {
		return nil, err
	}

	callsCfg := cfg.Calls
	callsCfg.DB, callsCfg.Now, callsCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	callsCfg.Accounts = a.Auth // the owner of each reported call
	if callsCfg.Zones == nil {
		callsCfg.Zones = a.Account // date filters are days in the user's timezone
	}
	if callsCfg.Consent == nil {
		callsCfg.Consent = a.Account // recordings only with the user's consent
	}
	if callsCfg.Observer == nil {
		callsCfg.Observer = a.Stats // statistics stay exact in the ingest transaction
	}
	a.Calls = calls.NewService(callsCfg)

	a.Dashboard = dashboard.NewService(dashboard.Config{
		Profiles: a.Account, Zones: a.Account, Numbers: a.Stats, Recent: a.Calls,
		// Subscriptions, Billing, Notifications: null cards until those capabilities exist.
	})

	// The one list. Routes are mounted in this order; auth comes first, its
	// middleware authenticates the operations of all.
	a.capabilities = []any{a.Auth, a.Account, a.Calls, a.Stats, a.Dashboard}
	for _, c := range a.capabilities {
		_, routes := c.(httpapi.Capability)
		_, runs := c.(Runner)
		if !routes && !runs {
			return nil, fmt.Errorf("app: %T has neither routes nor background work", c)
		}
	}
	return a, nil
}

// HTTP is what the HTTP surface needs beyond the capabilities.
type HTTP struct {
	Registry       *prometheus.Registry
	TrustedProxies []netip.Prefix
	Version        string
	// MetricsElsewhere leaves /metrics out of the handler (served on an
	// address of its own).
	MetricsElsewhere bool
}

// Handler returns the whole HTTP surface: every capability's routes.
func (a *App) Handler(h HTTP) http.Handler {
	var caps []httpapi.Capability
	for _, c := range a.capabilities {
		if r, ok := c.(httpapi.Capability); ok {
			caps = append(caps, r)
		}
	}
	return httpapi.New(httpapi.Config{Logger: a.Logger, DB: a.DB, Capabilities: caps,
		Registry: h.Registry, TrustedProxies: h.TrustedProxies, Version: h.Version, MetricsElsewhere: h.MetricsElsewhere})
}

// Run runs every capability's background work, and the database's upkeep,
// until ctx ends, then waits for all of it to stop. Errors: those of
// runners that could not work at all, joined.
func (a *App) Run(ctx context.Context) error {
	runners := []func(context.Context) error{func(ctx context.Context) error { return a.DB.Run(ctx, a.Logger) }}
	for _, c := range a.capabilities {
		if r, ok := c.(Runner); ok {
			runners = append(runners, r.Run)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, run := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Start runs Run in the background until Close (for tests and commands
// that serve nothing but need background work done).
func (a *App) Start() {
	if a.stopRun != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stopRun, a.runDone = cancel, make(chan struct{})
	go func() {
		defer close(a.runDone)
		if err := a.Run(ctx); err != nil {
			a.Logger.Error("background work", "err", err)
		}
	}()
}

// Close stops background work started by Start and waits for it, then
// closes the database if Open opened it.
func (a *App) Close() {
	if a.stopRun != nil {
		a.stopRun()
		<-a.runDone
		a.stopRun = nil
	}
	if a.closeDB {
		a.DB.Close()
	}
}
