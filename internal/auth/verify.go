package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	auditlog "callboard/internal/audit"
	"callboard/internal/principal"
	"callboard/internal/store"
)

// Audit actions of email verification and changes.
const (
	actionEmailVerified        = "email.verified"
	actionEmailChangeRequested = "email.change_requested"
	actionEmailChanged         = "email.changed"
)

// VerifyEmail uses a verification link's token: the address it was sent
// to is proven. When that is the account's address, the account becomes
// verified; when it is another (a change of email), it becomes the
// account's address, verified, and the user is notified. It returns the
// address. Errors: BadRequest at body.token for a token that is unknown,
// expired, used or replaced by a newer link; Conflict at body.token when
// another account took the new address meanwhile.
func (s *Service) VerifyEmail(ctx context.Context, token string, client Client) (string, error) {
	now := s.cfg.Now()
	var userID int64
	var email, previous string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if userID, email, previous, err = s.useEmailToken(ctx, tx, token, purposeVerify); err != nil {
			return err
		}
		if previous == email {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET is_verified = $1, updated_at = $2 WHERE id = $3`, true, store.Millis(now), userID); err != nil {
				return fmt.Errorf("mark verified: %w", err)
			}
			return audit(ctx, tx, &userID, actionEmailVerified, client, "", now)
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = $1, is_verified = $2, updated_at = $3 WHERE id = $4`, email, true, store.Millis(now), userID)
		if store.IsUniqueViolation(err) {
			return apperr.ConflictAt("body.token", "another account now uses this email address")
		}
		if err != nil {
			return fmt.Errorf("change email: %w", err)
		}
		return audit(ctx, tx, &userID, actionEmailChanged, client, "", now)
	})
	if err != nil {
		return "", err
	}
	if previous != email {
		s.publish(ctx, SecurityEvent{UserID: userID, Kind: "email.changed", Title: "Your email address was changed",
			Body: fmt.Sprintf("Your account's email address is now %s. Sign in with it from now on. If this was not you, contact support at once.", email),
			Data: map[string]string{"ip": client.IP}})
	}
	return email, nil
}

// ResendVerification mails userID a new verification link for the
// account's address (earlier links stop working) and returns the address.
// Mail with verification links is limited per user. Errors: Conflict when
// the address is already verified; RateLimited; NotFound when the user is
// gone.
func (s *Service) ResendVerification(ctx context.Context, userID int64, client Client) (string, error) {
	if s.cfg.Mailer == nil {
		return "", errNoMailer
	}
	if a, err := s.loadAccount(ctx, s.db.Read(), userID, false); err != nil {
		return "", err
	} else if a.verified {
		return "", errAlreadyVerified
	}
	if err := s.takeVerificationMail(ctx, userID); err != nil {
		return "", err
	}
	lang, err := s.language(ctx, userID)
	if err != nil {
		return "", err
	}
	var email string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.loadAccount(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		if a.verified {
			return errAlreadyVerified
		}
		email = a.email
		return s.mailVerification(ctx, tx, userID, a.email, a.first, lang, false)
	})
	return email, err
}

var errAlreadyVerified = apperr.Conflict("your email address is already verified")

// accountRow is what auth's flows read of a live user's row.
type accountRow struct {
	email, first, last string
	verified           bool
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadAccount reads userID's row through q; with lock (q a transaction)
// the row stays locked until it ends. Errors: NotFound when the user is
// gone.
func (s *Service) loadAccount(ctx context.Context, q rowQuerier, userID int64, lock bool) (accountRow, error) {
	query := `SELECT email, first_name, last_name, is_verified FROM users WHERE id = $1 AND deleted_at IS NULL`
	if lock {
		query += s.db.Dialect.ForUpdate()
	}
	var a accountRow
	err := q.QueryRowContext(ctx, query, userID).Scan(&a.email, &a.first, &a.last, &a.verified)
	if errors.Is(err, sql.ErrNoRows) {
		return accountRow{}, apperr.NotFound("user")
	}
	if err != nil {
		return accountRow{}, fmt.Errorf("load user: %w", err)
	}
	return a, nil
}

// takeVerificationMail counts one request for mail with a verification
// link against userID's limit, in a transaction of its own so that refused
// requests count too. Errors: RateLimited.
func (s *Service) takeVerificationMail(ctx context.Context, userID int64) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		wait, err := s.limits.take(ctx, tx, rule{"verify:user:" + strconv.FormatInt(userID, 10), s.cfg.VerificationMailsPerUser, s.cfg.VerificationMailWindow})
		if err == nil && wait > 0 {
			err = apperr.RateLimited("too many verification emails; try again later", wait)
		}
		return err
	})
}

// ChangeEmail starts a change of userID's address to newEmail, after
// checking the password: a verification link goes to newEmail, and a
// notice to the current address when it is verified (a stranger's
// mistyped address is not told). Nothing changes until the link is used
// (VerifyEmail); until then the account keeps its address, and a password
// change or reset cancels the change. It returns the normalised new
// address. Wrong passwords count with those of ChangePassword, and
// requests with mail against ResendVerification's limit. Errors: Invalid
// at body.new_email (not an address, or the current one) or body.password
// (missing or wrong); Conflict at body.new_email when another account uses
// it; RateLimited; Unavailable when password hashing is saturated;
// NotFound when the user is gone.
func (s *Service) ChangeEmail(ctx context.Context, userID int64, newEmail, password string, client Client) (string, error) {
	if s.cfg.Mailer == nil {
		return "", errNoMailer
	}
	var problems []apperr.FieldError
	newEmail, emailErr := NormalizeEmail("body.new_email", newEmail)
	if emailErr != nil {
		problems = append(problems, emailErr.Fields...)
	}
	if password == "" {
		problems = append(problems, apperr.FieldError{Location: "body.password", Message: "is required"})
	}
	if len(problems) > 0 {
		return "", apperr.InvalidFields(problems...)
	}
	current, err := s.loadAccount(ctx, s.db.Read(), userID, false)
	if err != nil {
		return "", err
	}
	if current.email == newEmail {
		return "", apperr.Invalid("body.new_email", "is already your email address")
	}
	if err := s.checkCurrentPassword(ctx, userID, "body.password", password, client); err != nil {
		return "", err
	}
	if err := s.takeVerificationMail(ctx, userID); err != nil {
		return "", err
	}
	lang, err := s.language(ctx, userID)
	if err != nil {
		return "", err
	}
	now := s.cfg.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.loadAccount(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		var taken int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, newEmail).Scan(&taken)
		if err != nil {
			return fmt.Errorf("find email: %w", err)
		}
		if taken > 0 {
			return apperr.ConflictAt("body.new_email", "another account uses this email address")
		}
		if err := s.mailVerification(ctx, tx, userID, newEmail, a.first, lang, true); err != nil {
			return err
		}
		if a.verified {
			notice := changeNoticeLetter(lang, a.first, newEmail, s.cfg.Mailer.Link("/profile", nil))
			if err := s.cfg.Mailer.Enqueue(ctx, tx, notice.Message(userID, "email-change-notice", a.email)); err != nil {
				return err
			}
		}
		return audit(ctx, tx, &userID, actionEmailChangeRequested, client, "", now)
	})
	if err != nil {
		return "", err
	}
	return newEmail, nil
}

// checkCurrentPassword checks that password is userID's, with the limit on
// wrong ones that ChangePassword applies (they count together: a stolen
// access token must not become a way to guess the password). A wrong one
// is recorded. Errors: Invalid at location; RateLimited; Unavailable;
// NotFound.
func (s *Service) checkCurrentPassword(ctx context.Context, userID int64, location, password string, client Client) error {
	since := s.cfg.Now().Add(-passwordChangeWindow)
	failures, err := s.cfg.Audit.CountSince(ctx, userID, auditlog.ActionPasswordFailed, since)
	if err != nil {
		return err
	}
	if failures >= passwordChangeFailures {
		return apperr.RateLimited("too many wrong current passwords; try again later", passwordChangeWindow)
	}
	ok, err := s.passwordMatches(ctx, userID, password)
	if err != nil {
		return err
	}
	if !ok {
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			return audit(ctx, tx, &userID, auditlog.ActionPasswordFailed, client, "", s.cfg.Now())
		})
		if err != nil {
			return err
		}
		return apperr.Invalid(location, "is not your current password")
	}
	return nil
}

type verifyEmailInput struct {
	ClientInfo
	Body struct {
		Token string `json:"token" maxLength:"128" doc:"The token of the link in the mail (what follows #token=)."`
	}
}

type verifyEmailOutput struct {
	Body struct {
		Email      string `json:"email" doc:"The verified address, now the account's."`
		IsVerified bool   `json:"is_verified"`
	}
}

type resendVerificationInput struct {
	ClientInfo
}

type resendVerificationOutput struct {
	Body struct {
		SentTo string `json:"sent_to" doc:"The address the link was sent to: the account's."`
	}
}

type changeEmailInput struct {
	ClientInfo
	Body struct {
		NewEmail string `json:"new_email" maxLength:"254" doc:"The address to move the account to; it must not be another account's."`
		Password string `json:"password" maxLength:"1024" doc:"Your current password."`
	}
}

type changeEmailOutput struct {
	Body struct {
		PendingEmail string `json:"pending_email" doc:"The new address (normalised), waiting for its link to be opened."`
	}
}

func (s *Service) verifyEmail(ctx context.Context, in *verifyEmailInput) (*verifyEmailOutput, error) {
	email, err := s.VerifyEmail(ctx, in.Body.Token, in.Client)
	if err != nil {
		return nil, err
	}
	out := &verifyEmailOutput{}
	out.Body.Email, out.Body.IsVerified = email, true
	return out, nil
}

func (s *Service) resendVerification(ctx context.Context, in *resendVerificationInput) (*resendVerificationOutput, error) {
	email, err := s.ResendVerification(ctx, principal.From(ctx).UserID, in.Client)
	if err != nil {
		return nil, err
	}
	out := &resendVerificationOutput{}
	out.Body.SentTo = email
	return out, nil
}

func (s *Service) changeEmail(ctx context.Context, in *changeEmailInput) (*changeEmailOutput, error) {
	email, err := s.ChangeEmail(ctx, principal.From(ctx).UserID, in.Body.NewEmail, in.Body.Password, in.Client)
	if err != nil {
		return nil, err
	}
	out := &changeEmailOutput{}
	out.Body.PendingEmail = email
	return out, nil
}

// registerEmailVerification adds verification and the change of email.
func (s *Service) registerEmailVerification(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "auth-verify-email", Method: http.MethodPost, Path: "/api/auth/verify-email/",
		Summary: "Verify an email address with the token of its link", Tags: []string{"Authentication"}, MaxBodyBytes: 4 << 10,
		Description: "The token comes from the link mailed at registration, on request, or for a change of email " +
			"(`/verify-email#token=…`); it works once, within 24 hours, and only the newest link of an account works. " +
			"For a change of email the new address becomes the account's now. No sign-in needed. " +
			"400 (`body.token`) for a token that is unknown, expired or used; 409 (`body.token`) when another account took the new address meanwhile.",
		Errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity},
	}, s.verifyEmail)
	tags := []string{"Security"}
	huma.Register(api, huma.Operation{
		OperationID: "resend-verification", Method: http.MethodPost, Path: "/api/dashboard/user/resend-verification/",
		Summary: "Mail a new verification link", Tags: tags, Security: principal.UserSecurity,
		Description: "To the account's address; earlier links stop working. 409 when it is already verified. " +
			"At most 5 mails with verification links (this and change-email together) per hour (429 with Retry-After).",
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{http.StatusUnauthorized, http.StatusConflict, http.StatusTooManyRequests},
	}, s.resendVerification)
	huma.Register(api, huma.Operation{
		OperationID: "change-email", Method: http.MethodPost, Path: "/api/dashboard/user/change-email/",
		Summary: "Change your email address", Tags: tags, Security: principal.UserSecurity,
		Description: "Needs the current password (a wrong one is 422 at `body.password`, and counts with change-password's, " +
			"5 in 15 minutes before 429). A verification link goes to the new address and a notice to the current one when it is verified; " +
			"the account keeps its address until the link is opened (see auth-verify-email). Changing or resetting the password cancels the change. " +
			"422 at `body.new_email` when it is not an address or already yours; 409 when another account uses it.",
		DefaultStatus: http.StatusAccepted, MaxBodyBytes: 8 << 10,
		Errors: []int{http.StatusUnauthorized, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.changeEmail)
}
