package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/audit"
	"callboard/internal/mail"
)

// Product news ("marketing") lives here rather than in mail or account:
// mail only delivers and knows nothing of users' choices, and account keeps
// the setting but sends nothing. Notify decides who receives what by the
// user's settings, so it owns both the sending (Announce) and its undoing
// (the one-click unsubscribe), and with them the key that ties the two.
//
// Product news goes only to users who turned marketing on (it is off by
// default) and whose address is verified. Each email carries RFC 8058
// one-click unsubscribe headers and a link to the dashboard's /unsubscribe
// page, both with a token: user id, list and an HMAC-SHA256 of the two under
// Config.UnsubscribeKey, so no table holds tokens and a link works as long
// as the key does. Unsubscribing turns the marketing setting off (through
// account, with an entry in the security log).

// ListMarketing is the one list a user can unsubscribe from by link.
const ListMarketing = "marketing"

// Announcement is product news in every language users may choose.
type Announcement struct {
	Subject    map[account.Language]string
	Paragraphs map[account.Language][]string
}

// Limits of an Announcement.
const (
	maxNewsSubject = 200      // runes
	maxNewsBody    = 64 << 10 // bytes of paragraphs, per language
)

// announceBatch is how many users one Announce transaction writes to.
const announceBatch = 200

// validate names every missing or oversized part, as "subject-<lang>" or
// "body-<lang>".
func (a Announcement) validate() error {
	var problems []apperr.FieldError
	for _, lang := range account.Languages {
		subject := strings.TrimSpace(a.Subject[lang])
		switch {
		case subject == "":
			problems = append(problems, apperr.FieldError{Location: "subject-" + string(lang), Message: "is required"})
		case strings.ContainsAny(subject, "\r\n") || utf8.RuneCountInString(subject) > maxNewsSubject || !utf8.ValidString(subject):
			problems = append(problems, apperr.FieldError{Location: "subject-" + string(lang),
				Message: fmt.Sprintf("must be one line of at most %d characters", maxNewsSubject)})
		}
		size, valid := 0, true
		for _, p := range a.Paragraphs[lang] {
			size += len(strings.TrimSpace(p))
			valid = valid && utf8.ValidString(p)
		}
		switch {
		case !valid:
			problems = append(problems, apperr.FieldError{Location: "body-" + string(lang), Message: "must be UTF-8 text"})
		case size == 0:
			problems = append(problems, apperr.FieldError{Location: "body-" + string(lang), Message: "is required"})
		case size > maxNewsBody:
			problems = append(problems, apperr.FieldError{Location: "body-" + string(lang),
				Message: fmt.Sprintf("must be at most %d KiB", maxNewsBody>>10)})
		}
	}
	if len(problems) > 0 {
		return apperr.InvalidFields(problems...)
	}
	return nil
}

// Announce queues a one product-news email for every user who opted in and
// has a verified address, in their language, walking the users in pages of
// announceBatch with one transaction each (a page is queued entirely or not
// at all). progress, when not nil, is told the running total after each
// page. It returns how many emails were queued; with dryRun it only counts
// them. Running it again sends again. Errors: Invalid naming each bad part
// of a ("subject-en", "body-ur").
func (s *Service) Announce(ctx context.Context, a Announcement, dryRun bool, progress func(queued int)) (int, error) {
	if err := a.validate(); err != nil {
		return 0, err
	}
	var after int64
	queued := 0
	for {
		page, err := s.cfg.Accounts.MarketingRecipients(ctx, after, announceBatch)
		if err != nil {
			return queued, err
		}
		if len(page) == 0 {
			return queued, nil
		}
		after = page[len(page)-1].UserID
		if !dryRun {
			msgs := make([]mail.Message, len(page))
			for i, r := range page {
				msgs[i] = s.newsEmail(r, a)
			}
			if err := s.db.Tx(ctx, func(tx *sql.Tx) error { return s.cfg.Mail.Enqueue(ctx, tx, msgs...) }); err != nil {
				return queued, err
			}
		}
		queued += len(page)
		if progress != nil {
			progress(queued)
		}
		if len(page) < announceBatch {
			return queued, nil
		}
	}
}

// newsEmail is a's email to r, in r's language, with its unsubscribe
// headers and link.
func (s *Service) newsEmail(r account.Recipient, a Announcement) mail.Message {
	w := wordsFor(r.Language)
	token := s.unsubscribeToken(r.UserID, ListMarketing)
	l := mail.Letter{
		Lang: string(r.Language), Subject: strings.TrimSpace(a.Subject[r.Language]),
		Greeting: fmt.Sprintf(w.greeting, r.FirstName), Paragraphs: a.Paragraphs[r.Language],
		Footer: w.newsFooter,
		// The page asks for a click before it POSTs: a link scanner's GET
		// must not unsubscribe anyone.
		Unsubscribe: s.cfg.Mail.Link("/unsubscribe", url.Values{"token": {token}}), UnsubscribeLabel: w.newsStop,
	}
	m := l.Message(r.UserID, "marketing", r.Email)
	m.Headers = map[string]string{
		"List-Unsubscribe":      "<" + s.cfg.Mail.Link(unsubscribePath, url.Values{"token": {token}}) + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
	return m
}

// unsubscribeToken is "<user id>.<list>.<HMAC>", the HMAC-SHA256 of the
// first two under the unsubscribe key, base64url.
func (s *Service) unsubscribeToken(userID int64, list string) string {
	payload := strconv.FormatInt(userID, 10) + "." + list
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.unsubscribeMAC(payload))
}

func (s *Service) unsubscribeMAC(payload string) []byte {
	h := hmac.New(sha256.New, s.cfg.UnsubscribeKey)
	h.Write([]byte("callboard unsubscribe\x00" + payload))
	return h.Sum(nil)
}

// parseUnsubscribeToken returns the user and list of a token this service
// made; ok is false for anything else.
func (s *Service) parseUnsubscribeToken(token string) (userID int64, list string, ok bool) {
	if len(token) > 200 {
		return 0, "", false
	}
	idText, rest, found := strings.Cut(token, ".")
	if !found {
		return 0, "", false
	}
	list, macText, found := strings.Cut(rest, ".")
	if !found || list != ListMarketing {
		return 0, "", false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != idText {
		return 0, "", false
	}
	mac, err := base64.RawURLEncoding.DecodeString(macText)
	if err != nil || !hmac.Equal(mac, s.unsubscribeMAC(idText+"."+list)) {
		return 0, "", false
	}
	return id, list, true
}

// errBadUnsubscribeToken is the answer to a token this service did not
// make, or made for an account that is gone.
var errBadUnsubscribeToken = apperr.BadRequest("query.token", "this unsubscribe link is not valid")

// Unsubscribe stops the list token names for its user: product news, by
// turning the marketing setting off (recorded in the security log, with
// client, when it was on). Doing it again changes nothing and succeeds.
// Errors: BadRequest at query.token for a token this service did not make
// or whose account is gone.
func (s *Service) Unsubscribe(ctx context.Context, token string, client audit.Client) (list string, err error) {
	userID, list, ok := s.parseUnsubscribeToken(token)
	if !ok {
		return "", errBadUnsubscribeToken
	}
	_, err = s.cfg.Accounts.StopMarketing(ctx, userID, client, map[string]string{"list": list, "via": "unsubscribe link"})
	if e, isApp := apperr.As(err); isApp && e.Kind == apperr.KindNotFound {
		return "", errBadUnsubscribeToken
	}
	if err != nil {
		return "", err
	}
	return list, nil
}
