package mail

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"callboard/internal/store"
)

// Count is how many messages of one channel and kind.
type Count struct {
	Channel string
	Kind    string
	N       int
}

// CountRecent returns how many messages to userID whose kind starts with
// kindPrefix were enqueued since since (delivered or not), by channel and
// kind. It first takes a lock on userID's messages that tx holds until it
// ends, so a caller that counts and then enqueues at most what its bound
// leaves keeps the bound even when its transactions run at once. Callers
// counting for several users must do so in one order (ascending ids).
func (s *Service) CountRecent(ctx context.Context, tx *sql.Tx, userID int64, kindPrefix string, since time.Time) ([]Count, error) {
	if err := s.db.Dialect.LockTx(ctx, tx, "mail-user:"+strconv.FormatInt(userID, 10)); err != nil {
		return nil, err
	}
	// mail_outbox_user (user_id, created_at) finds the rows; the kinds are
	// compared by prefix without LIKE, whose _ and % are wildcards.
	rows, err := tx.QueryContext(ctx, `SELECT channel, kind, COUNT(*) FROM mail_outbox
		WHERE user_id = $1 AND created_at >= $2 AND substr(kind, 1, $3) = $4
		GROUP BY channel, kind`, userID, store.Millis(since), len(kindPrefix), kindPrefix)
	var out []Count
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		var c Count
		if err := r.Scan(&c.Channel, &c.Kind, &c.N); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count recent messages: %w", err)
	}
	return out, nil
}
