// Package account is what a signed-in user configures about themselves:
// profile, settings, preferences and avatar, and the profile view of an
// account (User) that sign-in answers and the overview show; and the
// user's privacy requests: deleting the account (every capability's
// PersonalDataEraser in one transaction) and exporting their data (a ZIP
// streamed from every capability's exporter), in privacy.go.
//
// Tables: user_settings and user_preferences; in users, the profile columns
// (first_name, last_name, phone, avatar_key) and the profile view of a row.
// The rows of users are created by auth at registration, which owns their
// credentials (email, password_hash, is_verified) and their life
// (deleted_at). Other capabilities read a profile with Profile and a
// timezone with Location, never the tables.
package account

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"callboard/internal/apperr"
	"callboard/internal/phone"
	"callboard/internal/store"
)

// ProfilePatch is a JSON Merge Patch of the profile: fields not sent are
// kept. The names cannot be cleared; phone can (null or "").
type ProfilePatch struct {
	FirstName Optional[string] `json:"first_name,omitzero" maxLength:"150"`
	LastName  Optional[string] `json:"last_name,omitzero" maxLength:"150"`
	Phone     Optional[string] `json:"phone,omitzero" nullable:"true" maxLength:"64" doc:"Any common form; stored and shown as E.164. Numbers without a country code are read in the region of your timezone (Pakistan by default). null or an empty string removes it." example:"+92 300 1234567"`
}

// UpdateProfile applies a merge patch to the profile and returns the
// result. Nothing is stored unless every field is valid. Errors: Invalid
// naming each bad field; NotFound when the user is gone.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, p ProfilePatch) (User, error) {
	var (
		problems []apperr.FieldError
		sets     []string
		args     []any
	)
	set := func(column string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", column, len(args)))
	}
	for _, name := range []struct {
		location string
		value    Optional[string]
		column   string
	}{{"body.first_name", p.FirstName, "first_name"}, {"body.last_name", p.LastName, "last_name"}} {
		if !name.value.Set {
			continue
		}
		if name.value.Null {
			problems = append(problems, apperr.FieldError{Location: name.location, Message: "is required and cannot be null"})
			continue
		}
		v, fe := CheckName(name.location, name.value.Value)
		if fe != nil {
			problems = append(problems, *fe)
			continue
		}
		set(name.column, v)
	}
	if p.Phone.Set {
		raw := strings.TrimSpace(p.Phone.Value)
		if p.Phone.Null || raw == "" {
			set("phone", nil)
		} else {
			region, err := s.phoneRegion(ctx, userID)
			if err != nil {
				return User{}, err
			}
			e164, err := phone.Normalize(raw, region)
			if err != nil {
				problems = append(problems, apperr.FieldError{Location: "body.phone",
					Message: "must be a valid phone number, like +92 300 1234567", Value: truncateValue(raw)})
			} else {
				set("phone", e164)
			}
		}
	}
	if len(problems) > 0 {
		return User{}, apperr.InvalidFields(problems...)
	}
	if len(sets) > 0 {
		set("updated_at", store.Millis(s.now()))
		args = append(args, userID)
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			// sets holds this function's column names only; values are parameters.
			res, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+
				fmt.Sprintf(` WHERE id = $%d AND deleted_at IS NULL`, len(args)), args...)
			if err != nil {
				return fmt.Errorf("update profile: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errUserGone
			}
			return nil
		})
		if err != nil {
			return User{}, err
		}
	}
	return s.Profile(ctx, userID)
}

// phoneRegion is the region numbers without a country code are read in:
// the one of the user's timezone, else Pakistan.
func (s *Service) phoneRegion(ctx context.Context, userID int64) (string, error) {
	st, err := s.storedPreferences(ctx, userID)
	if err != nil {
		return "", err
	}
	return phone.RegionForTimezone(orDefault(st.timezone, "")), nil
}

// truncateValue keeps echoed input short.
func truncateValue(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
