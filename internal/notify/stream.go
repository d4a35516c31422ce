package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// hub is the in-process fan-out: the open streams of each user, each woken
// (never blocking the publisher) when the user has something new.
type hub struct {
	mu      sync.Mutex
	subs    map[int64]map[*subscriber]struct{}
	total   int
	perUser int
	max     int
	closing chan struct{} // closed when the service stops: every stream ends
	closed  bool
}

type subscriber struct {
	userID int64
	wake   chan struct{}
}

func newHub(perUser, max int) *hub {
	return &hub{subs: map[int64]map[*subscriber]struct{}{}, perUser: perUser, max: max, closing: make(chan struct{})}
}

var errTooManyStreams = apperr.RateLimited("too many open notification streams; close another tab or try again later", 5*time.Second)

// join opens a stream of userID. Errors: RateLimited past a bound.
func (h *hub) join(userID int64) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total >= h.max || len(h.subs[userID]) >= h.perUser {
		return nil, errTooManyStreams
	}
	sub := &subscriber{userID: userID, wake: make(chan struct{}, 1)}
	if h.subs[userID] == nil {
		h.subs[userID] = map[*subscriber]struct{}{}
	}
	h.subs[userID][sub] = struct{}{}
	h.total++
	return sub, nil
}

func (h *hub) leave(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub.userID][sub]; !ok {
		return
	}
	delete(h.subs[sub.userID], sub)
	if len(h.subs[sub.userID]) == 0 {
		delete(h.subs, sub.userID)
	}
	h.total--
}

// wake tells userID's streams to look for new notifications.
func (h *hub) wake(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[userID] {
		select {
		case sub.wake <- struct{}{}:
		default: // already due to look
		}
	}
}

// open reports how many streams are open (for tests and metrics).
func (h *hub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
}

// OpenStreams tells how many notification streams this process serves.
func (s *Service) OpenStreams() int { return s.hub.open() }

// maxTicketsPerUser bounds a user's unexpired tickets, so a client in a
// loop cannot fill the table.
const maxTicketsPerUser = 10

// Ticket opens one notification stream, once, before it expires.
type Ticket struct {
	Ticket    string    `json:"ticket" doc:"Pass as ?ticket= to the stream. Single use."`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewTicket issues a stream ticket for the session sessionID of userID.
// Only its SHA-256 is stored. Errors: RateLimited when the user holds too
// many unused ones.
func (s *Service) NewTicket(ctx context.Context, userID, sessionID int64) (Ticket, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Ticket{}, fmt.Errorf("stream ticket: %w", err)
	}
	ticket := base64.RawURLEncoding.EncodeToString(raw)
	now := s.cfg.Now()
	expires := now.Add(s.cfg.TicketTTL)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notification_stream_tickets WHERE user_id = $1 AND expires_at >= $2`,
			userID, store.Millis(now)).Scan(&live); err != nil {
			return fmt.Errorf("count stream tickets: %w", err)
		}
		if live >= maxTicketsPerUser {
			return apperr.RateLimited("too many unused stream tickets; use one or wait", s.cfg.TicketTTL)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notification_stream_tickets (ticket_hash, user_id, session_id, expires_at) VALUES ($1, $2, $3, $4)`,
			hashTicket(ticket), userID, sessionID, store.Millis(expires))
		if err != nil {
			return fmt.Errorf("store stream ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return Ticket{Ticket: ticket, ExpiresAt: expires}, nil
}

func hashTicket(t string) []byte {
	sum := sha256.Sum256([]byte(t))
	return sum[:]
}

var errBadTicket = apperr.Unauthorized("the stream ticket is invalid, used or expired; ask for a new one")

// redeem uses up ticket and returns its user and session. Errors:
// Unauthorized for an unknown, used or expired ticket, or one whose
// session ended.
func (s *Service) redeem(ctx context.Context, ticket string) (userID, sessionID int64, err error) {
	var expires int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM notification_stream_tickets WHERE ticket_hash = $1 RETURNING user_id, session_id, expires_at`,
			hashTicket(ticket)).Scan(&userID, &sessionID, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadTicket
		}
		if err != nil {
			return fmt.Errorf("redeem stream ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if expires < store.Millis(s.cfg.Now()) {
		return 0, 0, errBadTicket
	}
	live, err := s.cfg.Sessions.SessionActive(ctx, sessionID)
	if err != nil {
		return 0, 0, err
	}
	if !live {
		return 0, 0, errBadTicket
	}
	return userID, sessionID, nil
}

// latestID is the id of userID's newest notification (0 when none).
func (s *Service) latestID(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM notifications WHERE user_id = $1`, userID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("latest notification: %w", err)
	}
	return id, nil
}

// streamBatch is how many notifications a stream reads at once.
const streamBatch = 100

// since returns up to streamBatch of userID's notifications after id.
func (s *Service) since(ctx context.Context, userID, after int64) ([]Notification, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+columns+` FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		userID, after, streamBatch)
	var out []Notification
	if err := store.EachRow(rows, err, func(r *sql.Rows) error {
		n, err := scan(r)
		out = append(out, n)
		return err
	}); err != nil {
		return nil, fmt.Errorf("new notifications: %w", err)
	}
	return out, nil
}

// stream is one open SSE answer.
type stream struct {
	s         *Service
	sub       *subscriber
	sessionID int64
	last      int64
	w         io.Writer
}

// write sends b and flushes it. Each write has the deadline httpapi gives
// every write of an answer, so a client that stops reading is cut off.
func (st *stream) write(b []byte) error {
	if _, err := st.w.Write(b); err != nil {
		return err
	}
	if f, ok := st.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// deliver sends every notification after st.last.
func (st *stream) deliver(ctx context.Context) error {
	for {
		batch, err := st.s.since(ctx, st.sub.userID, st.last)
		if err != nil {
			return err
		}
		for _, n := range batch {
			data, err := json.Marshal(n)
			if err != nil {
				return err
			}
			if err := st.write(fmt.Appendf(nil, "id: %d\nevent: notification\ndata: %s\n\n", n.ID, data)); err != nil {
				return err
			}
			st.last = n.ID
		}
		if len(batch) < streamBatch {
			return nil
		}
	}
}

// serve runs the stream until the client leaves, the session ends, the
// service stops or a write fails.
func (st *stream) serve(ctx context.Context) error {
	// retry: how long a browser waits before reconnecting (it then needs
	// a new ticket); the first comment opens the stream at once.
	if err := st.write([]byte("retry: 3000\n: connected\n\n")); err != nil {
		return err
	}
	if err := st.deliver(ctx); err != nil {
		return err
	}
	heartbeat := time.NewTicker(st.s.cfg.Heartbeat)
	defer heartbeat.Stop()
	check := time.NewTicker(st.s.cfg.SessionCheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-st.s.hub.closing:
			return nil
		case <-st.sub.wake:
			if err := st.deliver(ctx); err != nil {
				return err
			}
		case <-heartbeat.C:
			if err := st.write([]byte(": heartbeat\n\n")); err != nil {
				return err
			}
		case <-check.C:
			live, err := st.s.cfg.Sessions.SessionActive(ctx, st.sessionID)
			if err != nil {
				return err
			}
			if !live {
				// Tell the client why before closing, so it does not
				// reconnect with its (already used) ticket in a loop.
				return st.write([]byte("event: session-ended\ndata: {}\n\n"))
			}
		}
	}
}

// openStream redeems ticket and takes a stream slot; the caller streams
// with the returned function, which releases the slot when done. lastID
// resumes after that notification; without it (-1) the stream starts with
// notifications newer than now.
func (s *Service) openStream(ctx context.Context, ticket string, lastID int64) (func(hc huma.Context), error) {
	userID, sessionID, err := s.redeem(ctx, ticket)
	if err != nil {
		return nil, err
	}
	sub, err := s.hub.join(userID)
	if err != nil {
		return nil, err
	}
	// Joined before the latest id is read, so nothing stored in between
	// is missed.
	if lastID < 0 {
		if lastID, err = s.latestID(ctx, userID); err != nil {
			s.hub.leave(sub)
			return nil, err
		}
	}
	return func(hc huma.Context) {
		defer s.hub.leave(sub)
		hc.SetHeader("Content-Type", "text/event-stream")
		hc.SetHeader("Cache-Control", "no-store")
		hc.SetHeader("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		hc.SetStatus(http.StatusOK)
		w := hc.BodyWriter()
		st := &stream{s: s, sub: sub, sessionID: sessionID, last: lastID, w: w}
		if err := st.serve(hc.Context()); err != nil && hc.Context().Err() == nil {
			s.cfg.Logger.InfoContext(hc.Context(), "notification stream ended", "user_id", userID, "err", err)
		}
	}, nil
}

// parseLastEventID reads a Last-Event-ID: -1 when absent. Errors: Invalid.
func parseLastEventID(location, v string) (int64, error) {
	if v == "" {
		return -1, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, apperr.Invalid(location, "must be the id of a notification")
	}
	return id, nil
}
