package mail_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"callboard/internal/mail"
	"callboard/internal/mailtest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// newService returns a mail service over db that delivers through t, with
// short timings so retries happen within a test.
func newService(t *testing.T, db *store.DB, tr mail.Transport, sms mail.SMSProvider) *mail.Service {
	t.Helper()
	s, err := mail.NewService(mail.Config{DB: db, Transport: tr, SMS: sms, PublicURL: "https://dash.example.com/",
		PollInterval: 20 * time.Millisecond, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, SendTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func enqueue(t *testing.T, db *store.DB, s *mail.Service, msgs ...mail.Message) {
	t.Helper()
	if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return s.Enqueue(context.Background(), tx, msgs...) }); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, s *mail.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitPending(t *testing.T, s *mail.Service, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, err := s.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages pending, want %d", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeliversThroughSMTP(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		smtp, err := mail.NewSMTP(mp.SMTPURL(), "Callboard <no-reply@callboard.test>")
		if err != nil {
			t.Fatal(err)
		}
		s := newService(t, db, smtp, nil)
		to := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "@example.com"
		letter := mail.Letter{Lang: "ur", Subject: "اپنا ای میل تصدیق کریں", Greeting: "السلام علیکم عائشہ،",
			Paragraphs: []string{"<b>not markup</b>"}, Action: &mail.Action{Label: "تصدیق کریں", URL: s.Link("/verify-email", nil) + "#token=abc"}}
		m := letter.Message(0, "verify-email", to)
		m.Headers = map[string]string{"List-Unsubscribe": "<https://dash.example.com/api/u?t=1>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
		enqueue(t, db, s, m)
		run(t, s)

		got := mp.Wait(t, to, 1, 10*time.Second)[0]
		if got.Subject != letter.Subject {
			t.Errorf("subject %q", got.Subject)
		}
		if !strings.Contains(got.Text, "https://dash.example.com/verify-email#token=abc") || !strings.Contains(got.Text, "السلام علیکم") {
			t.Errorf("text part: %q", got.Text)
		}
		if !strings.Contains(got.HTML, `dir="rtl"`) || !strings.Contains(got.HTML, "&lt;b&gt;not markup&lt;/b&gt;") {
			t.Errorf("HTML part is not right to left or not escaped: %q", got.HTML)
		}
		if got.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || got.Header("List-Unsubscribe") != "<https://dash.example.com/api/u?t=1>" {
			t.Errorf("headers: %v", got.Headers)
		}
		waitPending(t, s, 0, 5*time.Second)
		// Delivered: the body (which may hold a single-use link) is gone.
		var text string
		if err := db.Read().QueryRow(`SELECT body_text FROM mail_outbox WHERE recipient = $1`, to).Scan(&text); err != nil || text != "" {
			t.Errorf("body kept after delivery: %q %v", text, err)
		}
	})
}

// A mail server that is down delays mail but loses none: every message
// arrives once it is back.
func TestServerDownThenBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mp := mailtest.Start(t)
		mp.Stop()
		smtp, err := mail.NewSMTP(mp.SMTPURL(), "no-reply@callboard.test")
		if err != nil {
			t.Fatal(err)
		}
		s := newService(t, db, smtp, nil)
		run(t, s)
		const n = 5
		for i := range n {
			enqueue(t, db, s, mail.Message{Channel: mail.ChannelEmail, Kind: "test", To: "down@example.com", Subject: "m" + string(rune('0'+i)), Text: "hello"})
		}
		// Some attempts fail while the server is down.
		deadline := time.Now().Add(5 * time.Second)
		for {
			var failedAttempts int
			db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE last_error <> '' AND sent_at IS NULL`).Scan(&failedAttempts)
			if failedAttempts == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages tried while the server was down", failedAttempts, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitPending(t, s, n, 0)
		mp.Restart(t)
		got := mp.Wait(t, "down@example.com", n, 10*time.Second)
		if len(got) != n {
			t.Fatalf("%d messages arrived, want %d", len(got), n)
		}
		waitPending(t, s, 0, 5*time.Second)
	})
}

// flaky fails its first failures attempts per message, then records.
type flaky struct {
	mu       sync.Mutex
	failures int
	tries    map[string]int
	sent     []mail.Message
	err      error
}

func (f *flaky) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[m.Subject]++
	if f.tries[m.Subject] <= f.failures {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestRetriesAndGivingUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Run("temporary failures are retried with back-off", func(t *testing.T) {
			f := &flaky{failures: 2, tries: map[string]int{}, err: errors.New("421 try later")}
			s := newService(t, db, f, nil)
			enqueue(t, db, s, mail.Message{Channel: mail.ChannelEmail, Kind: "test", To: "a@example.com", Subject: "retry", Text: "x"})
			run(t, s)
			waitPending(t, s, 0, 5*time.Second)
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.tries["retry"] != 3 || len(f.sent) != 1 {
				t.Fatalf("tries %d, sent %d; want 3 and 1", f.tries["retry"], len(f.sent))
			}
			metrics := s.Metrics()
			want := `
# HELP callboard_mail_attempts_total Delivery attempts of email and SMS, by channel and outcome (sent, retry, failed).
# TYPE callboard_mail_attempts_total counter
callboard_mail_attempts_total{channel="email",outcome="retry"} 2
callboard_mail_attempts_total{channel="email",outcome="sent"} 1
`
			if err := testutil.CollectAndCompare(metrics[0], strings.NewReader(want)); err != nil {
				t.Error(err)
			}
			if pending := testutil.ToFloat64(metrics[1]); pending != 0 {
				t.Errorf("pending gauge %v", pending)
			}
		})
		t.Run("a permanent refusal is not retried", func(t *testing.T) {
			f := &flaky{failures: 100, tries: map[string]int{}, err: mail.Permanent(errors.New("550 no such user"))}
			s := newService(t, db, f, nil)
			enqueue(t, db, s, mail.Message{Channel: mail.ChannelEmail, Kind: "test", To: "b@example.com", Subject: "refused", Text: "secret link"})
			run(t, s)
			waitPending(t, s, 0, 5*time.Second)
			var failed sql.NullInt64
			var lastErr, body string
			if err := db.Read().QueryRow(`SELECT failed_at, last_error, body_text FROM mail_outbox WHERE subject = 'refused'`).Scan(&failed, &lastErr, &body); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if !failed.Valid || !strings.Contains(lastErr, "550") || body != "" || f.tries["refused"] != 1 {
				t.Fatalf("failed %v, error %q, body %q, tries %d", failed, lastErr, body, f.tries["refused"])
			}
		})
	})
}

type smsLog struct {
	mu   sync.Mutex
	sent []string
}

func (l *smsLog) SendSMS(_ context.Context, to, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, to+": "+text)
	return nil
}

func TestSMSGoesToTheProvider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var emails atomic.Int32
		sms := &smsLog{}
		s := newService(t, db, transportFunc(func(context.Context, mail.Message) error { emails.Add(1); return nil }), sms)
		enqueue(t, db, s, mail.Message{Channel: mail.ChannelSMS, Kind: "test", To: "+923001234567", Text: "Missed call"})
		run(t, s)
		waitPending(t, s, 0, 5*time.Second)
		sms.mu.Lock()
		defer sms.mu.Unlock()
		if len(sms.sent) != 1 || sms.sent[0] != "+923001234567: Missed call" || emails.Load() != 0 {
			t.Fatalf("sms %v, emails %d", sms.sent, emails.Load())
		}
	})
}

type transportFunc func(context.Context, mail.Message) error

func (f transportFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

// Without SMTP the message is a file in the data directory, not a log line.
func TestFilesTransport(t *testing.T) {
	dir := t.TempDir()
	f := &mail.Files{Dir: filepath.Join(dir, "mail"), From: "no-reply@callboard.test"}
	if err := f.Send(context.Background(), mail.Letter{Subject: "Verify", Action: &mail.Action{Label: "Verify", URL: "https://x/verify#token=t0k"}}.Message(1, "verify-email", "c@example.com")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "mail"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("%v %v", entries, err)
	}
	info, _ := entries[0].Info()
	raw, _ := os.ReadFile(filepath.Join(dir, "mail", entries[0].Name()))
	if info.Mode().Perm() != 0o600 || !strings.Contains(string(raw), "To: <c@example.com>") || !strings.Contains(string(raw), "t0k") {
		t.Fatalf("mode %v, file:\n%s", info.Mode(), raw)
	}
}

func TestEnqueueRollsBackWithItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newService(t, db, transportFunc(func(context.Context, mail.Message) error { return nil }), nil)
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			if err := s.Enqueue(context.Background(), tx, mail.Message{Channel: mail.ChannelEmail, Kind: "test", To: "d@example.com", Text: "x"}); err != nil {
				return err
			}
			return errors.New("the change failed")
		})
		if err == nil {
			t.Fatal("want the transaction's error")
		}
		waitPending(t, s, 0, 0)
	})
}

func TestNewSMTPRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "http://x", "smtp://", "smtp://h:99999", "smtp://h?tls=maybe"} {
		if _, err := mail.NewSMTP(u, "a@b.c"); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := mail.NewSMTP("smtp://h", "not an address"); err == nil {
		t.Error("bad from accepted")
	}
	for _, u := range []string{"smtp://u:p@h:587", "smtps://h", "smtp://127.0.0.1:1025?tls=none"} {
		if _, err := mail.NewSMTP(u, "Callboard <a@b.c>"); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
}

// smtp:// requires STARTTLS: a server that does not offer it gets no mail
// (and no password) in clear text; the message waits to be retried.
func TestSMTPRequiresTLSUnlessToldOtherwise(t *testing.T) {
	mp := mailtest.Start(t)
	plain := strings.TrimSuffix(mp.SMTPURL(), "?tls=none")
	smtp, err := mail.NewSMTP(strings.Replace(plain, "smtp://", "smtp://user:secret@", 1), "no-reply@callboard.test")
	if err != nil {
		t.Fatal(err)
	}
	err = smtp.Send(context.Background(), mail.Message{Channel: mail.ChannelEmail, Kind: "test", To: "tls@example.com", Subject: "s", Text: "t"})
	if err == nil || mail.IsPermanent(err) || !strings.Contains(strings.ToLower(err.Error()), "tls") {
		t.Fatalf("error %v, want a retryable one about TLS", err)
	}
	if got := mp.Search(t, "tls@example.com"); len(got) != 0 {
		t.Fatalf("%d messages went in clear text", len(got))
	}
}
