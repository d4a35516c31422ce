package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/text/language"

	"callboard/internal/apperr"
	"callboard/internal/mail"
	"callboard/internal/store"
)

// Mailer queues mail in the caller's transaction and makes links to the
// dashboard (package mail's Service).
type Mailer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, msgs ...mail.Message) error
	Link(path string, query url.Values) string
}

// Languages tells the language ("en" or "ur") a user reads mail in
// (account's preference).
type Languages interface {
	Language(ctx context.Context, userID int64) (string, error)
}

var errNoMailer = errors.New("auth: no mailer configured")

// The purposes of email tokens, and how long their links work.
const (
	purposeVerify = "verify" // proves an address: the account's, or a new one (a change of email)
	purposeReset  = "reset"  // sets a new password

	verifyTTL = 24 * time.Hour
	resetTTL  = time.Hour

	// emailTokenBytes is 256 bits, like refresh tokens.
	emailTokenBytes = 32
)

// The dashboard pages links in mail open; the token goes in the fragment,
// so it never reaches a server's logs or a Referer header.
const (
	verifyPage = "/verify-email"
	resetPage  = "/reset-password"
)

// errBadEmailToken answers a link token that is unknown, expired, used or
// replaced by a newer one, alike.
var errBadEmailToken = apperr.BadRequest("body.token", "this link is invalid, expired or already used; ask for a new one")

// hashEmailToken is what email_tokens stores: SHA-256, enough for 256
// random bits (nothing to guess from) and an indexed lookup.
func hashEmailToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// issueEmailToken stores, inside tx, a new single-use token of purpose for
// userID and email, valid for ttl, and returns it. The user's unused
// tokens of the same purpose are deleted first: only the newest link
// works. Callers hold the user's row locked, so two requests cannot both
// leave a live token.
func (s *Service) issueEmailToken(ctx context.Context, tx *sql.Tx, userID int64, purpose, email string, ttl time.Duration) (string, error) {
	b := make([]byte, emailTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("email token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if _, err := tx.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, userID, purpose); err != nil {
		return "", fmt.Errorf("replace email tokens: %w", err)
	}
	now := s.cfg.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO email_tokens (user_id, purpose, email, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, userID, purpose, email, hashEmailToken(token), store.Millis(now), store.Millis(now.Add(ttl))); err != nil {
		return "", fmt.Errorf("insert email token: %w", err)
	}
	return token, nil
}

// useEmailToken marks token used inside tx, when it is a live token of
// purpose of a live account, and returns that account, the address the
// token was sent to and the account's address now. The account's row is
// locked before the token's, in the order every change of both takes (a
// password change, a new link), so PostgreSQL never deadlocks them; the
// marking checks again, so of two concurrent uses one wins. Errors:
// errBadEmailToken.
func (s *Service) useEmailToken(ctx context.Context, tx *sql.Tx, token, purpose string) (userID int64, sentTo, current string, err error) {
	if token == "" {
		return 0, "", "", errBadEmailToken
	}
	hash := hashEmailToken(token)
	err = tx.QueryRowContext(ctx, `SELECT user_id FROM email_tokens WHERE token_hash = $1 AND purpose = $2`, hash, purpose).Scan(&userID)
	if err == nil {
		err = tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = $1 AND deleted_at IS NULL`+s.db.Dialect.ForUpdate(), userID).Scan(&current)
	}
	if err == nil {
		now := store.Millis(s.cfg.Now())
		err = tx.QueryRowContext(ctx, `UPDATE email_tokens SET used_at = $1
			WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 RETURNING email`,
			now, hash, purpose).Scan(&sentTo)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", errBadEmailToken
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("use email token: %w", err)
	}
	return userID, sentTo, current, nil
}

// cancelEmailChange deletes, inside tx, userID's unused links to verify an
// address other than the account's: a pending change of email. A password
// change or reset cancels it, so whoever took over a session and asked to
// move the account to their own address loses it with the password.
func cancelEmailChange(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL
		AND email <> (SELECT email FROM users WHERE id = $1)`, userID, purposeVerify)
	if err != nil {
		return fmt.Errorf("cancel email change: %w", err)
	}
	return nil
}

// link is the dashboard page's address with token in its fragment.
func (s *Service) link(page, token string) string {
	return s.cfg.Mailer.Link(page, nil) + "#token=" + token
}

// language is the language of userID's mail: account's preference,
// English when unknown.
func (s *Service) language(ctx context.Context, userID int64) (string, error) {
	if s.cfg.Languages == nil {
		return "en", nil
	}
	lang, err := s.cfg.Languages.Language(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("mail language: %w", err)
	}
	return mailLanguage(lang), nil
}

// mailLanguage is lang when mail is written in it, else English.
func mailLanguage(lang string) string {
	if lang == "ur" {
		return "ur"
	}
	return "en"
}

// AcceptedLanguage is the first language of an Accept-Language header that
// mail is written in (English when none is): the language of a new
// account's first mail, before it has a preference.
func AcceptedLanguage(header string) string {
	// Browsers send a few tags; a longer header is cut (a cut tag merely
	// fails to parse, and English is the answer).
	tags, _, err := language.ParseAcceptLanguage(truncate(header, 256))
	if err != nil {
		return "en"
	}
	for _, t := range tags {
		base, _ := t.Base()
		if b := base.String(); b == "en" || b == "ur" {
			return b
		}
	}
	return "en"
}

// mailVerification issues a verification token for email and queues its
// letter, inside tx: for the account's own address, or for a new address
// when change is true.
func (s *Service) mailVerification(ctx context.Context, tx *sql.Tx, userID int64, email, firstName, lang string, change bool) error {
	if s.cfg.Mailer == nil {
		return errNoMailer
	}
	token, err := s.issueEmailToken(ctx, tx, userID, purposeVerify, email, verifyTTL)
	if err != nil {
		return err
	}
	letter, kind := verifyLetter(lang, firstName, s.link(verifyPage, token)), "verify-email"
	if change {
		letter, kind = changeLetter(lang, firstName, s.link(verifyPage, token)), "email-change"
	}
	return s.cfg.Mailer.Enqueue(ctx, tx, letter.Message(userID, kind, email))
}
