// Package auth owns accounts' credentials: registration, passwords
// (argon2id), access tokens (HS256 JWT), sessions with rotating refresh
// tokens and reuse detection, login rate limits, the middleware that puts
// the signed-in user (package principal) on a request, and the proof of
// an email address: verification links, changes of address and forgotten
// passwords (email.go, verify.go, reset.go).
//
// Tables: sessions, retired_refresh_tokens, rate_limits, email_tokens; and
// the rows of users (created here at registration) with their credentials
// (email, password_hash, is_verified) and life (deleted_at). The profile
// columns and the profile view of users are account's: auth shows a user
// through Config.Profiles. Other capabilities find accounts through
// UserIDByEmail and ResolveUsersTx, never the table.
package auth

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/phone"
	"callboard/internal/plaintext"
	"callboard/internal/principal"
	"callboard/internal/store"
)

// Config tunes tokens, sessions and limits. Zero fields take the defaults
// documented in the README.
type Config struct {
	DB *store.DB
	// Profiles shows the signed-in user in sign-in answers (account);
	// required by CreateUser, SignUp and Login.
	Profiles Profiles

	SigningKey      []byte        // HMAC key for access tokens, at least 32 bytes
	AccessTTL       time.Duration // access token lifetime (15m)
	SessionIdle     time.Duration // a session unused this long ends (7 days)
	SessionLifetime time.Duration // a session ends this long after sign-in, however used (30 days)
	Argon2          Argon2Params  // password hashing cost (OWASP minimum)

	// Sign-in attempts are limited per window (see the README's security
	// section for why these three): per account from one address (strict),
	// per account from anywhere (looser, and waived for addresses the
	// account has signed in from), and per address over all accounts.
	LoginAttemptsPerAccountAddress int           // per account and client address (10)
	LoginAttemptsPerAccount        int           // per account, from addresses it never signed in from (50)
	LoginAttemptsPerAddress        int           // per client address (100)
	LoginWindow                    time.Duration // the window (15m)
	// KnownAddressAge is how far back a sign-in from an address makes it
	// known to the account (30 days).
	KnownAddressAge time.Duration

	RegistrationsPerAddress int           // registrations per client address per window (30)
	RegistrationWindow      time.Duration // that window (1h)

	// HashConcurrency is how many password hashes may be computed at once
	// (each holds Argon2.MemoryKiB); the number of CPUs when 0.
	HashConcurrency int
	// HashQueueWait is how long a request waits for its turn to hash before
	// it is answered 503 (2s).
	HashQueueWait time.Duration

	// RefreshGrace is how long after a rotation the rotated refresh token
	// still returns the same new pair, for tabs or retries that refresh at
	// once (5s). Later use of it is reuse and revokes the session.
	RefreshGrace time.Duration

	// Audit counts failed password changes (package audit); required by
	// ChangePassword.
	Audit Audit
	// Events is told about security events after they commit (a password
	// change or reset, a new sign-in, a new email address), to notify the
	// user; optional.
	Events SecurityEvents

	// Mailer queues the verification and password-reset mail in the
	// transaction of its token (package mail); required by SignUp,
	// ResendVerification, ChangeEmail and password resets.
	Mailer Mailer
	// Languages tells the language of a user's mail (account's
	// preference); English for everyone when nil.
	Languages Languages

	// Mail with a verification link (resent, or for a new address) is
	// limited per user (5 per hour).
	VerificationMailsPerUser int
	VerificationMailWindow   time.Duration
	// Password-reset requests are limited per email address (5), whether
	// or not an account has it, and per client address (50), per window (1h).
	ResetRequestsPerEmail   int
	ResetRequestsPerAddress int
	ResetWindow             time.Duration

	Now    func() time.Time // the clock; time.Now when nil
	Logger *slog.Logger     // background failures (Run); discarded when nil
}

func (c *Config) setDefaults() {
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = 7 * 24 * time.Hour
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = 30 * 24 * time.Hour
	}
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = DefaultArgon2
	}
	if c.LoginAttemptsPerAccountAddress == 0 {
		c.LoginAttemptsPerAccountAddress = 10
	}
	if c.LoginAttemptsPerAccount == 0 {
		c.LoginAttemptsPerAccount = 50
	}
	if c.LoginAttemptsPerAddress == 0 {
		// Generous: many Pakistani mobile users share carrier-grade NAT addresses.
		c.LoginAttemptsPerAddress = 100
	}
	if c.LoginWindow == 0 {
		c.LoginWindow = 15 * time.Minute
	}
	if c.KnownAddressAge == 0 {
		c.KnownAddressAge = 30 * 24 * time.Hour
	}
	if c.RegistrationsPerAddress == 0 {
		c.RegistrationsPerAddress = 30
	}
	if c.RegistrationWindow == 0 {
		c.RegistrationWindow = time.Hour
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = runtime.NumCPU()
	}
	if c.HashQueueWait == 0 {
		c.HashQueueWait = 2 * time.Second
	}
	if c.RefreshGrace == 0 {
		c.RefreshGrace = 5 * time.Second
	}
	if c.VerificationMailsPerUser == 0 {
		c.VerificationMailsPerUser = 5
	}
	if c.VerificationMailWindow == 0 {
		c.VerificationMailWindow = time.Hour
	}
	if c.ResetRequestsPerEmail == 0 {
		c.ResetRequestsPerEmail = 5
	}
	if c.ResetRequestsPerAddress == 0 {
		// Generous, as for sign-ins: carrier-grade NAT puts many users behind one address.
		c.ResetRequestsPerAddress = 50
	}
	if c.ResetWindow == 0 {
		c.ResetWindow = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Profiles is the profile view of an account, as sign-in answers show it.
type Profiles interface {
	Profile(ctx context.Context, userID int64) (account.User, error)
}

// Service registers users, signs them in and out, and authenticates requests.
type Service struct {
	db       *store.DB
	profiles Profiles
	cfg      Config
	signer   tokenSigner
	limits   limiter
	hashes   *hashGate
	// dummyHash is verified against when an email is unknown, so an unknown
	// email costs the same time as a wrong password.
	dummyHash string
	// resets holds accepted password-reset requests until Run's worker
	// looks their email up (reset.go).
	resets chan resetRequest
}

// NewService returns a Service. Errors: a signing key shorter than
// MinSigningKeyLen.
func NewService(cfg Config) (*Service, error) {
	cfg.setDefaults()
	if len(cfg.SigningKey) < MinSigningKeyLen {
		return nil, fmt.Errorf("signing key: need at least %d bytes, have %d", MinSigningKeyLen, len(cfg.SigningKey))
	}
	dummy, err := HashPassword("callboard-timing-equaliser", cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{
		db:        cfg.DB,
		profiles:  cfg.Profiles,
		cfg:       cfg,
		signer:    tokenSigner{key: cfg.SigningKey, ttl: cfg.AccessTTL, now: cfg.Now},
		limits:    limiter{db: cfg.DB, now: cfg.Now},
		hashes:    newHashGate(cfg.HashConcurrency, cfg.Argon2, cfg.HashQueueWait),
		dummyHash: dummy,
		resets:    make(chan resetRequest, resetQueue),
	}, nil
}

// Client is who is calling: the address and user agent recorded on sessions
// and audit events.
type Client struct {
	IP        string
	UserAgent string
}

// Tokens is what a sign-in or refresh hands out.
type Tokens struct {
	Access  string `json:"access" doc:"Access token (JWT): send as 'Authorization: Bearer …'. Valid for 15 minutes."`
	Refresh string `json:"refresh" doc:"Refresh token: opaque, single use; exchange at /api/auth/refresh/ for a new pair."`
}

// NewUser is a registration.
type NewUser struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	Phone     string // optional; any form libphonenumber understands
	// Language is the language of the verification mail SignUp sends ("en"
	// or "ur"; English when empty): the account has no preference yet.
	Language string
}

const maxEmailLen = 254

// NormalizeEmail trims and lower-cases an email address and checks its form.
// Errors name location.
func NormalizeEmail(location, raw string) (string, *apperr.Error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", apperr.Invalid(location, "is required")
	}
	if msg := plaintext.Problem(email); msg != "" {
		return "", apperr.Invalid(location, msg)
	}
	if len(email) > maxEmailLen {
		return "", apperr.Invalid(location, fmt.Sprintf("must be at most %d characters", maxEmailLen))
	}
	addr, err := mail.ParseAddress(email)
	_, domain, _ := strings.Cut(email, "@")
	if err != nil || addr.Address != email || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", apperr.Invalid(location, "must be an email address like name@example.com")
	}
	return email, nil
}

// CreateUser validates and stores a new account whose email address counts
// as verified: an operator (callboard user create, the demo) vouches for
// it, and no mail is sent. Errors: Invalid naming each bad field; Conflict
// when the email is taken; Unavailable when password hashing is saturated.
func (s *Service) CreateUser(ctx context.Context, in NewUser, client Client) (account.User, error) {
	return s.createUser(ctx, in, client, false)
}

// createUser is CreateUser; signUp is a registration by the user: it counts
// against the client address's limit once the input is valid (before the
// costly hash), and the account starts unverified, with a verification
// link mailed in the transaction that creates it.
func (s *Service) createUser(ctx context.Context, in NewUser, client Client, signUp bool) (account.User, error) {
	var problems []apperr.FieldError
	email, emailErr := NormalizeEmail("body.email", in.Email)
	if emailErr != nil {
		problems = append(problems, emailErr.Fields...)
	}
	first, fe := account.CheckName("body.first_name", in.FirstName)
	if fe != nil {
		problems = append(problems, *fe)
	}
	last, fe := account.CheckName("body.last_name", in.LastName)
	if fe != nil {
		problems = append(problems, *fe)
	}
	var phoneE164 *string
	if strings.TrimSpace(in.Phone) != "" {
		p, err := phone.Normalize(in.Phone, phone.DefaultRegion)
		if msg := plaintext.Problem(in.Phone); msg != "" {
			problems = append(problems, apperr.FieldError{Location: "body.phone", Message: msg})
		} else if err != nil {
			problems = append(problems, apperr.FieldError{Location: "body.phone", Message: "must be a valid phone number, like +92 300 1234567"})
		} else {
			phoneE164 = &p
		}
	}
	if perr := CheckPasswordPolicy("body.password", in.Password, email, first, last); perr != nil {
		problems = append(problems, perr.Fields...)
	}
	if len(problems) > 0 {
		return account.User{}, apperr.InvalidFields(problems...)
	}
	if signUp {
		if s.cfg.Mailer == nil {
			return account.User{}, errNoMailer
		}
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			wait, err := s.limits.take(ctx, tx, rule{"register:address:" + client.IP, s.cfg.RegistrationsPerAddress, s.cfg.RegistrationWindow})
			if err == nil && wait > 0 {
				err = apperr.RateLimited("too many registrations from this address; try again later", wait)
			}
			return err
		})
		if err != nil {
			return account.User{}, err
		}
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return account.User{}, err
	}
	now := s.cfg.Now()
	var id int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, phone, is_verified, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
			email, hash, first, last, phoneE164, !signUp, store.Millis(now)).Scan(&id)
		if store.IsUniqueViolation(err) {
			return apperr.Conflict("an account with this email already exists")
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if err := audit(ctx, tx, &id, "user.registered", client, "", now); err != nil {
			return err
		}
		if !signUp {
			return nil
		}
		return s.mailVerification(ctx, tx, id, email, first, in.Language, false)
	})
	if err != nil {
		return account.User{}, err
	}
	return s.profiles.Profile(ctx, id)
}

// SignUp creates an account and signs it in. The account starts
// unverified, and a verification link goes to its address in the same
// transaction (in.Language). Registrations are limited per client address.
// Errors: those of CreateUser; RateLimited.
func (s *Service) SignUp(ctx context.Context, in NewUser, client Client) (account.User, Tokens, error) {
	u, err := s.createUser(ctx, in, client, true)
	if err != nil {
		return account.User{}, Tokens{}, err
	}
	tokens, err := s.startSession(ctx, u.ID, client, nil)
	return u, tokens, err
}

var errBadCredentials = apperr.Unauthorized("invalid email or password")

// Login checks credentials and starts a session. Unknown email and wrong
// password get the same answer in similar time.
//
// Every attempt is counted before the password is checked, in one atomic
// statement per limit, so parallel attempts cannot slip past a limit: per
// account and address (strict), per account (looser; not applied from an
// address the account signed in from recently, so strangers cannot lock
// its owner out) and per address. A successful sign-in takes its attempt
// back. Errors: Invalid for an email that is not text; Unauthorized;
// RateLimited; Unavailable when password hashing is saturated.
func (s *Service) Login(ctx context.Context, email, password string, client Client) (account.User, Tokens, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if msg := plaintext.Problem(email); msg != "" {
		return account.User{}, Tokens{}, apperr.Invalid("body.email", msg)
	}
	userID, hash, err := s.credentials(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return account.User{}, Tokens{}, fmt.Errorf("find user: %w", err)
	}
	// Asked for unknown emails too (of no user), so both cost the same.
	familiar, err := s.knownAddress(ctx, userID, client.IP)
	if err != nil {
		return account.User{}, Tokens{}, err
	}
	who := limitSubject(email)
	pairKey, accountKey, addressKey := "login:pair:"+who+" "+client.IP, "login:account:"+who, "login:address:"+client.IP
	rules := []rule{
		{pairKey, s.cfg.LoginAttemptsPerAccountAddress, s.cfg.LoginWindow},
		{addressKey, s.cfg.LoginAttemptsPerAddress, s.cfg.LoginWindow},
	}
	forgiven := []string{addressKey}
	if !familiar {
		rules = append(rules, rule{accountKey, s.cfg.LoginAttemptsPerAccount, s.cfg.LoginWindow})
		forgiven = append(forgiven, accountKey)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		wait, err := s.limits.take(ctx, tx, rules...)
		if err == nil && wait > 0 {
			err = apperr.RateLimited("too many sign-in attempts; try again later", wait)
		}
		return err
	})
	if err != nil {
		return account.User{}, Tokens{}, err
	}

	if !known {
		if _, _, err := s.verifyPassword(ctx, password, s.dummyHash); err != nil {
			return account.User{}, Tokens{}, err
		}
		return account.User{}, Tokens{}, s.loginFailed(ctx, nil, client)
	}
	ok, rehash, err := s.verifyPassword(ctx, password, hash)
	if err != nil {
		return account.User{}, Tokens{}, err
	}
	if !ok {
		return account.User{}, Tokens{}, s.loginFailed(ctx, &userID, client)
	}
	if rehash {
		if err := s.setPasswordHash(ctx, userID, password); err != nil {
			return account.User{}, Tokens{}, err
		}
	}
	u, err := s.profiles.Profile(ctx, userID)
	if err != nil {
		return account.User{}, Tokens{}, err
	}
	tokens, err := s.startSession(ctx, userID, client, func(tx *sql.Tx) error {
		if err := s.limits.reset(ctx, tx, pairKey); err != nil {
			return err
		}
		return s.limits.forgive(ctx, tx, forgiven...)
	})
	return u, tokens, err
}

// knownAddress reports whether the user signed in from ip within
// KnownAddressAge (sessions are kept that long after they end).
func (s *Service) knownAddress(ctx context.Context, userID int64, ip string) (bool, error) {
	var one int
	err := s.db.Read().QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE user_id = $1 AND ip = $2 AND created_at > $3 LIMIT 1`,
		userID, ip, store.Millis(s.cfg.Now().Add(-s.cfg.KnownAddressAge))).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("known address: %w", err)
	}
	return true, nil
}

func (s *Service) loginFailed(ctx context.Context, userID *int64, client Client) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		return audit(ctx, tx, userID, "login.failed", client, "", s.cfg.Now())
	})
	if err != nil {
		return err
	}
	return errBadCredentials
}

func (s *Service) setPasswordHash(ctx context.Context, userID int64, password string) error {
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, store.Millis(s.cfg.Now()), userID)
		if err != nil {
			return fmt.Errorf("update password hash: %w", err)
		}
		return nil
	})
}

// credentials returns the id and password hash of the live account with
// email. Errors: sql.ErrNoRows when there is none.
func (s *Service) credentials(ctx context.Context, email string) (int64, string, error) {
	var id int64
	var hash string
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE email = $1 AND deleted_at IS NULL`, email).
		Scan(&id, &hash)
	return id, hash, err
}

// startSession creates a session for a device and its first token pair;
// also, when not nil, runs in the same transaction.
func (s *Service) startSession(ctx context.Context, userID int64, client Client, also func(tx *sql.Tx) error) (Tokens, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	now := s.cfg.Now()
	var sessionID int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO sessions (user_id, refresh_hash, user_agent, ip, created_at, last_used_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`,
			userID, hash, client.storedUserAgent(), client.IP, store.Millis(now), store.Millis(now.Add(s.cfg.SessionLifetime))).Scan(&sessionID)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return audit(ctx, tx, &userID, "login.succeeded", client, "", now)
	})
	if err != nil {
		return Tokens{}, err
	}
	access, err := s.signer.issue(userID, sessionID)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Access: access, Refresh: refresh}, nil
}

var errBadRefresh = apperr.Unauthorized("refresh token is invalid or expired; sign in again")

// Refresh exchanges a refresh token for a new pair; the presented one stops
// working. Within RefreshGrace of its rotation, a rotated token returns the
// same new pair again (two tabs, or a retry after a lost answer, refresh at
// once), as long as that pair has not been rotated in turn. Presenting a
// rotated token later means it leaked (or was replayed): the whole session
// is revoked. Errors: Unauthorized.
func (s *Service) Refresh(ctx context.Context, refresh string, client Client) (Tokens, error) {
	oldHash := hashRefreshToken(refresh)
	newToken := s.successor(refresh)
	newHash := hashRefreshToken(newToken)
	now := s.cfg.Now()
	nowMs := store.Millis(now)
	var userID, sessionID, issuedMs int64
	reused := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Two rounds: a refresh that loses the race to rotate this token
		// (PostgreSQL) looks again and finds it rotated, within the grace.
		for range 2 {
			var created, lastUsed, expires int64
			var revoked, deleted sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.revoked_at, u.deleted_at
				FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.refresh_hash = $1`, oldHash).
				Scan(&sessionID, &userID, &created, &lastUsed, &expires, &revoked, &deleted)
			if errors.Is(err, sql.ErrNoRows) {
				var rotated bool
				rotated, reused, err = s.rotatedRefresh(ctx, tx, oldHash, newHash, now, &sessionID, &userID, &issuedMs)
				if err != nil || rotated {
					return err
				}
				if reused {
					if err := revokeSession(ctx, tx, sessionID, "refresh token reused", now); err != nil {
						return err
					}
					return audit(ctx, tx, &userID, "session.refresh_reuse", client, fmt.Sprintf("session %d", sessionID), now)
				}
				return errBadRefresh
			}
			if err != nil {
				return fmt.Errorf("find session: %w", err)
			}
			if revoked.Valid || deleted.Valid || expires <= nowMs || lastUsed+s.cfg.SessionIdle.Milliseconds() <= nowMs {
				return errBadRefresh
			}
			res, err := tx.ExecContext(ctx, `UPDATE sessions SET refresh_hash = $1, last_used_at = $2, ip = $3, user_agent = $4
				WHERE id = $5 AND refresh_hash = $6`, newHash, nowMs, client.IP, client.storedUserAgent(), sessionID, oldHash)
			if err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO retired_refresh_tokens (token_hash, session_id, retired_at) VALUES ($1, $2, $3)`, oldHash, sessionID, nowMs)
			if err != nil {
				return fmt.Errorf("retire refresh token: %w", err)
			}
			issuedMs = nowMs
			return nil
		}
		return errBadRefresh
	})
	if err != nil {
		return Tokens{}, err
	}
	if reused {
		// The revocation above is committed; the caller still gets a plain 401.
		return Tokens{}, errBadRefresh
	}
	// The access token is made from the rotation's time and the new refresh
	// token alone, so an answer within the grace is the very same pair.
	access, err := s.signer.issueAt(userID, sessionID, store.Time(issuedMs), jtiOf(s.cfg.SigningKey, newToken))
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Access: access, Refresh: newToken}, nil
}

// rotatedRefresh looks oldHash up among rotated tokens. rotated: it was
// rotated within the grace, its successor (newHash) is still the session's
// live token, and ids and issuedMs are set to answer with that pair again.
// reused: it was rotated before, outside that grace (the caller revokes).
// Neither: unknown token, or a graced one whose successor moved on.
func (s *Service) rotatedRefresh(ctx context.Context, tx *sql.Tx, oldHash, newHash []byte, now time.Time,
	sessionID, userID, issuedMs *int64) (rotated, reused bool, err error) {
	var retired, expires, lastUsed int64
	var current []byte
	var revoked, deleted sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT r.session_id, s.user_id, r.retired_at, s.refresh_hash, s.expires_at, s.last_used_at, s.revoked_at, u.deleted_at
		FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id
		WHERE r.token_hash = $1`, oldHash).Scan(sessionID, userID, &retired, &current, &expires, &lastUsed, &revoked, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("find retired token: %w", err)
	}
	nowMs := store.Millis(now)
	if nowMs-retired > s.cfg.RefreshGrace.Milliseconds() {
		return false, true, nil
	}
	live := !revoked.Valid && !deleted.Valid && expires > nowMs && lastUsed+s.cfg.SessionIdle.Milliseconds() > nowMs
	if !live || !bytes.Equal(current, newHash) {
		return false, false, nil
	}
	*issuedMs = retired
	return true, false, nil
}

// Logout ends the session that refresh belongs to. Unknown or already-used
// tokens end nothing and are not reported, so the answer reveals nothing.
func (s *Service) Logout(ctx context.Context, refresh string, client Client) error {
	hash := hashRefreshToken(refresh)
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var sessionID, userID int64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id FROM sessions WHERE refresh_hash = $1 AND revoked_at IS NULL`, hash).Scan(&sessionID, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find session: %w", err)
		}
		if err := revokeSession(ctx, tx, sessionID, "signed out", now); err != nil {
			return err
		}
		return audit(ctx, tx, &userID, "logout", client, "", now)
	})
}

var errBadAccess = apperr.Unauthorized("missing, invalid or expired access token")

// Authenticate checks an access token and that its session is still live,
// so revoking a session takes effect at once. Errors: Unauthorized.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (principal.Principal, error) {
	userID, sessionID, err := s.signer.verify(accessToken)
	if err != nil {
		return principal.Principal{}, errBadAccess
	}
	var expires int64
	var revoked, deleted sql.NullInt64
	err = s.db.Read().QueryRowContext(ctx, `SELECT s.expires_at, s.revoked_at, u.deleted_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.user_id = $2`, sessionID, userID).Scan(&expires, &revoked, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return principal.Principal{}, errBadAccess
	}
	if err != nil {
		return principal.Principal{}, fmt.Errorf("check session: %w", err)
	}
	if revoked.Valid || deleted.Valid || expires <= store.Millis(s.cfg.Now()) {
		return principal.Principal{}, errBadAccess
	}
	return principal.Principal{UserID: userID, SessionID: sessionID}, nil
}

func revokeSession(ctx context.Context, tx *sql.Tx, sessionID int64, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`,
		store.Millis(now), reason, sessionID)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// storedUserAgent is the User-Agent as stored. A header may hold any
// bytes, and PostgreSQL's text takes neither NUL nor bytes that are not
// UTF-8: those and other control characters become U+FFFD, and the result
// is cut at 512 bytes.
func (c Client) storedUserAgent() string {
	ua := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(c.UserAgent, string(utf8.RuneError)))
	return truncate(ua, 512)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ResetPassword sets a new password for userID (checked against the policy)
// and ends every session of the user. Errors: Invalid naming
// location; NotFound.
func (s *Service) ResetPassword(ctx context.Context, userID int64, location, password string, client Client) error {
	a, err := s.loadAccount(ctx, s.db.Read(), userID, false)
	if err != nil {
		return err
	}
	if perr := CheckPasswordPolicy(location, password, a.email, a.first, a.last); perr != nil {
		return perr
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, store.Millis(now), userID); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if _, err := revokeSessionsTx(ctx, tx, userID, 0, "password reset", now); err != nil {
			return err
		}
		return audit(ctx, tx, &userID, "password.reset", client, "", now)
	})
}

// UserIDByEmail finds a live account by email. Errors: NotFound.
func (s *Service) UserIDByEmail(ctx context.Context, email string) (int64, error) {
	id, _, err := s.credentials(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.NotFound("user")
	}
	if err != nil {
		return 0, fmt.Errorf("find user: %w", err)
	}
	return id, nil
}

// ResolveUsersTx tells, inside tx, which of ids are live accounts and
// which live accounts have the given (normalised) emails: how the
// platform's ingest finds the owner of each reported call in its own
// transaction. byEmail holds only accounts that verified their address
// (otherwise whoever registers a customer's address first would receive
// the calls meant for that customer); unverified holds the emails of live
// accounts that have not, so their calls can be refused with that reason.
func (s *Service) ResolveUsersTx(ctx context.Context, tx *sql.Tx, ids []int64, emails []string) (live map[int64]bool, byEmail map[string]int64, unverified map[string]bool, err error) {
	live, byEmail, unverified = map[int64]bool{}, map[string]int64{}, map[string]bool{}
	if len(ids) > 0 {
		in, arg := store.InList(s.db.Dialect, 1, ids)
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE deleted_at IS NULL AND id `+in, arg)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			live[id] = true
			return nil
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("load users: %w", err)
		}
	}
	if len(emails) > 0 {
		in, arg := store.InList(s.db.Dialect, 1, emails)
		rows, err := tx.QueryContext(ctx, `SELECT id, email, is_verified FROM users WHERE deleted_at IS NULL AND email `+in, arg)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			var id int64
			var email string
			var verified bool
			if err := r.Scan(&id, &email, &verified); err != nil {
				return err
			}
			if verified {
				byEmail[email] = id
			} else {
				unverified[email] = true
			}
			return nil
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("load users by email: %w", err)
		}
	}
	return live, byEmail, unverified, nil
}

// UserIDs lists every account's id, oldest first (for repairs that walk
// every user, such as a statistics rebuild).
func (s *Service) UserIDs(ctx context.Context) ([]int64, error) {
	ids, err := store.IDs(s.db.Read().QueryContext(ctx, `SELECT id FROM users ORDER BY id`))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return ids, nil
}
