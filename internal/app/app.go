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
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/account"
	"callboard/internal/audit"
	"callboard/internal/auth"
	"callboard/internal/billing"
	"callboard/internal/blob"
	"callboard/internal/calls"
	"callboard/internal/dashboard"
	"callboard/internal/httpapi"
	"callboard/internal/mail"
	"callboard/internal/notify"
	"callboard/internal/stats"
	"callboard/internal/store"
	"callboard/web"
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
	Billing billing.Config // currency, tick; a test's own Publisher
	Audit   audit.Config   // retention
	Notify  notify.Config  // stream bounds and timings
	Mail    mail.Config    // the Transport (required), SMS provider, public URL, retry timings
}

// App is every capability, wired.
type App struct {
	DB        *store.DB
	Logger    *slog.Logger
	Auth      *auth.Service
	Account   *account.Service
	Calls     *calls.Service
	Stats     *stats.Service
	Billing   *billing.Service
	Dashboard *dashboard.Service
	Audit     *audit.Log
	Notify    *notify.Service
	Mail      *mail.Service

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

	mailCfg := cfg.Mail
	mailCfg.DB, mailCfg.Now, mailCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	if mailCfg.Transport == nil {
		return nil, errors.New("app: no mail transport (SMTP, or mail.Files in the data directory)")
	}
	var err error
	if a.Mail, err = mail.NewService(mailCfg); err != nil {
		return nil, err
	}

	auditCfg := cfg.Audit
	auditCfg.DB, auditCfg.Now, auditCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	a.Audit = audit.NewLog(auditCfg)

	a.Stats = stats.NewService(stats.Config{DB: cfg.DB, Now: cfg.Now, Logger: cfg.Logger})
	// Account, auth, notify and calls need each other (account's deletion
	// and export reach the others; they read the profile and settings):
	// account is built first and reaches the later ones through adapters
	// that look them up when called, after New returned.
	accountCfg := cfg.Account
	accountCfg.DB, accountCfg.Blobs, accountCfg.Now, accountCfg.Logger = cfg.DB, cfg.Blobs, cfg.Now, cfg.Logger
	if accountCfg.TimezoneChanges == nil {
		accountCfg.TimezoneChanges = a.Stats // rollups are kept per user-local day: a new timezone means a rebuild
	}
	accountCfg.Audit = a.Audit
	accountCfg.Credentials = credentialsFunc(func(ctx context.Context, userID int64, location, password string) error {
		return a.Auth.CheckPassword(ctx, userID, location, password)
	})
	// Every capability's share of an account deletion, in one transaction.
	accountCfg.Erasers = append(accountCfg.Erasers,
		eraserFunc(func(ctx context.Context, tx *sql.Tx, userID int64) error {
			return a.Auth.ErasePersonalData(ctx, tx, userID)
		}),
		eraserFunc(func(ctx context.Context, tx *sql.Tx, userID int64) error {
			return a.Calls.ErasePersonalData(ctx, tx, userID)
		}),
		eraserFunc(func(ctx context.Context, tx *sql.Tx, userID int64) error {
			return a.Notify.ErasePersonalData(ctx, tx, userID)
		}),
		eraserFunc(func(ctx context.Context, tx *sql.Tx, userID int64) error {
			return a.Billing.ErasePersonalData(ctx, tx, userID) // invoices stay, anonymised
		}),
		a.Audit,
		a.Mail, // messages to the account, sent or not
	)
	accountCfg.Export = account.ExportSources{
		Sessions: exporterFunc(func(ctx context.Context, userID int64, w io.Writer) error {
			return a.Auth.ExportSessions(ctx, userID, w)
		}),
		Notifications: exporterFunc(func(ctx context.Context, userID int64, w io.Writer) error {
			return a.Notify.ExportNotifications(ctx, userID, w)
		}),
		Calls: exporterFunc(func(ctx context.Context, userID int64, w io.Writer) error {
			return a.Calls.ExportCallsCSV(ctx, userID, w)
		}),
		Audit: a.Audit,
		Invoices: exporterFunc(func(ctx context.Context, userID int64, w io.Writer) error {
			return a.Billing.ExportInvoices(ctx, userID, w)
		}),
	}
	a.Account = account.NewService(accountCfg)

	authCfg := cfg.Auth
	authCfg.DB, authCfg.Now, authCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	authCfg.Profiles = a.Account // sign-in answers show the profile
	authCfg.Audit = a.Audit      // failed password changes are limited per account
	authCfg.Mailer = a.Mail      // verification and reset links, in their token's transaction
	authCfg.Languages = languageFunc(func(ctx context.Context, userID int64) (string, error) {
		p, err := a.Account.Preferences(ctx, userID) // mail in the language the user reads the dashboard in
		return string(p.Language), err
	})
	if authCfg.Events == nil {
		authCfg.Events = securityEventsFunc(func(ctx context.Context, e auth.SecurityEvent) {
			err := a.Notify.Publish(ctx, notify.Event{UserID: e.UserID, Category: notify.CategorySecurity,
				Kind: e.Kind, Title: e.Title, Body: e.Body, Data: e.Data})
			if err != nil {
				a.Logger.ErrorContext(ctx, "security notification", "user_id", e.UserID, "kind", e.Kind, "err", err)
			}
		})
	}
	if a.Auth, err = auth.NewService(authCfg); err != nil {
		return nil, err
	}

	notifyCfg := cfg.Notify
	notifyCfg.DB, notifyCfg.Now, notifyCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	notifyCfg.Accounts = a.Account // settings, addresses and languages; unsubscribes
	notifyCfg.Sessions = a.Auth    // a stream ends with its session
	notifyCfg.Mail = a.Mail        // notification email and SMS, product news
	if notifyCfg.UnsubscribeKey, err = deriveKey(cfg.Auth.SigningKey, "callboard mail unsubscribe v1"); err != nil {
		return nil, err
	}
	a.Notify = notify.NewService(notifyCfg)

	billingCfg := cfg.Billing
	billingCfg.DB, billingCfg.Now, billingCfg.Logger = cfg.DB, cfg.Now, cfg.Logger
	billingCfg.Customers = billing.CustomersFunc(func(ctx context.Context, userID int64) (billing.Customer, error) {
		u, err := a.Account.Profile(ctx, userID) // invoices are made out to the profile's name, email and phone
		if err != nil {
			return billing.Customer{}, err
		}
		c := billing.Customer{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Email: u.Email}
		if u.Phone != nil {
			c.Phone = *u.Phone
		}
		return c, nil
	})
	billingCfg.Platform = billing.PlatformGateFunc(func(api huma.API) func(huma.Context, func(huma.Context)) {
		return a.Calls.PlatformAuth(api) // the platform marks invoices paid with its key
	})
	if billingCfg.Publisher == nil {
		billingCfg.Publisher = billingEventsFunc(a.billingEvent) // the audit log and the user's notifications
	}
	a.Billing = billing.NewService(billingCfg)

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
		// Statistics and metered usage stay exact in the ingest transaction.
		callsCfg.Observer = calls.Observers{a.Stats, a.Billing}
	}
	if callsCfg.Publisher == nil {
		// After the batch commits: usage alerts, and finished and missed
		// calls as notifications.
		callsCfg.Publisher = calls.Publishers{a.Billing, a.Notify}
	}
	a.Calls = calls.NewService(callsCfg)

	a.Dashboard = dashboard.NewService(dashboard.Config{
		Profiles: a.Account, Zones: a.Account, Numbers: a.Stats, Recent: a.Calls,
		Subscriptions: a.Billing, Billing: a.Billing, Notifications: a.Notify,
	})

	// The one list. Routes are mounted in this order; auth comes first, its
	// middleware authenticates the operations of all.
	a.capabilities = []any{a.Auth, a.Account, a.Calls, a.Stats, a.Billing, a.Dashboard, a.Notify, a.Audit, a.Mail}
	for _, c := range a.capabilities {
		_, routes := c.(httpapi.Capability)
		_, runs := c.(Runner)
		if !routes && !runs {
			return nil, fmt.Errorf("app: %T has neither routes nor background work", c)
		}
	}
	return a, nil
}

// MetricsSource is a capability with metrics of its own, served at
// /metrics with the HTTP ones.
type MetricsSource interface {
	Metrics() []prometheus.Collector
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

// Handler returns the whole HTTP surface: every capability's routes and
// the embedded web dashboard.
func (a *App) Handler(h HTTP) http.Handler {
	ui, err := web.Handler()
	if err != nil {
		a.Logger.Error("web dashboard not served", "err", err)
	}
	var caps []httpapi.Capability
	for _, c := range a.capabilities {
		if r, ok := c.(httpapi.Capability); ok {
			caps = append(caps, r)
		}
		if m, ok := c.(MetricsSource); ok && h.Registry != nil {
			for _, col := range m.Metrics() {
				if err := h.Registry.Register(col); err != nil {
					a.Logger.Error("metrics not registered", "capability", fmt.Sprintf("%T", c), "err", err)
				}
			}
		}
	}
	return httpapi.New(httpapi.Config{Logger: a.Logger, DB: a.DB, Capabilities: caps,
		Registry: h.Registry, TrustedProxies: h.TrustedProxies, Version: h.Version, MetricsElsewhere: h.MetricsElsewhere, Web: ui})
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

// deriveKey is a 32-byte key for one purpose (info) derived from the
// signing key with HKDF-SHA256: a capability that signs its own links never
// holds auth's key, and a token of one purpose is worthless for another.
func deriveKey(signingKey []byte, info string) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, signingKey, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("derive %s key: %w", info, err)
	}
	return key, nil
}

// Adapters: a function as the interface a capability declares, for
// collaborators built after it (see New).
type (
	credentialsFunc    func(ctx context.Context, userID int64, location, password string) error
	languageFunc       func(ctx context.Context, userID int64) (string, error)
	eraserFunc         func(ctx context.Context, tx *sql.Tx, userID int64) error
	exporterFunc       func(ctx context.Context, userID int64, w io.Writer) error
	securityEventsFunc func(ctx context.Context, e auth.SecurityEvent)
	billingEventsFunc  func(ctx context.Context, e billing.Event)
)

func (f credentialsFunc) CheckPassword(ctx context.Context, userID int64, location, password string) error {
	return f(ctx, userID, location, password)
}

func (f languageFunc) Language(ctx context.Context, userID int64) (string, error) {
	return f(ctx, userID)
}

func (f eraserFunc) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	return f(ctx, tx, userID)
}

func (f exporterFunc) ExportSessions(ctx context.Context, userID int64, w io.Writer) error {
	return f(ctx, userID, w)
}

func (f exporterFunc) ExportNotifications(ctx context.Context, userID int64, w io.Writer) error {
	return f(ctx, userID, w)
}

func (f exporterFunc) ExportCallsCSV(ctx context.Context, userID int64, w io.Writer) error {
	return f(ctx, userID, w)
}

func (f securityEventsFunc) SecurityEvent(ctx context.Context, e auth.SecurityEvent) { f(ctx, e) }

func (f billingEventsFunc) BillingEvent(ctx context.Context, e billing.Event) { f(ctx, e) }

func (f exporterFunc) ExportInvoices(ctx context.Context, userID int64, w io.Writer) error {
	return f(ctx, userID, w)
}

// billingEvent records a committed billing change in the audit log and
// raises it as a billing notification (which the user's settings may turn
// off; the audit entry is kept regardless).
func (a *App) billingEvent(ctx context.Context, e billing.Event) {
	entry := audit.Entry{UserID: e.UserID, Action: "billing." + e.Kind, Details: e.Data}
	if err := a.Audit.Record(ctx, entry); err != nil {
		a.Logger.ErrorContext(ctx, "billing audit", "user_id", e.UserID, "kind", e.Kind, "err", err)
	}
	err := a.Notify.Publish(ctx, notify.Event{UserID: e.UserID, Category: notify.CategoryBilling,
		Kind: e.Kind, Title: e.Title, Body: e.Body, Data: e.Data})
	if err != nil {
		a.Logger.ErrorContext(ctx, "billing notification", "user_id", e.UserID, "kind", e.Kind, "err", err)
	}
}
