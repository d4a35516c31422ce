package account

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sync"
	"time"

	"callboard/internal/apperr"
	"callboard/internal/audit"
	"callboard/internal/blob"
	"callboard/internal/store"
)

// Credentials checks a user's password (auth).
type Credentials interface {
	// CheckPassword answers nil when password is userID's, Invalid naming
	// location when it is not.
	CheckPassword(ctx context.Context, userID int64, location, password string) error
}

// PersonalDataEraser erases or anonymises, inside tx, what one capability
// holds about userID. DeleteAccount calls every one in a single
// transaction: any error rolls the whole deletion back.
type PersonalDataEraser interface {
	ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error
}

// Audit is the security log (package audit).
type Audit interface {
	Record(ctx context.Context, e audit.Entry) error
	RecordTx(ctx context.Context, tx *sql.Tx, e audit.Entry) error
	CountSince(ctx context.Context, userID int64, action string, t time.Time) (int, error)
	LastSince(ctx context.Context, userID int64, action string, t time.Time) (time.Time, bool, error)
}

// SessionsExporter writes a user's sessions as a JSON array (auth).
type SessionsExporter interface {
	ExportSessions(ctx context.Context, userID int64, w io.Writer) error
}

// NotificationsExporter writes a user's notifications as a JSON array (notify).
type NotificationsExporter interface {
	ExportNotifications(ctx context.Context, userID int64, w io.Writer) error
}

// AuditExporter writes a user's security log as a JSON array (audit).
type AuditExporter interface {
	ExportAudit(ctx context.Context, userID int64, w io.Writer) error
}

// CallsExporter writes a user's whole call history as CSV (calls).
type CallsExporter interface {
	ExportCallsCSV(ctx context.Context, userID int64, w io.Writer) error
}

// InvoiceExporter writes a user's invoices as a JSON array, streaming
// (billing).
type InvoiceExporter interface {
	ExportInvoices(ctx context.Context, userID int64, w io.Writer) error
}

// ExportSources are the other capabilities' shares of a data export. A
// nil Invoices exports an empty invoices.json; the others are required.
type ExportSources struct {
	Sessions      SessionsExporter
	Notifications NotificationsExporter
	Audit         AuditExporter
	Calls         CallsExporter
	Invoices      InvoiceExporter
}

// privacy is the state of deletions and exports.
type privacy struct {
	cfg      Config
	interval time.Duration
	slots    chan struct{} // exports at once, over all users
	mu       sync.Mutex
	running  map[int64]bool // users with an export in progress here
}

func newPrivacy(cfg Config) privacy {
	if cfg.ExportInterval <= 0 {
		cfg.ExportInterval = 5 * time.Minute
	}
	if cfg.MaxConcurrentExports <= 0 {
		cfg.MaxConcurrentExports = 2
	}
	return privacy{cfg: cfg, interval: cfg.ExportInterval, slots: make(chan struct{}, cfg.MaxConcurrentExports), running: map[int64]bool{}}
}

// ConfirmDeletion is the word a deletion must be confirmed with.
const ConfirmDeletion = "DELETE"

// Wrong passwords for a deletion are limited like those of a password
// change: per account, counted in the audit log.
const (
	deletionFailures = 5
	deletionWindow   = 15 * time.Minute
	actionDeleteFail = "account.delete_failed"
)

// DeleteAccount erases userID's account once the password and the
// confirmation word are right. In one transaction it blanks the profile
// (names, phone, avatar) and the settings and preferences, and calls every
// PersonalDataEraser: auth ends every session and frees the email, calls
// blanks the numbers, notify and audit drop or anonymise theirs, billing
// keeps invoices anonymised. The avatar file is deleted after the commit.
// Errors: Invalid naming body.confirm or body.password (then nothing
// changed); RateLimited after repeated wrong passwords; NotFound when the
// user is gone.
func (s *Service) DeleteAccount(ctx context.Context, userID int64, password, confirm string, client audit.Client) error {
	if confirm != ConfirmDeletion {
		return apperr.Invalid("body.confirm", `must be exactly "DELETE"`)
	}
	if password == "" {
		return apperr.Invalid("body.password", "is required")
	}
	cfg := s.privacy.cfg
	failures, err := cfg.Audit.CountSince(ctx, userID, actionDeleteFail, s.now().Add(-deletionWindow))
	if err != nil {
		return err
	}
	if failures >= deletionFailures {
		return apperr.RateLimited("too many wrong passwords; try again later", deletionWindow)
	}
	if err := cfg.Credentials.CheckPassword(ctx, userID, "body.password", password); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInvalid {
			if rerr := cfg.Audit.Record(ctx, client.Entry(userID, actionDeleteFail, nil)); rerr != nil {
				return rerr
			}
		}
		return err
	}
	var avatarKey sql.NullString
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT avatar_key FROM users WHERE id = $1 AND deleted_at IS NULL`+s.forUpdate(), userID).Scan(&avatarKey)
		if errors.Is(err, sql.ErrNoRows) {
			return errUserGone
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if err := s.ErasePersonalData(ctx, tx, userID); err != nil {
			return err
		}
		for _, e := range cfg.Erasers {
			if err := e.ErasePersonalData(ctx, tx, userID); err != nil {
				return err
			}
		}
		// After the erasers, and without address or device: the entry says
		// that the account was deleted and when, nothing more.
		return cfg.Audit.RecordTx(ctx, tx, audit.Entry{UserID: userID, Action: audit.ActionAccountDeleted})
	})
	if err != nil {
		return err
	}
	if avatarKey.Valid {
		s.deleteAvatarBlob(context.WithoutCancel(ctx), avatarKey.String)
	}
	return nil
}

// ErasePersonalData blanks account's share of userID inside tx: names,
// phone and avatar (the file goes after the commit, in DeleteAccount),
// settings and preferences.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET first_name = '', last_name = '', phone = NULL, avatar_key = NULL, updated_at = $1 WHERE id = $2`,
		store.Millis(s.now()), userID); err != nil {
		return fmt.Errorf("erase profile: %w", err)
	}
	for _, table := range []string{"user_settings", "user_preferences"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("erase %s: %w", table, err)
		}
	}
	return nil
}

// DataExport is an admitted export of a user's data, ready to stream.
// Close it when done.
type DataExport struct {
	s        *Service
	userID   int64
	Filename string // callboard-export-YYYYMMDD.zip
	release  func()
}

// Export admits an export of userID's data: one per user per
// ExportInterval (counted in the audit log, so across instances) and at
// most MaxConcurrentExports at once. The export is recorded in the audit
// log. Errors: RateLimited with the time to wait.
func (s *Service) Export(ctx context.Context, userID int64, client audit.Client) (*DataExport, error) {
	p := &s.privacy
	select {
	case p.slots <- struct{}{}:
	default:
		return nil, apperr.RateLimited("too many exports are being prepared; try again in a minute", 30*time.Second)
	}
	p.mu.Lock()
	if p.running[userID] {
		p.mu.Unlock()
		<-p.slots
		return nil, apperr.RateLimited("an export of your data is already being downloaded", p.interval)
	}
	p.running[userID] = true
	p.mu.Unlock()
	release := func() {
		p.mu.Lock()
		delete(p.running, userID)
		p.mu.Unlock()
		<-p.slots
	}
	now := s.now()
	last, ok, err := p.cfg.Audit.LastSince(ctx, userID, audit.ActionDataExported, now.Add(-p.interval))
	if err == nil && ok {
		err = apperr.RateLimited(fmt.Sprintf("one export every %s; try again later", p.interval), last.Add(p.interval).Sub(now))
	}
	if err == nil {
		err = p.cfg.Audit.Record(ctx, client.Entry(userID, audit.ActionDataExported, nil))
	}
	if err != nil {
		release()
		return nil, err
	}
	loc, err := s.Location(ctx, userID)
	if err != nil {
		release()
		return nil, err
	}
	return &DataExport{s: s, userID: userID, release: release,
		Filename: "callboard-export-" + now.In(loc).Format("20060102") + ".zip"}, nil
}

// Close releases the export's slot.
func (e *DataExport) Close() { e.release() }

const exportReadme = `Callboard: everything stored about your account, as of %s.

profile.json        your profile: name, email, phone, avatar link, when you joined
settings.json       your notification, privacy and call settings
preferences.json    your dashboard preferences (theme, language, timezone, formats, widgets)
sessions.json       every signed-in device: browser and system, address, when it signed in and was last used, when it ended
notifications.json  your notifications, read and unread
calls.csv           your whole call history, as the calls export gives it (times in your timezone)
invoices.json       your invoices
audit.json          your security log: sign-ins, failed attempts, password changes, signed-out devices, exports
%s
JSON files are UTF-8; times are RFC 3339 in UTC unless said otherwise.
`

// WriteZip streams the export to w as a ZIP archive, file by file; each
// file is written as it is read, so memory does not grow with the data.
func (e *DataExport) WriteZip(ctx context.Context, w io.Writer) error {
	s, src := e.s, e.s.privacy.cfg.Export
	now := s.now()
	u, err := s.Profile(ctx, e.userID)
	if err != nil {
		return err
	}
	var avatarKey sql.NullString
	if err := s.db.Read().QueryRowContext(ctx, `SELECT avatar_key FROM users WHERE id = $1`, e.userID).Scan(&avatarKey); err != nil {
		return fmt.Errorf("load avatar key: %w", err)
	}
	avatarFile := ""
	if avatarKey.Valid {
		avatarFile = "avatar" + path.Ext(avatarKey.String)
	}
	zw := zip.NewWriter(w)
	file := func(name string, write func(io.Writer) error) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return fmt.Errorf("zip %s: %w", name, err)
		}
		if err := write(fw); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		return nil
	}
	jsonOf := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	byUser := func(f func(context.Context, int64, io.Writer) error) func(io.Writer) error {
		return func(w io.Writer) error { return f(ctx, e.userID, w) }
	}
	settings, err := s.Settings(ctx, e.userID)
	if err != nil {
		return err
	}
	prefs, err := s.Preferences(ctx, e.userID)
	if err != nil {
		return err
	}
	avatarLine := ""
	if avatarFile != "" {
		avatarLine = fmt.Sprintf("%-19s your avatar image\n", avatarFile)
	}
	invoices := func(w io.Writer) error { _, err := io.WriteString(w, "[]\n"); return err }
	if src.Invoices != nil {
		invoices = byUser(src.Invoices.ExportInvoices)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"README.txt", func(w io.Writer) error {
			_, err := fmt.Fprintf(w, exportReadme, now.UTC().Format(time.RFC3339), avatarLine)
			return err
		}},
		{"profile.json", jsonOf(u)},
		{"settings.json", jsonOf(settings)},
		{"preferences.json", jsonOf(prefs)},
		{"sessions.json", byUser(src.Sessions.ExportSessions)},
		{"notifications.json", byUser(src.Notifications.ExportNotifications)},
		{"calls.csv", byUser(src.Calls.ExportCallsCSV)},
		{"invoices.json", invoices},
		{"audit.json", byUser(src.Audit.ExportAudit)},
	}
	if avatarFile != "" {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{avatarFile, func(w io.Writer) error {
			r, err := s.blobs.Open(ctx, avatarBlobDir+avatarKey.String)
			if errors.Is(err, blob.ErrNotFound) {
				return nil // the file is gone; the profile still names it
			}
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(w, r)
			return err
		}})
	}
	for _, f := range files {
		if err := file(f.name, f.write); err != nil {
			return err
		}
	}
	return zw.Close()
}
