package account

import (
	"context"
	"database/sql"
	"fmt"

	"callboard/internal/audit"
	"callboard/internal/store"
)

// Recipient is what a sender of notifications and news needs to know of an
// account, read in one query: where to write, in which language, and what
// the user agreed to receive.
type Recipient struct {
	UserID int64
	Email  string
	// EmailVerified is users.is_verified: only a verified address is
	// known to be the user's, so only it is written to.
	EmailVerified bool
	Phone         string // E.164, or "" when none
	FirstName     string
	Language      Language
	Notifications NotificationSettings
}

const recipientSelect = `SELECT u.id, u.email, u.is_verified, u.phone, u.first_name, p.language,
	s.notify_email, s.notify_sms, s.notify_marketing, s.notify_calls, s.notify_billing
	FROM users u
	LEFT JOIN user_settings s ON s.user_id = u.id
	LEFT JOIN user_preferences p ON p.user_id = u.id`

func scanRecipient(r *sql.Rows) (Recipient, error) {
	var (
		rc                                    Recipient
		phone, language                       sql.NullString
		email, sms, marketing, calls, billing sql.NullBool
	)
	if err := r.Scan(&rc.UserID, &rc.Email, &rc.EmailVerified, &phone, &rc.FirstName, &language,
		&email, &sms, &marketing, &calls, &billing); err != nil {
		return Recipient{}, err
	}
	rc.Phone = phone.String
	rc.Language = choiceOrDefault(nullString[Language](language), Languages, DefaultPreferences().Language)
	st := storedSettings{notifyEmail: nullBool(email), notifySMS: nullBool(sms), notifyMarketing: nullBool(marketing),
		notifyCalls: nullBool(calls), notifyBilling: nullBool(billing)}
	rc.Notifications = st.effective().Notifications
	return rc, nil
}

// Recipients returns the live accounts among userIDs, by id, with one
// query whatever their number (the notifications of an ingest batch read
// each user once). Deleted and unknown ids are left out.
func (s *Service) Recipients(ctx context.Context, userIDs []int64) (map[int64]Recipient, error) {
	out := make(map[int64]Recipient, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	in, arg := store.InList(s.db.Dialect, 1, userIDs)
	rows, err := s.db.Read().QueryContext(ctx, recipientSelect+` WHERE u.id `+in+` AND u.deleted_at IS NULL`, arg)
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		rc, err := scanRecipient(r)
		if err == nil {
			out[rc.UserID] = rc
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	return out, nil
}

// MarketingRecipients returns, in id order after afterID, at most limit
// live accounts with a verified address whose marketing setting is on
// (product news is opt-in): a sender walks them page by page.
func (s *Service) MarketingRecipients(ctx context.Context, afterID int64, limit int) ([]Recipient, error) {
	rows, err := s.db.Read().QueryContext(ctx, recipientSelect+`
		WHERE u.id > $1 AND u.deleted_at IS NULL AND u.is_verified = $2 AND COALESCE(s.notify_marketing, $3) = $2
		ORDER BY u.id LIMIT $4`, afterID, true, DefaultSettings().Notifications.Marketing, limit)
	var out []Recipient
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		rc, err := scanRecipient(r)
		if err == nil {
			out = append(out, rc)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load marketing recipients: %w", err)
	}
	return out, nil
}

// ActionMarketingStopped is the security-log action of StopMarketing.
const ActionMarketingStopped = "marketing.unsubscribed"

// StopMarketing turns userID's marketing setting off and, when it was on,
// records that in the security log in the same transaction (with client,
// and details such as how it was asked for). It reports whether the setting
// changed. Errors: NotFound when the account is gone.
func (s *Service) StopMarketing(ctx context.Context, userID int64, client audit.Client, details map[string]string) (changed bool, err error) {
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, "user_settings", userID); err != nil {
			return err
		}
		var stored sql.NullBool
		if err := tx.QueryRowContext(ctx, `SELECT notify_marketing FROM user_settings WHERE user_id = $1`+s.forUpdate(),
			userID).Scan(&stored); err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
		if !orDefault(nullBool(stored), DefaultSettings().Notifications.Marketing) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_settings SET notify_marketing = $1, updated_at = $2 WHERE user_id = $3`,
			false, store.Millis(s.now()), userID); err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		changed = true
		if s.privacy.cfg.Audit == nil {
			return nil
		}
		return s.privacy.cfg.Audit.RecordTx(ctx, tx, client.Entry(userID, ActionMarketingStopped, details))
	})
	return changed, err
}
