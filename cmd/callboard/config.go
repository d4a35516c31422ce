package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"callboard/internal/auth"
)

// config is everything the binary is told, parsed once from flags and
// CALLBOARD_* environment variables (flags win).
type config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	PlatformKey     string
	SigningKey      string
	AccessTTL       time.Duration
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	TrustedProxies  []netip.Prefix
	HashConcurrency int           // password hashes computed at once
	RefreshGrace    time.Duration // a rotated refresh token still answers with its successor this long
	MetricsAddr     string        // serve /metrics here instead of on Addr when set
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	BillingCurrency string
	SMTPURL         string // empty: mail is written to files in DataDir/mail
	MailFrom        string
	PublicURL       string // where users reach the dashboard: links in mail start with it
}

// bindConfig declares the shared flags on fs with defaults from getenv.
// Call the returned function after fs.Parse to finish and check the config.
func bindConfig(fs *flag.FlagSet, getenv func(string) string) (*config, func() error) {
	c := &config{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("CALLBOARD_ADDR", ":8000"), "listen address (CALLBOARD_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("CALLBOARD_DATA_DIR", "./data"), "directory for the SQLite database, signing key and uploads (CALLBOARD_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("CALLBOARD_DATABASE_URL", ""), "postgres://… for PostgreSQL; empty for SQLite in the data directory (CALLBOARD_DATABASE_URL)")
	accessTTL := fs.String("access-ttl", env("CALLBOARD_ACCESS_TTL", "15m"), "access token lifetime (CALLBOARD_ACCESS_TTL)")
	idle := fs.String("session-idle", env("CALLBOARD_SESSION_IDLE", "168h"), "a session unused this long ends (CALLBOARD_SESSION_IDLE)")
	lifetime := fs.String("session-lifetime", env("CALLBOARD_SESSION_LIFETIME", "720h"), "a session ends this long after sign-in (CALLBOARD_SESSION_LIFETIME)")
	proxies := fs.String("trusted-proxies", env("CALLBOARD_TRUSTED_PROXIES", ""), "comma-separated CIDRs of load balancers whose X-Forwarded-For is trusted (CALLBOARD_TRUSTED_PROXIES)")
	hashes := fs.String("hash-concurrency", env("CALLBOARD_HASH_CONCURRENCY", strconv.Itoa(runtime.NumCPU())), "password hashes computed at once, each holding 19 MiB (CALLBOARD_HASH_CONCURRENCY)")
	grace := fs.String("refresh-grace", env("CALLBOARD_REFRESH_GRACE", "5s"), "a rotated refresh token still returns the same new pair this long (CALLBOARD_REFRESH_GRACE)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("CALLBOARD_METRICS_ADDR", ""), "serve /metrics on this address only, not on --addr (CALLBOARD_METRICS_ADDR)")
	fs.StringVar(&c.BillingCurrency, "billing-currency", env("CALLBOARD_BILLING_CURRENCY", "USD"), "ISO 4217 currency new subscriptions start in, on its active free plan (CALLBOARD_BILLING_CURRENCY)")
	fs.StringVar(&c.MailFrom, "mail-from", env("CALLBOARD_MAIL_FROM", "Callboard <no-reply@localhost>"), "the From of outgoing mail (CALLBOARD_MAIL_FROM)")
	fs.StringVar(&c.PublicURL, "public-url", env("CALLBOARD_PUBLIC_URL", ""), "the dashboard's address as users reach it, for links in mail; http://localhost:<port of --addr> when empty (CALLBOARD_PUBLIC_URL)")
	level := fs.String("log-level", env("CALLBOARD_LOG_LEVEL", "info"), "debug, info, warn or error (CALLBOARD_LOG_LEVEL)")
	// Secrets come only from the environment, never flags: flags show up in
	// process listings.
	c.PlatformKey = getenv("CALLBOARD_PLATFORM_KEY")
	c.SigningKey = getenv("CALLBOARD_SIGNING_KEY")
	c.SMTPURL = getenv("CALLBOARD_SMTP_URL") // holds the SMTP password
	c.ShutdownTimeout = 20 * time.Second

	finish := func() error {
		var err error
		for _, d := range []struct {
			name string
			raw  string
			dst  *time.Duration
		}{{"access-ttl", *accessTTL, &c.AccessTTL}, {"session-idle", *idle, &c.SessionIdle}, {"session-lifetime", *lifetime, &c.SessionLifetime}} {
			if *d.dst, err = time.ParseDuration(d.raw); err != nil || *d.dst <= 0 {
				return fmt.Errorf("--%s: want a positive duration like 15m or 168h, got %q", d.name, d.raw)
			}
		}
		if c.HashConcurrency, err = strconv.Atoi(*hashes); err != nil || c.HashConcurrency < 1 {
			return fmt.Errorf("--hash-concurrency: want a positive number, got %q", *hashes)
		}
		if c.RefreshGrace, err = time.ParseDuration(*grace); err != nil || c.RefreshGrace <= 0 || c.RefreshGrace > time.Minute {
			return fmt.Errorf("--refresh-grace: want a duration between 0 and 1m like 5s, got %q", *grace)
		}
		for _, p := range strings.Split(*proxies, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				addr, aerr := netip.ParseAddr(p)
				if aerr != nil {
					return fmt.Errorf("--trusted-proxies: %q is not a CIDR or address", p)
				}
				prefix = netip.PrefixFrom(addr, addr.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix)
		}
		c.BillingCurrency = strings.ToUpper(strings.TrimSpace(c.BillingCurrency))
		if len(c.BillingCurrency) != 3 {
			return fmt.Errorf("--billing-currency: want an ISO 4217 code like USD or PKR, got %q", c.BillingCurrency)
		}
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return fmt.Errorf("--mail-from: want an address like \"Callboard <no-reply@example.com>\", got %q", c.MailFrom)
		}
		if c.PublicURL == "" {
			_, port, err := net.SplitHostPort(c.Addr)
			if err != nil {
				return fmt.Errorf("--addr: want host:port or :port, got %q", c.Addr)
			}
			c.PublicURL = "http://localhost:" + port
		}
		if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		return nil
	}
	return c, finish
}

func (c *config) logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.LogLevel}))
}

// signingKey returns CALLBOARD_SIGNING_KEY, or the key in the data
// directory, generating it (256 random bits, mode 0600) on first run.
func (c *config) signingKey() ([]byte, error) {
	if c.SigningKey != "" {
		if len(c.SigningKey) < auth.MinSigningKeyLen {
			return nil, fmt.Errorf("CALLBOARD_SIGNING_KEY: need at least %d characters", auth.MinSigningKeyLen)
		}
		return []byte(c.SigningKey), nil
	}
	path := filepath.Join(c.DataDir, "signing.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < auth.MinSigningKeyLen {
			return nil, fmt.Errorf("%s: key too short", path)
		}
		return []byte(key), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	key := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.signingKey() // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return []byte(key), nil
}
