package auth

import (
	"context"
	"database/sql"
	"time"

	auditlog "callboard/internal/audit"
)

// Audit is what auth asks of the security log beyond writing to it
// (package audit).
type Audit interface {
	CountSince(ctx context.Context, userID int64, action string, t time.Time) (int, error)
}

// SecurityEvents is told, after the change committed, about events the
// user should hear of (notify, through an adapter in internal/app). It
// runs on the request: keep it short.
type SecurityEvents interface {
	SecurityEvent(ctx context.Context, e SecurityEvent)
}

// SecurityEvent is something that happened to an account's security.
type SecurityEvent struct {
	UserID int64
	Kind   string // "password.changed", "signin.new"
	Title  string // English, shown as is
	Body   string
	Data   map[string]string
}

// audit records a security event inside tx through the one audit API.
// userID nil is an event of no known account; detail, when not empty, is
// kept as the entry's "note".
func audit(ctx context.Context, tx *sql.Tx, userID *int64, kind string, client Client, detail string, now time.Time) error {
	e := auditlog.Entry{Action: kind, IP: client.IP, UserAgent: client.UserAgent}
	if userID != nil {
		e.UserID = *userID
	}
	if detail != "" {
		e.Details = map[string]string{"note": detail}
	}
	return auditlog.WriteTx(ctx, tx, e, now)
}

// publish tells Events about e, when wired.
func (s *Service) publish(ctx context.Context, e SecurityEvent) {
	if s.cfg.Events != nil {
		s.cfg.Events.SecurityEvent(ctx, e)
	}
}
