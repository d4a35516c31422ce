package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"callboard/internal/apperr"
	"callboard/internal/plaintext"
	"callboard/internal/store"
)

// User is an account as the API shows it: the profile. Sign-in answers
// (auth) and the overview (dashboard) show it through Profile.
type User struct {
	ID         int64     `json:"id"`
	Email      string    `json:"email" format:"email"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	Phone      *string   `json:"phone" doc:"E.164, or null"`
	IsVerified bool      `json:"is_verified" doc:"Whether the email address is proven: its verification link was opened (or a password-reset link reached it). The platform routes calls by email only to verified accounts."`
	AvatarURL  *string   `json:"avatar_url" doc:"URL of the 300×300 avatar, or null"`
	DateJoined time.Time `json:"date_joined"`
}

// AvatarPath is where avatars are served; the stored key follows it.
const AvatarPath = "/media/avatars/"

const maxNameLen = 150

// CheckName trims a person's name and checks it is present, not too long,
// plain text and free of bidirectional overrides; a refusal names location.
// Registration (auth) checks names with it too, so the rule is the
// profile's own.
func CheckName(location, raw string) (string, *apperr.FieldError) {
	name := strings.TrimSpace(raw)
	if msg := plaintext.Problem(name); msg != "" {
		return "", &apperr.FieldError{Location: location, Message: msg}
	}
	if plaintext.HasBidiControl(name) {
		return "", &apperr.FieldError{Location: location, Message: plaintext.BidiMessage}
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", &apperr.FieldError{Location: location, Message: "is required"}
	case n > maxNameLen:
		return "", &apperr.FieldError{Location: location, Message: fmt.Sprintf("must be at most %d characters", maxNameLen)}
	}
	return name, nil
}

const profileColumns = `id, email, first_name, last_name, phone, is_verified, avatar_key, created_at`

func scanProfile(row interface{ Scan(...any) error }) (User, error) {
	var (
		u         User
		phone     sql.NullString
		avatarKey sql.NullString
		created   int64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &phone, &u.IsVerified, &avatarKey, &created); err != nil {
		return User{}, err
	}
	if phone.Valid {
		u.Phone = &phone.String
	}
	if avatarKey.Valid {
		url := AvatarPath + avatarKey.String
		u.AvatarURL = &url
	}
	u.DateJoined = store.Time(created)
	return u, nil
}

// Profile returns the user's profile. Errors: NotFound when the account
// does not exist or was deleted.
func (s *Service) Profile(ctx context.Context, userID int64) (User, error) {
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+profileColumns+` FROM users WHERE id = $1 AND deleted_at IS NULL`, userID)
	u, err := scanProfile(row)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errUserGone
	}
	if err != nil {
		return User{}, fmt.Errorf("load profile: %w", err)
	}
	return u, nil
}
