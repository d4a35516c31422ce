package notify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"callboard/internal/account"
	"callboard/internal/mail"
)

// Notification email and SMS.
//
// A notification goes out by email when the user's email setting is on and
// their address is verified (an unverified address may be someone else's),
// and by SMS when the SMS setting is on and the profile has a phone number.
// Calls and billing notifications exist only while their category is on
// (Publish, CallsChanged); security and system ones always do. The messages
// are queued in the transaction that stores the notifications, so they exist
// exactly when the notifications do.
//
// A flood is bounded twice. The notifications one user gets in one batch
// (an ingest request) make one email and one SMS: a digest when there are
// several. And each user gets at most EmailsPerHour emails and SMSPerHour
// SMS in any hour in each of two budgets: calls and billing ("activity"),
// and security and system ("account"), so a flood of calls never uses up
// the budget of a password-change warning. Notifications past the cap are
// stored and shown in the dashboard as always; only their messages are
// dropped.

// The default hourly caps per user and budget.
const (
	DefaultEmailsPerHour = 10
	DefaultSMSPerHour    = 5
)

const (
	// mailKindPrefix starts the kind of every notification message:
	// "notification.<category>.<notification kind or digest>".
	mailKindPrefix = "notification."
	// digestItems is how many notifications a digest lists by title.
	digestItems = 10
	// smsLength is the most runes an SMS is given: one segment in English
	// (GSM-7); Urdu (UCS-2, 70 a segment) takes up to three.
	smsLength = 160
)

// budgetOf is the hourly budget a category's messages count against.
func budgetOf(category string) string {
	if category == CategorySecurity || category == CategorySystem {
		return "account"
	}
	return "activity"
}

// budgetOfKind is the budget of a queued message by its kind.
func budgetOfKind(kind string) string {
	category, _, _ := strings.Cut(strings.TrimPrefix(kind, mailKindPrefix), ".")
	return budgetOf(category)
}

// queueMessagesTx queues, inside tx, the email and SMS that events (just
// stored) become for their users in to, within each user's hourly caps.
// Users are handled in ascending id order: counting locks each user's
// messages until tx ends.
func (s *Service) queueMessagesTx(ctx context.Context, tx *sql.Tx, events []Event, to map[int64]account.Recipient) error {
	byUser := map[int64][]Event{}
	for _, e := range events {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	users := make([]int64, 0, len(byUser))
	for id := range byUser {
		users = append(users, id)
	}
	slices.Sort(users)
	since := s.cfg.Now().Add(-time.Hour)
	for _, userID := range users {
		r := to[userID]
		email := r.Notifications.Email && r.EmailVerified && r.Email != ""
		sms := r.Notifications.SMS && r.Phone != ""
		if !email && !sms {
			continue
		}
		counts, err := s.cfg.Mail.CountRecent(ctx, tx, userID, mailKindPrefix, since)
		if err != nil {
			return err
		}
		type key struct{ budget, channel string }
		used := map[key]int{}
		for _, c := range counts {
			used[key{budgetOfKind(c.Kind), c.Channel}] += c.N
		}
		// One message per channel for each budget the user's events fall in.
		var budgets []string
		inBudget := map[string][]Event{}
		for _, e := range byUser[userID] {
			b := budgetOf(e.Category)
			if _, ok := inBudget[b]; !ok {
				budgets = append(budgets, b)
			}
			inBudget[b] = append(inBudget[b], e)
		}
		var msgs []mail.Message
		for _, b := range budgets {
			if email && used[key{b, mail.ChannelEmail}] < s.cfg.EmailsPerHour {
				msgs = append(msgs, s.notificationEmail(r, inBudget[b]))
			}
			if sms && used[key{b, mail.ChannelSMS}] < s.cfg.SMSPerHour {
				msgs = append(msgs, notificationSMS(r, inBudget[b]))
			}
		}
		if err := s.cfg.Mail.Enqueue(ctx, tx, msgs...); err != nil {
			return err
		}
	}
	return nil
}

// messageKind is the outbox kind of the message for events.
func messageKind(events []Event) string {
	if len(events) == 1 {
		return mailKindPrefix + events[0].Category + "." + events[0].Kind
	}
	return mailKindPrefix + events[0].Category + ".digest"
}

// notificationEmail is the email telling r of events (one, or a digest),
// in r's language.
func (s *Service) notificationEmail(r account.Recipient, events []Event) mail.Message {
	w := wordsFor(r.Language)
	l := mail.Letter{
		Lang:     string(r.Language),
		Greeting: fmt.Sprintf(w.greeting, r.FirstName),
		Action:   &mail.Action{Label: w.open, URL: s.cfg.Mail.Link("/notifications", nil)},
		Footer:   w.footer,
		// Where to turn these emails off: the settings page.
		Unsubscribe: s.cfg.Mail.Link("/settings", nil), UnsubscribeLabel: w.settings,
	}
	if len(events) == 1 {
		t := textOf(r.Language, events[0])
		l.Subject = t.title
		if t.body != "" {
			l.Paragraphs = []string{t.body}
		}
	} else {
		l.Subject = fmt.Sprintf(w.digestSubject, len(events))
		l.Paragraphs = []string{fmt.Sprintf(w.digestIntro, len(events))}
		for _, e := range events[:min(len(events), digestItems)] {
			l.Paragraphs = append(l.Paragraphs, "• "+textOf(r.Language, e).title)
		}
		if more := len(events) - digestItems; more > 0 {
			l.Paragraphs = append(l.Paragraphs, fmt.Sprintf(w.digestMore, more))
		}
	}
	return l.Message(r.UserID, messageKind(events), r.Email)
}

// notificationSMS is the text message telling r of events, in one segment
// where it fits: the title, with the body when both fit.
func notificationSMS(r account.Recipient, events []Event) mail.Message {
	w := wordsFor(r.Language)
	var text string
	if len(events) == 1 {
		t := textOf(r.Language, events[0])
		text = "Callboard: " + t.title
		if withBody := text + " — " + t.body; t.body != "" && utf8.RuneCountInString(withBody) <= smsLength {
			text = withBody
		}
	} else {
		text = fmt.Sprintf(w.smsDigest, len(events), textOf(r.Language, events[len(events)-1]).title)
	}
	return mail.Message{UserID: r.UserID, Channel: mail.ChannelSMS, Kind: messageKind(events), To: r.Phone, Text: truncateRunes(text, smsLength)}
}

// truncateRunes cuts s to at most n runes, ending with an ellipsis when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
