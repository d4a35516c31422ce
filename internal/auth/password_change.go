package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	auditlog "callboard/internal/audit"
	"callboard/internal/principal"
	"callboard/internal/store"
)

// Wrong current passwords (of password and email changes together) are
// limited per account, counted in the audit log so every instance sees the
// same count: a stolen access token must not become a way to guess the
// password without sign-in's limits.
const (
	passwordChangeFailures = 5
	passwordChangeWindow   = 15 * time.Minute
)

// ChangePassword replaces userID's password after checking the current
// one, and at once ends every other session of the user (their access and
// refresh tokens stop working); sessionID, the caller's, stays signed in,
// and a pending change of email is cancelled. The change is audited and
// the user notified. Errors: Invalid naming body.current_password (wrong)
// or body.new_password (policy);
// RateLimited after repeated wrong current passwords; Unavailable when
// password hashing is saturated; NotFound when the user is gone.
func (s *Service) ChangePassword(ctx context.Context, userID, sessionID int64, current, next string, client Client) error {
	if current == "" {
		return apperr.Invalid("body.current_password", "is required")
	}
	if err := s.checkCurrentPassword(ctx, userID, "body.current_password", current, client); err != nil {
		return err
	}
	a, err := s.loadAccount(ctx, s.db.Read(), userID, false)
	if err != nil {
		return err
	}
	if perr := CheckPasswordPolicy("body.new_password", next, a.email, a.first, a.last); perr != nil {
		return perr
	}
	if next == current {
		return apperr.Invalid("body.new_password", "must differ from the current password")
	}
	newHash, err := s.hashPassword(ctx, next)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	var revoked int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL`,
			newHash, store.Millis(now), userID)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return apperr.NotFound("user")
		}
		if revoked, err = revokeSessionsTx(ctx, tx, userID, sessionID, "password changed", now); err != nil {
			return err
		}
		if err := cancelEmailChange(ctx, tx, userID); err != nil {
			return err
		}
		return audit(ctx, tx, &userID, auditlog.ActionPasswordChanged, client, fmt.Sprintf("%d other sessions signed out", revoked), now)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, SecurityEvent{UserID: userID, Kind: "password.changed", Title: "Your password was changed",
		Body: fmt.Sprintf("Your password was changed from %s. Other devices were signed out. If this was not you, contact support at once.", DescribeDevice(client.UserAgent)),
		Data: map[string]string{"ip": client.IP}})
	return nil
}

// CheckPassword tells whether password is userID's current password
// (account deletion asks). Errors: Invalid naming location when it is
// not; NotFound when the user is gone.
func (s *Service) CheckPassword(ctx context.Context, userID int64, location, password string) error {
	ok, err := s.passwordMatches(ctx, userID, password)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid(location, "is not your current password")
	}
	return nil
}

// revokeSessionsTx ends, inside tx, every live session of userID but keep
// (0 for none), giving reason, and returns how many it ended: their access
// and refresh tokens stop working at once.
func revokeSessionsTx(ctx context.Context, tx *sql.Tx, userID, keep int64, reason string, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
		WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL`, store.Millis(now), reason, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// passwordMatches reports whether password is userID's. Errors: NotFound
// when the user is gone; Unavailable when hashing is saturated.
func (s *Service) passwordMatches(ctx context.Context, userID int64, password string) (bool, error) {
	var hash string
	err := s.db.Read().QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return false, apperr.NotFound("user")
	}
	if err != nil {
		return false, fmt.Errorf("load password: %w", err)
	}
	ok, _, err := s.verifyPassword(ctx, password, hash)
	return ok, err
}

type changePasswordInput struct {
	ClientInfo
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024"`
		NewPassword     string `json:"new_password" maxLength:"1024" doc:"8–128 characters, hard to guess, not containing your name or email."`
	}
}

func (s *Service) changePassword(ctx context.Context, in *changePasswordInput) (*struct{}, error) {
	p := principal.From(ctx)
	return nil, s.ChangePassword(ctx, p.UserID, p.SessionID, in.Body.CurrentPassword, in.Body.NewPassword, in.Client)
}

func (s *Service) registerPasswordChange(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "change-password", Method: http.MethodPost, Path: "/api/dashboard/user/change-password/",
		Summary: "Change your password", Tags: []string{"Security"}, Security: principal.UserSecurity,
		Description: "Needs the current password; the new one follows the registration policy. Every other signed-in device " +
			"is signed out at once; this one stays signed in. After 5 wrong current passwords in 15 minutes, answers 429.",
		DefaultStatus: http.StatusNoContent, MaxBodyBytes: 8 << 10,
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.changePassword)
}
