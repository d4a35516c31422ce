package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"callboard/internal/store"
)

// Run delivers due messages until ctx ends: at once when this process
// enqueues one, and every PollInterval for messages of other instances and
// retries. It also purges old metadata hourly.
func (s *Service) Run(ctx context.Context) error {
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	s.purge(ctx)
	for {
		for {
			n, err := s.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("deliver mail", "err", err)
			}
			if err != nil || n < claimBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-s.wake:
		case <-purge.C:
			s.purge(ctx)
		}
	}
}

// claimBatch is how many messages one DeliverDue claims.
const claimBatch = 50

type queued struct {
	Message
	id        int64
	createdAt time.Time
	attempts  int
}

// DeliverDue claims the messages due now (at most claimBatch), delivers
// them, records each outcome and returns how many it claimed. A claim moves
// the message's due time past the attempt's timeout (a lease), so another
// instance skips it, and a process that dies mid-attempt leaves it to be
// retried when the lease ends.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	lease := store.Millis(now.Add(s.cfg.SendTimeout + time.Minute))
	rows, err := s.db.Write().QueryContext(ctx, `UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
			ORDER BY next_attempt_at LIMIT $3`+s.db.Dialect.SkipLocked()+`)
		RETURNING id, COALESCE(user_id, 0), channel, kind, recipient, subject, body_text, body_html, headers, created_at, attempts`,
		lease, store.Millis(now), claimBatch)
	if err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}
	var batch []queued
	for rows.Next() {
		var q queued
		var headers string
		var created int64
		if err := rows.Scan(&q.id, &q.UserID, &q.Channel, &q.Kind, &q.To, &q.Subject, &q.Text, &q.HTML, &headers, &created, &q.attempts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("claim mail: %w", err)
		}
		q.createdAt = time.UnixMilli(created)
		if err := json.Unmarshal([]byte(headers), &q.Headers); err != nil {
			q.Headers = nil
		}
		batch = append(batch, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}

	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, q := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.deliver(ctx, q)
		})
	}
	wg.Wait()
	return len(batch), nil
}

// deliver makes one attempt at q and records its outcome.
func (s *Service) deliver(ctx context.Context, q queued) {
	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	var err error
	if q.Channel == ChannelSMS {
		err = s.cfg.SMS.SendSMS(sendCtx, q.To, q.Text)
	} else {
		err = s.cfg.Transport.Send(sendCtx, q.Message)
	}
	cancel()

	// The outcome is recorded even when Run is stopping: an attempt that
	// reached the server must not be made again.
	rec, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	now := s.cfg.Now()
	log := s.cfg.Logger.With("mail_id", q.id, "kind", q.Kind, "channel", q.Channel, "attempt", q.attempts)
	switch {
	case err == nil:
		s.attempts.WithLabelValues(q.Channel, "sent").Inc()
		// The bodies may hold a single-use link: they go once delivered.
		_, err = s.db.Write().ExecContext(rec, `UPDATE mail_outbox SET sent_at = $1, last_error = '',
			body_text = '', body_html = '', headers = '{}' WHERE id = $2`, store.Millis(now), q.id)
		log.Info("mail delivered")
	case IsPermanent(err) || now.Sub(q.createdAt) >= s.cfg.GiveUpAfter:
		s.attempts.WithLabelValues(q.Channel, "failed").Inc()
		log.Error("mail not delivered, given up", "err", err)
		_, err = s.db.Write().ExecContext(rec, `UPDATE mail_outbox SET failed_at = $1, last_error = $2,
			body_text = '', body_html = '', headers = '{}' WHERE id = $3`, store.Millis(now), errorText(err), q.id)
	default:
		s.attempts.WithLabelValues(q.Channel, "retry").Inc()
		next := now.Add(s.backoff(q.attempts))
		log.Warn("mail not delivered, will retry", "err", err, "retry_at", next)
		_, err = s.db.Write().ExecContext(rec, `UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3`,
			store.Millis(next), errorText(err), q.id)
	}
	if err != nil {
		// The lease ends and the message is tried again: at least once.
		log.Error("record mail outcome", "err", err)
	}
}

// backoff is the wait after the attempts-th failed attempt.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempts && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.RetryMax)
}

// errorText is err as stored: valid UTF-8 without NUL (a server's reply
// is not trusted to be), at most 500 bytes.
func errorText(err error) string {
	t := strings.ToValidUTF8(strings.ReplaceAll(err.Error(), "\x00", ""), "?")
	if len(t) > 500 {
		t = t[:500]
		for !utf8.ValidString(t) {
			t = t[:len(t)-1]
		}
	}
	return t
}

// purge deletes the metadata of messages delivered or given up longer
// than Retention ago.
func (s *Service) purge(ctx context.Context) {
	cutoff := store.Millis(s.cfg.Now().Add(-s.cfg.Retention))
	_, err := s.db.Write().ExecContext(ctx, `DELETE FROM mail_outbox
		WHERE created_at < $1 AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)`, cutoff)
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("purge mail", "err", err)
	}
}

// Pending returns how many messages are still to be delivered.
func (s *Service) Pending(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending mail: %w", err)
	}
	return n, nil
}

// permanentError marks a failure that another attempt would repeat.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a recipient the server
// refuses, an address that cannot be parsed).
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool { return errors.As(err, new(permanentError)) }
