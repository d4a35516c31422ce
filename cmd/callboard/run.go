package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"callboard/internal/app"
	"callboard/internal/auth"
	"callboard/internal/billing"
	"callboard/internal/calls"
	"callboard/internal/demo"
	"callboard/internal/mail"
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
  plan             create, list or archive plans (the catalogue)
  invoice          list invoices, or mark one paid
  subscription set put a user on a plan (support)
  announce         queue product news for the users who opted in (with one-click unsubscribe)

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
	case "plan":
		return planCommand(ctx, args, getenv, stdout, stderr)
	case "invoice":
		return invoiceCommand(ctx, args, getenv, stdout, stderr)
	case "subscription":
		return subscriptionCommand(ctx, args, getenv, stdout, stderr)
	case "announce":
		return announceCommand(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
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

// openApp opens the database and builds the application (app.Open) from
// the parsed configuration.
func openApp(ctx context.Context, cfg *config, stderr io.Writer) (*app.App, error) {
	key, err := cfg.signingKey()
	if err != nil {
		return nil, err
	}
	logger := cfg.logger(stderr)
	mailCfg := mail.Config{PublicURL: cfg.PublicURL}
	if cfg.SMTPURL != "" {
		if mailCfg.Transport, err = mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom); err != nil {
			return nil, fmt.Errorf("CALLBOARD_SMTP_URL: %w", err)
		}
	}
	return app.Open(ctx, app.Settings{
		DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: logger, MailFrom: cfg.MailFrom,
		Config: app.Config{
			Mail: mailCfg,
			Auth: auth.Config{SigningKey: key, AccessTTL: cfg.AccessTTL, SessionIdle: cfg.SessionIdle, SessionLifetime: cfg.SessionLifetime,
				HashConcurrency: cfg.HashConcurrency, RefreshGrace: cfg.RefreshGrace},
			Calls:   calls.Config{PlatformKey: cfg.PlatformKey},
			Billing: billing.Config{Currency: cfg.BillingCurrency},
		},
	})
}

// withApp runs fn with the application open, and closes it after.
func withApp(ctx context.Context, cfg *config, stderr io.Writer, fn func(a *app.App) error) error {
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
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
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		if withDemo {
			if err := seedDemo(ctx, a, stdout); err != nil {
				return err
			}
		}
		return a.Serve(ctx, app.Serving{Addr: cfg.Addr, MetricsAddr: cfg.MetricsAddr, TrustedProxies: cfg.TrustedProxies,
			Version: version, ShutdownTimeout: cfg.ShutdownTimeout,
			Listening: func(addr net.Addr) { fmt.Fprintf(stdout, "Callboard is at %s\n", browserURL(addr)) }})
	})
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
	login, err := demo.Seed(ctx, demo.Services{Auth: a.Auth, Account: a.Account, Calls: a.Calls, Billing: a.Billing, Notify: a.Notify})
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
		n, err := a.RebuildStats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt call statistics of %d users in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
