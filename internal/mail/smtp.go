package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP is a Transport that hands each message to an SMTP server.
type SMTP struct {
	From   string // the From header, e.g. "Callboard <no-reply@example.com>"
	client *gomail.Client
	addr   string // host:port, for errors
}

// NewSMTP returns an SMTP transport for rawURL:
//
//	smtp://user:password@host:587   STARTTLS required (port 587 by default)
//	smtps://user:password@host:465  TLS from the first byte (port 465 by default)
//	smtp://host:1025?tls=none       no TLS: only for a relay on loopback or a test server
//
// User and password are optional; with them the client authenticates with
// the best mechanism the server offers (never in clear text without TLS).
// from is the sender's address, with an optional display name.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("SMTP URL: want smtp://user:password@host:port or smtps://…")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail from: want an address like \"Callboard <no-reply@example.com>\", got %q", from)
	}
	opts := []gomail.Option{gomail.WithTimeout(30 * time.Second)} // reads and writes; the context bounds the whole attempt
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithPort(587), gomail.WithTLSPolicy(gomail.TLSMandatory))
		switch mode := u.Query().Get("tls"); mode {
		case "", "starttls":
		case "none":
			opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		default:
			return nil, fmt.Errorf("SMTP URL: tls=%q: want starttls or none", mode)
		}
	case "smtps":
		opts = append(opts, gomail.WithPort(465), gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP URL: scheme %q: want smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("SMTP URL: bad port %q", p)
		}
		opts = append(opts, gomail.WithPort(port))
	}
	if u.User != nil {
		password, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	client, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP client: %w", err)
	}
	return &SMTP{From: from, client: client, addr: u.Host}, nil
}

// Send delivers m. A refusal of the sender, the recipient or the message
// (a 5xx reply) is Permanent; anything else, such as a server that is down,
// is worth another attempt.
func (t *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(m, t.From)
	if err != nil {
		return Permanent(err)
	}
	// One connection per message: mail here is a trickle, and a broken
	// connection never spoils the next message.
	if err := t.client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && refusal(se.Reason) {
			return Permanent(fmt.Errorf("smtp %s: %w", t.addr, err))
		}
		return fmt.Errorf("smtp %s: %w", t.addr, err)
	}
	return nil
}

func refusal(r gomail.SendErrReason) bool {
	switch r {
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrGetSender, gomail.ErrGetRcpts:
		return true
	}
	return false
}

// build turns m into a MIME message: plain text, with the HTML alternative
// when there is one, and m's extra headers.
func build(m Message, from string) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, fmt.Errorf("header %q: line breaks are not allowed", k)
		}
		msg.SetGenHeaderPreformatted(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// writeMessage writes m as an RFC 5322 message to w.
func writeMessage(w io.Writer, m Message, from string) error {
	msg, err := build(m, from)
	if err != nil {
		return err
	}
	_, err = msg.WriteTo(w)
	return err
}
