// Package mail delivers the email and SMS other capabilities write: a
// transactional outbox and a background sender.
//
// A capability calls Enqueue inside the transaction that makes the change
// the message tells of (a registration, a reset request, a notification),
// so a message is stored exactly when its change commits. Run delivers due
// messages through a Transport (SMTP, or files in the data directory when
// no SMTP server is configured) or an SMSProvider, with retries and
// exponential back-off; a mail server that is down delays mail but fails no
// request and loses none. Delivery is at least once: a process killed
// between the server's acceptance and the row's update sends that message
// again after its lease.
//
// Tables: mail_outbox.
package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/store"
)

// The channels a message goes by.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message is one email or SMS to deliver.
type Message struct {
	// UserID is the account the message concerns (0 for none); erasing the
	// account removes its messages.
	UserID  int64
	Channel string // ChannelEmail or ChannelSMS
	// Kind says what the message is about ("verify-email",
	// "notification.call.missed"), for logs and the outbox's metadata.
	Kind    string
	To      string // an email address, or an E.164 number for SMS
	Subject string // email only
	Text    string // the plain-text body; the whole SMS
	HTML    string // email only: the HTML alternative, optional
	// Headers are extra email headers, such as List-Unsubscribe.
	Headers map[string]string
}

// Transport sends one email. An error for which Permanent reports true is
// not retried.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// SMSProvider sends one text message: the interface a Twilio or local
// gateway adapter implements.
type SMSProvider interface {
	SendSMS(ctx context.Context, to, text string) error
}

// Config is what a Service is built from. DB and Transport are required.
type Config struct {
	DB        *store.DB
	Transport Transport
	SMS       SMSProvider      // LogSMS when nil
	Now       func() time.Time // the clock; time.Now when nil
	Logger    *slog.Logger     // discarded when nil

	// PublicURL is where users reach the dashboard (links in messages
	// start with it): "http://localhost:8000" when empty.
	PublicURL string

	// PollInterval is how often Run looks for due messages (1 s); an
	// Enqueue in this process wakes it sooner.
	PollInterval time.Duration
	// SendTimeout bounds one delivery attempt (30 s).
	SendTimeout time.Duration
	// Concurrency is how many messages are delivered at once (4).
	Concurrency int
	// RetryBase and RetryMax shape the back-off between attempts: base ×
	// 2^(attempts-1), at most max (10 s and 15 min).
	RetryBase, RetryMax time.Duration
	// GiveUpAfter is how long a message is retried before it is marked
	// failed (72 h, as mail servers queue).
	GiveUpAfter time.Duration
	// Retention is how long delivered and failed messages' metadata is
	// kept (30 days).
	Retention time.Duration
}

// Service stores and delivers messages.
type Service struct {
	db       *store.DB
	cfg      Config
	base     *url.URL
	wake     chan struct{}
	attempts *prometheus.CounterVec
}

// NewService returns a Service. Errors: a PublicURL that is not an
// absolute http(s) URL.
func NewService(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SMS == nil {
		cfg.SMS = LogSMS{Logger: cfg.Logger}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, time.Second)
	def(&cfg.SendTimeout, 30*time.Second)
	def(&cfg.RetryBase, 10*time.Second)
	def(&cfg.RetryMax, 15*time.Minute)
	def(&cfg.GiveUpAfter, 72*time.Hour)
	def(&cfg.Retention, 30*24*time.Hour)
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8000"
	}
	base, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("public URL: want an absolute http(s) URL like https://dash.example.com, got %q", cfg.PublicURL)
	}
	return &Service{db: cfg.DB, cfg: cfg, base: base, wake: make(chan struct{}, 1),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callboard_mail_attempts_total",
			Help: "Delivery attempts of email and SMS, by channel and outcome (sent, retry, failed).",
		}, []string{"channel", "outcome"})}, nil
}

// Metrics returns the delivery attempts and the number of messages waiting,
// for /metrics: a growing queue means the mail server is down or too slow.
func (s *Service) Metrics() []prometheus.Collector {
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callboard_mail_pending",
		Help: "Email and SMS messages not yet delivered (including those waiting to be retried).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := s.Pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return []prometheus.Collector{s.attempts, pending}
}

// Link returns the dashboard's address for path (such as "/verify-email")
// with query, under PublicURL.
func (s *Service) Link(path string, query url.Values) string {
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	return u.String()
}

// Enqueue stores msgs inside tx, to be delivered once tx commits. Errors:
// a message without a channel, recipient or body (a programming error).
func (s *Service) Enqueue(ctx context.Context, tx *sql.Tx, msgs ...Message) error {
	now := store.Millis(s.cfg.Now())
	for _, m := range msgs {
		if (m.Channel != ChannelEmail && m.Channel != ChannelSMS) || m.To == "" || m.Text == "" || m.Kind == "" {
			return fmt.Errorf("mail: message %q to %q needs a channel, kind, recipient and text", m.Kind, m.To)
		}
		headers, err := json.Marshal(m.Headers)
		if err != nil || m.Headers == nil {
			headers = []byte("{}")
		}
		var userID any
		if m.UserID != 0 {
			userID = m.UserID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox
			(user_id, channel, kind, recipient, subject, body_text, body_html, headers, created_at, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			userID, m.Channel, m.Kind, m.To, m.Subject, m.Text, m.HTML, string(headers), now); err != nil {
			return fmt.Errorf("queue %s: %w", m.Kind, err)
		}
	}
	if len(msgs) > 0 {
		// Run looks now; should it run before tx commits, the next poll
		// finds the message.
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// ErasePersonalData removes userID's messages, delivered or not, inside
// the account's erasure transaction.
func (s *Service) ErasePersonalData(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("erase messages: %w", err)
	}
	return nil
}
