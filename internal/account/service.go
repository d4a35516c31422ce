package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
	_ "time/tzdata" // timezones must not depend on the host's zoneinfo files

	"callboard/internal/apperr"
	"callboard/internal/blob"
	"callboard/internal/store"
)

// Config is what a Service is built from.
type Config struct {
	DB    *store.DB
	Blobs blob.Store // avatar files
	// TimezoneChanges is told after a preferences update that changed the
	// user's effective timezone has committed (statistics kept per local
	// day rebuild from it); optional.
	TimezoneChanges TimezoneObserver
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger records problems that do not fail a request (a stale avatar
	// file that could not be deleted); discarded when nil.
	Logger *slog.Logger
	// MaxConcurrentDecodes bounds how many avatar uploads are decoded at
	// once: one holds up to ~130 MB (see MaxAvatarDecodeBytes and the
	// README). Default 2.
	MaxConcurrentDecodes int

	// Deletion and export (privacy.go); required by DeleteAccount and
	// Export, and wired in internal/app.
	Credentials Credentials          // checks the password (auth)
	Erasers     []PersonalDataEraser // every other capability's share of a deletion
	Audit       Audit                // records profile changes, exports, deletions
	Export      ExportSources        // the other capabilities' files of an export
	// ExportInterval is how often a user may export (5 minutes);
	// MaxConcurrentExports bounds exports at once over all users (2).
	ExportInterval       time.Duration
	MaxConcurrentExports int
}

// Service is what a signed-in user configures about themselves: profile,
// settings, preferences and avatar.
type Service struct {
	db     *store.DB
	blobs  blob.Store
	tzObs  TimezoneObserver
	now    func() time.Time
	logger *slog.Logger
	// decodeSlots is a semaphore over avatar decodes.
	decodeSlots chan struct{}
	privacy     privacy
	avatarRules avatarRules

	zonesMu sync.Mutex
	zones   map[string]*time.Location
}

// TimezoneObserver is told when a user's effective timezone changed. It
// runs in the request, after the commit: keep it short or hand the work off.
type TimezoneObserver interface {
	TimezoneChanged(ctx context.Context, userID int64, loc *time.Location)
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxConcurrentDecodes <= 0 {
		cfg.MaxConcurrentDecodes = 2
	}
	return &Service{
		db: cfg.DB, blobs: cfg.Blobs, tzObs: cfg.TimezoneChanges, now: cfg.Now, logger: cfg.Logger,
		decodeSlots: make(chan struct{}, cfg.MaxConcurrentDecodes),
		avatarRules: defaultAvatarRules,
		zones:       map[string]*time.Location{},
		privacy:     newPrivacy(cfg),
	}
}

// forUpdate locks the selected row until commit (store.Dialect.ForUpdate).
func (s *Service) forUpdate() string { return s.db.Dialect.ForUpdate() }

var errUserGone = apperr.NotFound("user")

// ensureRow makes sure the per-user row of table exists, so that it can be
// locked and updated; it checks the account is live first. Errors: NotFound.
func (s *Service) ensureRow(ctx context.Context, tx *sql.Tx, table string, userID int64) error {
	if err := checkLiveUser(ctx, tx, userID); err != nil {
		return err
	}
	// table is one of this package's constants, never input.
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
		userID, store.Millis(s.now()))
	if err != nil {
		return fmt.Errorf("create %s row: %w", table, err)
	}
	return nil
}

// checkLiveUser checks that the account exists and is not deleted.
// Errors: NotFound.
func checkLiveUser(ctx context.Context, tx *sql.Tx, userID int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errUserGone
	}
	if err != nil {
		return fmt.Errorf("check user: %w", err)
	}
	return nil
}

// zone returns the named location, UTC when it cannot be loaded. Loaded
// zones are kept: there are a few hundred at most.
func (s *Service) zone(name string) *time.Location {
	s.zonesMu.Lock()
	defer s.zonesMu.Unlock()
	if loc, ok := s.zones[name]; ok {
		return loc
	}
	loc, err := loadZone(name)
	if err != nil {
		s.logger.Warn("stored timezone no longer loads; using UTC", "timezone", name, "err", err)
		loc = time.UTC
	}
	s.zones[name] = loc
	return loc
}
