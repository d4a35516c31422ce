package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	auditlog "callboard/internal/audit"
	"callboard/internal/principal"
	"callboard/internal/store"
)

// SessionView is a signed-in device as its user sees it.
type SessionView struct {
	ID        int64     `json:"id"`
	Device    string    `json:"device" doc:"Browser and system read from the user agent, such as \"Chrome on Android\"."`
	Browser   string    `json:"browser"`
	OS        string    `json:"os"`
	Mobile    bool      `json:"mobile"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
	CreatedAt time.Time `json:"created_at" doc:"When this device signed in."`
	LastUsed  time.Time `json:"last_used_at"`
	Current   bool      `json:"current" doc:"The session making this request."`
}

// maxListedSessions bounds the list; sessions end after a week unused, so
// a real account has far fewer.
const maxListedSessions = 100

// live is the condition of a session that still signs its device in.
const live = `revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3`

// ListSessions lists userID's live sessions, most recently used first;
// currentID is marked current.
func (s *Service) ListSessions(ctx context.Context, userID, currentID int64) ([]SessionView, error) {
	now := s.cfg.Now()
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, user_agent, ip, created_at, last_used_at FROM sessions
		WHERE user_id = $1 AND `+live+` ORDER BY last_used_at DESC, id DESC LIMIT $4`,
		userID, store.Millis(now), store.Millis(now.Add(-s.cfg.SessionIdle)), maxListedSessions)
	out := []SessionView{}
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		v, err := scanSession(r)
		v.Current = v.ID == currentID
		out = append(out, v)
		return err
	}); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

func scanSession(r interface{ Scan(...any) error }) (SessionView, error) {
	var v SessionView
	var created, used int64
	if err := r.Scan(&v.ID, &v.UserAgent, &v.IP, &created, &used); err != nil {
		return SessionView{}, err
	}
	v.CreatedAt, v.LastUsed = store.Time(created), store.Time(used)
	d := ParseDevice(v.UserAgent)
	v.Device, v.Browser, v.OS, v.Mobile = d.String(), d.Browser, d.OS, d.Mobile
	return v, nil
}

// RevokeSession signs out one of userID's sessions at once: its access
// and refresh tokens stop working. Errors: NotFound when the session is
// not the user's or already ended.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID int64, client Client) error {
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = 'signed out from another device'
			WHERE id = $4 AND user_id = $5 AND `+live,
			store.Millis(now), store.Millis(now), store.Millis(now.Add(-s.cfg.SessionIdle)), sessionID, userID)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return apperr.NotFound("session")
		}
		return audit(ctx, tx, &userID, auditlog.ActionSessionRevoked, client, "session "+strconv.FormatInt(sessionID, 10), now)
	})
}

// SessionActive tells whether sessionID still signs its user in (the
// notification stream ends when it does not).
func (s *Service) SessionActive(ctx context.Context, sessionID int64) (bool, error) {
	var expires int64
	var revoked, deleted sql.NullInt64
	err := s.db.Read().QueryRowContext(ctx, `SELECT s.expires_at, s.revoked_at, u.deleted_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1`, sessionID).Scan(&expires, &revoked, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check session: %w", err)
	}
	return !revoked.Valid && !deleted.Valid && expires > store.Millis(s.cfg.Now()), nil
}

// sessionExport is a session in a data export: ended ones too.
type sessionExport struct {
	SessionView
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// ExportSessions writes every session of userID (live and ended) as a
// JSON array, oldest first, a batch at a time.
func (s *Service) ExportSessions(ctx context.Context, userID int64, w io.Writer) error {
	return store.WriteJSONArray(w, 500, func(e sessionExport) int64 { return e.ID }, func(after int64, limit int) ([]sessionExport, error) {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id, user_agent, ip, created_at, last_used_at, expires_at, revoked_at FROM sessions
			WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, after, limit)
		var batch []sessionExport
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var e sessionExport
			var created, used, expires int64
			var revoked sql.NullInt64
			if err := r.Scan(&e.ID, &e.UserAgent, &e.IP, &created, &used, &expires, &revoked); err != nil {
				return err
			}
			e.CreatedAt, e.LastUsed, e.ExpiresAt, e.RevokedAt = store.Time(created), store.Time(used), store.Time(expires), store.NullTime(revoked)
			d := ParseDevice(e.UserAgent)
			e.Device, e.Browser, e.OS, e.Mobile = d.String(), d.Browser, d.OS, d.Mobile
			batch = append(batch, e)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("export sessions: %w", err)
		}
		return batch, nil
	})
}

// ErasePersonalData ends userID's account inside tx (account deletion):
// every session and rotated token is deleted (so every token answers 401
// at once), the email is replaced by one of the id alone (the address is
// free to register again), the password can never match, the account is
// marked deleted (sign-in is impossible), its email links are deleted, and
// rate-limit counters keyed by the email's hash or the user are dropped.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	var email string
	err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = $1 AND deleted_at IS NULL`+s.db.Dialect.ForUpdate(), userID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("user")
	}
	if err != nil {
		return fmt.Errorf("load user: %w", err)
	}
	now := store.Millis(s.cfg.Now())
	// "!" is no PHC string: VerifyPassword refuses it for every password.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET email = $1, password_hash = '!', deleted_at = $2, updated_at = $2 WHERE id = $3`,
		fmt.Sprintf("deleted-%d@deleted.invalid", userID), now, userID); err != nil {
		return fmt.Errorf("erase credentials: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete email tokens: %w", err)
	}
	// The subject is hexadecimal, so it holds no LIKE wildcard.
	who := limitSubject(email)
	if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE key IN ($1, $2, $3) OR key LIKE $4`,
		"login:account:"+who, "reset:email:"+who, "verify:user:"+strconv.FormatInt(userID, 10), "login:pair:"+who+" %"); err != nil {
		return fmt.Errorf("delete rate limits: %w", err)
	}
	return nil
}

type sessionsOutput struct {
	Body struct {
		Results []SessionView `json:"results"`
	}
}

type sessionIDInput struct {
	ClientInfo
	ID int64 `path:"id" doc:"The session's id."`
}

func (s *Service) listSessions(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
	p := principal.From(ctx)
	list, err := s.ListSessions(ctx, p.UserID, p.SessionID)
	if err != nil {
		return nil, err
	}
	out := &sessionsOutput{}
	out.Body.Results = list
	return out, nil
}

func (s *Service) revokeSession(ctx context.Context, in *sessionIDInput) (*struct{}, error) {
	return nil, s.RevokeSession(ctx, principal.From(ctx).UserID, in.ID, in.Client)
}

// registerAccountSecurity adds the signed-in user's security operations:
// sessions and password change.
func (s *Service) registerAccountSecurity(api huma.API) {
	tags := []string{"Security"}
	huma.Register(api, huma.Operation{
		OperationID: "sessions-list", Method: http.MethodGet, Path: "/api/dashboard/user/sessions/",
		Summary: "Your signed-in devices", Tags: tags, Security: principal.UserSecurity,
		Description: "Live sessions, most recently used first; `current` marks the one making this request.",
		Errors:      []int{http.StatusUnauthorized},
	}, s.listSessions)
	huma.Register(api, huma.Operation{
		OperationID: "sessions-revoke", Method: http.MethodDelete, Path: "/api/dashboard/user/sessions/{id}/",
		Summary: "Sign a device out", Tags: tags, Security: principal.UserSecurity,
		Description:   "Its access and refresh tokens stop working at once. 404 when the session is not yours or already ended.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusUnauthorized, http.StatusNotFound},
	}, s.revokeSession)
	s.registerPasswordChange(api)
}

// notifySignIn tells the user about a new sign-in.
func (s *Service) notifySignIn(ctx context.Context, userID int64, client Client) {
	s.publish(ctx, SecurityEvent{UserID: userID, Kind: "signin.new", Title: "New sign-in",
		Body: fmt.Sprintf("Your account was signed in on %s from %s. If this was not you, change your password.", DescribeDevice(client.UserAgent), client.IP),
		Data: map[string]string{"ip": client.IP}})
}
