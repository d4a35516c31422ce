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
	"callboard/internal/store"
)

// actionResetRequested is the audit action of a password-reset request
// (of a known account, or of none when the email is unknown).
const actionResetRequested = "password.reset_requested"

const (
	// resetQueue is how many accepted reset requests may wait for the
	// worker; resetQueueWait how long a request waits for room before it is
	// answered 503.
	resetQueue     = 256
	resetQueueWait = 2 * time.Second
	// resetJobTimeout bounds the handling of one request by the worker.
	resetJobTimeout = 30 * time.Second
	// resetDelay is how long after its acceptance the worker handles a
	// request: by then its answer is out, so the lookup and the mail (work
	// only known addresses cause) never compete with the answer for the CPU.
	resetDelay = 50 * time.Millisecond
)

// resetRequest is an accepted password-reset request, waiting for the
// worker.
type resetRequest struct {
	email    string
	client   Client
	accepted time.Time // the process's clock, not Config.Now: it times the delay only
}

// RequestPasswordReset accepts a request to mail a password-reset link to
// email. The answer is the same whether an account has the address or not,
// and so is its time: the request only counts against the limits (per
// email, whether known or not, and per client address) and is queued;
// Run's worker then looks the address up and, for a live account, stores
// a token (valid for an hour, replacing earlier ones) with its mail in one
// transaction. A request accepted just before the process stops may be
// lost; the user asks again. Errors: Invalid at body.email (not an
// address); RateLimited; Unavailable when the queue stays full.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, client Client) error {
	if s.cfg.Mailer == nil {
		return errNoMailer
	}
	email, perr := NormalizeEmail("body.email", email)
	if perr != nil {
		return perr
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		wait, err := s.limits.take(ctx, tx,
			rule{"reset:email:" + limitSubject(email), s.cfg.ResetRequestsPerEmail, s.cfg.ResetWindow},
			rule{"reset:address:" + client.IP, s.cfg.ResetRequestsPerAddress, s.cfg.ResetWindow})
		if err == nil && wait > 0 {
			err = apperr.RateLimited("too many password reset requests; try again later", wait)
		}
		return err
	})
	if err != nil {
		return err
	}
	t := time.NewTimer(resetQueueWait)
	defer t.Stop()
	select {
	case s.resets <- resetRequest{email: email, client: client, accepted: time.Now()}:
		return nil
	case <-t.C:
		return apperr.Unavailable("too many password reset requests at once; try again in a moment", time.Second)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runResets handles accepted reset requests one at a time, each
// resetDelay after its acceptance, until ctx ends; the request in hand is
// finished first.
func (s *Service) runResets(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.resets:
			if wait := time.Until(r.accepted.Add(resetDelay)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
			jobCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resetJobTimeout)
			if err := s.mailPasswordReset(jobCtx, r); err != nil {
				s.cfg.Logger.Error("password reset mail", "err", err)
			}
			cancel()
		}
	}
}

// mailPasswordReset stores a reset token for the live account with r's
// email and queues its mail, in one transaction; for an unknown email it
// only records the request in the audit log.
func (s *Service) mailPasswordReset(ctx context.Context, r resetRequest) error {
	now := s.cfg.Now()
	userID, _, err := s.credentials(ctx, r.email)
	if errors.Is(err, sql.ErrNoRows) {
		return s.db.Tx(ctx, func(tx *sql.Tx) error {
			return audit(ctx, tx, nil, actionResetRequested, r.client, "", now)
		})
	}
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	lang, err := s.language(ctx, userID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var first string
		// The account may have changed its address or gone since the lookup.
		err := tx.QueryRowContext(ctx, `SELECT first_name FROM users WHERE id = $1 AND email = $2 AND deleted_at IS NULL`+s.db.Dialect.ForUpdate(),
			userID, r.email).Scan(&first)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		token, err := s.issueEmailToken(ctx, tx, userID, purposeReset, r.email, resetTTL)
		if err != nil {
			return err
		}
		letter := resetLetter(lang, first, s.link(resetPage, token))
		if err := s.cfg.Mailer.Enqueue(ctx, tx, letter.Message(userID, "password-reset", r.email)); err != nil {
			return err
		}
		return audit(ctx, tx, &userID, actionResetRequested, r.client, "", now)
	})
}

// ConfirmPasswordReset uses a reset link's token to set a new password
// (the registration policy applies). In one transaction: the token is
// used, the password replaced, every session of the user signed out (their
// access and refresh tokens stop working), other reset links and a pending
// change of email cancelled, the account's sign-in limits cleared, and
// the address marked verified (the link reached it). The reset is audited
// and the user notified. A token works only while its address is still
// the account's. Errors: BadRequest at body.token (unknown, expired, used
// or replaced); Invalid at body.new_password; Unavailable when password
// hashing is saturated.
func (s *Service) ConfirmPasswordReset(ctx context.Context, token, password string, client Client) error {
	var userID int64
	var email, first, last string
	err := s.db.Read().QueryRowContext(ctx, `SELECT u.id, u.email, u.first_name, u.last_name FROM email_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3 AND u.email = t.email AND u.deleted_at IS NULL`,
		hashEmailToken(token), purposeReset, store.Millis(s.cfg.Now())).Scan(&userID, &email, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return errBadEmailToken
	}
	if err != nil {
		return fmt.Errorf("find reset token: %w", err)
	}
	if perr := CheckPasswordPolicy("body.new_password", password, email, first, last); perr != nil {
		return perr
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	var revoked int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Used here, so of two concurrent confirmations one wins; a link to
		// an address the account no longer has is refused.
		owner, sentTo, current, err := s.useEmailToken(ctx, tx, token, purposeReset)
		if err != nil {
			return err
		}
		if owner != userID || sentTo != current {
			return errBadEmailToken
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, is_verified = $2, updated_at = $3 WHERE id = $4`,
			hash, true, store.Millis(now), userID); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if revoked, err = revokeSessionsTx(ctx, tx, userID, 0, "password reset", now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, userID, purposeReset); err != nil {
			return fmt.Errorf("delete reset tokens: %w", err)
		}
		if err := cancelEmailChange(ctx, tx, userID); err != nil {
			return err
		}
		// The owner proved the address: a stranger's guesses no longer lock them out.
		who := limitSubject(email)
		if _, err := tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = $1 OR key LIKE $2`, "login:account:"+who, "login:pair:"+who+" %"); err != nil {
			return fmt.Errorf("clear sign-in limits: %w", err)
		}
		return audit(ctx, tx, &userID, auditlog.ActionPasswordReset, client, fmt.Sprintf("%d sessions signed out", revoked), now)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, SecurityEvent{UserID: userID, Kind: "password.reset", Title: "Your password was reset",
		Body: fmt.Sprintf("Your password was reset with a link sent to your email, from %s. Every device was signed out. If this was not you, contact support at once.", DescribeDevice(client.UserAgent)),
		Data: map[string]string{"ip": client.IP}})
	return nil
}

type passwordResetInput struct {
	ClientInfo
	Body struct {
		Email string `json:"email" maxLength:"254" doc:"The account's email address."`
	}
}

type passwordResetConfirmInput struct {
	ClientInfo
	Body struct {
		Token       string `json:"token" maxLength:"128" doc:"The token of the link in the mail (what follows #token=)."`
		NewPassword string `json:"new_password" maxLength:"1024" doc:"8–128 characters, hard to guess, not containing your name or email."`
	}
}

type detailOutput struct {
	Body struct {
		Detail string `json:"detail"`
	}
}

func detail(text string) *detailOutput {
	out := &detailOutput{}
	out.Body.Detail = text
	return out
}

func (s *Service) requestPasswordReset(ctx context.Context, in *passwordResetInput) (*detailOutput, error) {
	if err := s.RequestPasswordReset(ctx, in.Body.Email, in.Client); err != nil {
		return nil, err
	}
	return detail("If an account uses this email address, a link to reset its password is on its way. It works for 1 hour."), nil
}

func (s *Service) confirmPasswordReset(ctx context.Context, in *passwordResetConfirmInput) (*detailOutput, error) {
	if err := s.ConfirmPasswordReset(ctx, in.Body.Token, in.Body.NewPassword, in.Client); err != nil {
		return nil, err
	}
	return detail("Your password was reset and every device signed out. Sign in with the new password."), nil
}

// registerPasswordReset adds the forgotten-password operations.
func (s *Service) registerPasswordReset(api huma.API) {
	tags := []string{"Authentication"}
	huma.Register(api, huma.Operation{
		OperationID: "auth-password-reset", Method: http.MethodPost, Path: "/api/auth/password-reset/",
		Summary: "Ask for a password-reset link", Tags: tags, MaxBodyBytes: 4 << 10, DefaultStatus: http.StatusAccepted,
		Description: "Always 202, in the same time, whether or not an account uses the address (no account enumeration); " +
			"when one does, a link (`/reset-password#token=…`) valid for 1 hour is mailed to it, and earlier links stop working. " +
			"At most 5 requests per email address and 50 per client address per hour (429 with Retry-After).",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.requestPasswordReset)
	huma.Register(api, huma.Operation{
		OperationID: "auth-password-reset-confirm", Method: http.MethodPost, Path: "/api/auth/password-reset/confirm/",
		Summary: "Set a new password with a reset link's token", Tags: tags, MaxBodyBytes: 8 << 10,
		Description: "The token works once. The new password follows the registration policy (422 at `body.new_password`). " +
			"Every session of the account is signed out, and its address counts as verified. " +
			"400 (`body.token`) for a token that is unknown, expired, used or replaced by a newer link.",
		Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
	}, s.confirmPasswordReset)
}
