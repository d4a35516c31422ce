package mail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"time"
)

// Files is the Transport used when no SMTP server is configured: each
// message is written as an .eml file (mode 0600) to Dir and logged without
// its body, so the embedded default works end to end (open the file to
// follow a verification link) and no single-use link reaches the log.
type Files struct {
	Dir    string
	From   string
	Logger *slog.Logger
	seq    atomic.Int64
}

var unsafeName = regexp.MustCompile(`[^a-z0-9.-]+`)

// Send writes m to a new file in Dir.
func (f *Files) Send(_ context.Context, m Message) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("mail directory: %w", err)
	}
	name := fmt.Sprintf("%s-%d-%s.eml", time.Now().UTC().Format("20060102T150405.000"), f.seq.Add(1), unsafeName.ReplaceAllString(m.Kind, "_"))
	path := filepath.Join(f.Dir, name)
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail file: %w", err)
	}
	if err := writeMessage(file, m, f.From); err != nil {
		file.Close()
		os.Remove(path)
		return Permanent(fmt.Errorf("mail file: %w", err))
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("mail file: %w", err)
	}
	if f.Logger != nil {
		f.Logger.Info("no SMTP server configured (CALLBOARD_SMTP_URL): mail written to a file",
			"to", m.To, "subject", m.Subject, "kind", m.Kind, "path", path)
	}
	return nil
}

// LogSMS is the SMSProvider used when no gateway is configured: it logs
// each text message.
type LogSMS struct {
	Logger *slog.Logger
}

// SendSMS logs the message.
func (l LogSMS) SendSMS(_ context.Context, to, text string) error {
	if l.Logger != nil {
		l.Logger.Info("no SMS gateway configured: text message logged", "to", to, "text", text)
	}
	return nil
}
