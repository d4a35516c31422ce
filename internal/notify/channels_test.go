package notify_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/mailtest"
	"callboard/internal/notify"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// verify marks userID's address verified (package auth's verification
// flow sets the same column).
func verify(t *testing.T, db *store.DB, userID int64) {
	t.Helper()
	if _, err := db.Write().Exec(`UPDATE users SET is_verified = $1 WHERE id = $2`, true, userID); err != nil {
		t.Fatal(err)
	}
}

// patch sends a PATCH of the signed-in user's settings, preferences or
// profile and fails the test unless it is accepted.
func patch(t *testing.T, s *apitest.Server, me apitest.Session, what string, body any) {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/" + what + "/", Token: me.Access, Body: body})
	if res.Status != 200 {
		t.Fatalf("patch %s: %d %s", what, res.Status, res.Body)
	}
}

// queued counts the messages queued for userID by channel ("" for both)
// and kind prefix.
func queued(t *testing.T, db *store.DB, userID int64, channel, kindPrefix string) int {
	t.Helper()
	var n int
	err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE user_id = $1 AND ($2 = '' OR channel = $2)
		AND substr(kind, 1, $3) = $4`, userID, channel, len(kindPrefix), kindPrefix).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// smsRecorder is an SMSProvider that keeps what it was asked to send.
type smsRecorder struct {
	mu   sync.Mutex
	sent []string // "to: text"
}

func (r *smsRecorder) SendSMS(_ context.Context, to, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, to+": "+text)
	return nil
}

// wait returns what was sent to `to` once n messages arrived (at most 10 s).
func (r *smsRecorder) wait(t *testing.T, to string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		var got []string
		for _, m := range r.sent {
			if text, ok := strings.CutPrefix(m, to+": "); ok {
				got = append(got, text)
			}
		}
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d SMS to %s arrived: %v", len(got), n, to, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A missed call becomes an email through the real SMTP server, in the
// user's language, with a link to the dashboard and a footer linking the
// settings; several notifications of one batch become one digest.
func TestNotificationEmail(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		en, ur, many := s.SignUp(t), s.SignUp(t), s.SignUp(t)
		for _, u := range []apitest.Session{en, ur, many} {
			verify(t, db, u.UserID)
		}
		patch(t, s, ur, "preferences", map[string]any{"language": "ur"})
		ingest(t, s, call(fmt.Sprint("en-", en.UserID), en.UserID, "no-answer"), call(fmt.Sprint("ur-", ur.UserID), ur.UserID, "busy"))

		got := mp.Wait(t, en.Email, 1, 10*time.Second)[0]
		if got.Subject != "Missed call" {
			t.Errorf("subject %q", got.Subject)
		}
		for _, want := range []string{"Hello Test,", "A call was not answered.", apitest.PublicURL + "/notifications",
			"email notifications are on in your Callboard settings", apitest.PublicURL + "/settings"} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, got.Text)
			}
		}
		if !strings.Contains(got.HTML, `lang="en" dir="ltr"`) || !strings.Contains(got.HTML, `href="`+apitest.PublicURL+`/settings"`) {
			t.Errorf("HTML part: %s", got.HTML)
		}

		got = mp.Wait(t, ur.Email, 1, 10*time.Second)[0]
		if got.Subject != "چھوٹی ہوئی کال" {
			t.Errorf("Urdu subject %q", got.Subject)
		}
		for _, want := range []string{"السلام علیکم Test،", "لائن مصروف تھی۔", "اپنی اطلاعات دیکھیں", "اطلاعات کی ترتیبات تبدیل کریں"} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("Urdu text lacks %q:\n%s", want, got.Text)
			}
		}
		if !strings.Contains(got.HTML, `lang="ur" dir="rtl"`) || !strings.Contains(got.HTML, "لائن مصروف تھی۔") {
			t.Errorf("Urdu HTML part is not right to left: %s", got.HTML)
		}

		// Three finished calls in one batch: three notifications, one email.
		ingest(t, s, call(fmt.Sprint("m1-", many.UserID), many.UserID, "completed"),
			call(fmt.Sprint("m2-", many.UserID), many.UserID, "failed"), call(fmt.Sprint("m3-", many.UserID), many.UserID, "no-answer"))
		got = mp.Wait(t, many.Email, 1, 10*time.Second)[0]
		if got.Subject != "3 new notifications" || !strings.Contains(got.Text, "• Call completed") ||
			!strings.Contains(got.Text, "• Call failed") || !strings.Contains(got.Text, "• Missed call") {
			t.Errorf("digest: %q\n%s", got.Subject, got.Text)
		}
		if n := len(list(t, s, many.Access, "").Results); n != 3 || queued(t, db, many.UserID, "email", "notification.") != 1 {
			t.Errorf("%d notifications, %d emails; want 3 and 1", n, queued(t, db, many.UserID, "email", "notification."))
		}
	})
}

// A notification goes by a channel only when that channel is on, the
// category is on, and the address is verified (email) or a phone is set
// (SMS); nothing is queued otherwise, though the notification may still
// show in the dashboard.
func TestDisabledChannelsSendNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sms := &smsRecorder{}
		s := apitest.New(t, db, func(c *app.Config) { c.Mail.SMS = sms })
		for _, tc := range []struct {
			name          string
			verified      bool
			phone         bool
			settings      map[string]any
			emails, texts int
			inDashboard   bool
		}{
			{"everything on (the control)", true, true, map[string]any{"sms": true}, 1, 1, true},
			{"email off", true, true, map[string]any{"email": false, "sms": true}, 0, 1, true},
			{"SMS off (the default)", true, true, map[string]any{}, 1, 0, true},
			{"SMS on without a phone", true, false, map[string]any{"sms": true}, 1, 0, true},
			{"calls category off", true, true, map[string]any{"sms": true, "calls": false}, 0, 0, false},
			{"address not verified", false, true, map[string]any{"sms": true}, 0, 1, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				me := s.SignUp(t)
				if tc.verified {
					verify(t, db, me.UserID)
				}
				phone := fmt.Sprintf("+92300%07d", me.UserID)
				if tc.phone {
					patch(t, s, me, "profile", map[string]any{"phone": phone})
				}
				patch(t, s, me, "settings", map[string]any{"notifications": tc.settings})
				ingest(t, s, call(fmt.Sprint("d-", me.UserID), me.UserID, "no-answer"))
				if got := len(list(t, s, me.Access, "").Results) == 1; got != tc.inDashboard {
					t.Errorf("in the dashboard: %v, want %v", got, tc.inDashboard)
				}
				if e, m := queued(t, db, me.UserID, "email", ""), queued(t, db, me.UserID, "sms", ""); e != tc.emails || m != tc.texts {
					t.Fatalf("%d emails and %d SMS queued, want %d and %d", e, m, tc.emails, tc.texts)
				}
				if tc.texts > 0 {
					if got := sms.wait(t, phone, 1); got[0] != "Callboard: Missed call — A call was not answered." {
						t.Errorf("SMS %q", got[0])
					}
				}
			})
		}
	})
}

// SMS go through the configured SMSProvider, in the user's language.
func TestNotificationSMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sms := &smsRecorder{}
		s := apitest.New(t, db, func(c *app.Config) { c.Mail.SMS = sms })
		me := s.SignUp(t)
		phone := fmt.Sprintf("+92321%07d", me.UserID)
		patch(t, s, me, "profile", map[string]any{"phone": phone})
		patch(t, s, me, "settings", map[string]any{"notifications": map[string]any{"sms": true}})
		patch(t, s, me, "preferences", map[string]any{"language": "ur"})
		ingest(t, s, call(fmt.Sprint("s1-", me.UserID), me.UserID, "completed"))
		ingest(t, s, call(fmt.Sprint("s2-", me.UserID), me.UserID, "busy"), call(fmt.Sprint("s3-", me.UserID), me.UserID, "failed"))
		got := sms.wait(t, phone, 2)
		want := []string{"Callboard: کال مکمل ہو گئی — ایک کال کامیابی سے مکمل ہو گئی۔", "Callboard: 2 نئی اطلاعات۔ تازہ ترین: کال ناکام ہو گئی"}
		if !slices.Equal(got, want) {
			t.Fatalf("SMS:\n%q\nwant\n%q", got, want)
		}
	})
}

// However many notifications, a user gets at most DefaultEmailsPerHour
// emails and DefaultSMSPerHour SMS an hour for calls and billing; past the
// cap the notifications are still stored, security ones still go out (a
// budget of their own), and an hour later mail flows again.
func TestHourlyCap(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sms := &smsRecorder{}
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()), func(c *app.Config) { c.Mail.SMS = sms })
		me := s.SignUp(t)
		verify(t, db, me.UserID)
		patch(t, s, me, "profile", map[string]any{"phone": fmt.Sprintf("+92333%07d", me.UserID)})
		patch(t, s, me, "settings", map[string]any{"notifications": map[string]any{"sms": true}})
		const batches = notify.DefaultEmailsPerHour + 3
		for i := range batches {
			ingest(t, s, call(fmt.Sprintf("cap-%d-%d", me.UserID, i), me.UserID, "no-answer"))
		}
		if n := list(t, s, me.Access, "?page_size=100").UnreadCount; n != batches {
			t.Fatalf("%d notifications, want %d", n, batches)
		}
		if e, m := queued(t, db, me.UserID, "email", ""), queued(t, db, me.UserID, "sms", ""); e != notify.DefaultEmailsPerHour || m != notify.DefaultSMSPerHour {
			t.Fatalf("%d emails and %d SMS queued, want %d and %d", e, m, notify.DefaultEmailsPerHour, notify.DefaultSMSPerHour)
		}
		if got := mp.Wait(t, me.Email, notify.DefaultEmailsPerHour, 20*time.Second); len(got) != notify.DefaultEmailsPerHour {
			t.Fatalf("%d emails arrived", len(got))
		}

		// A security notification has its own budget.
		if err := s.Notify.Publish(context.Background(), notify.Event{UserID: me.UserID, Category: notify.CategorySecurity,
			Kind: "password.changed", Title: "Your password was changed"}); err != nil {
			t.Fatal(err)
		}
		if n := queued(t, db, me.UserID, "email", "notification.security."); n != 1 {
			t.Fatalf("%d security emails queued, want 1", n)
		}

		// An hour later the calls budget is free again.
		s.Clock.Advance(time.Hour + time.Second)
		ingest(t, s, call(fmt.Sprintf("cap-%d-later", me.UserID), me.UserID, "no-answer"))
		if n := queued(t, db, me.UserID, "email", "notification.calls."); n != notify.DefaultEmailsPerHour+1 {
			t.Fatalf("%d calls emails queued after an hour, want %d", n, notify.DefaultEmailsPerHour+1)
		}

		// Batches of one user at once keep the cap too (on PostgreSQL they
		// run side by side; each counts under a lock on the user's mail).
		busy := s.SignUp(t)
		verify(t, db, busy.UserID)
		var wg sync.WaitGroup
		for i := range batches {
			wg.Go(func() {
				res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
					Body: map[string]any{"calls": []any{call(fmt.Sprintf("busy-%d-%d", busy.UserID, i), busy.UserID, "no-answer")}}})
				if res.Status != 200 {
					t.Errorf("ingest: %d %s", res.Status, res.Body)
				}
			})
		}
		wg.Wait()
		if n := queued(t, db, busy.UserID, "email", ""); n != notify.DefaultEmailsPerHour {
			t.Fatalf("%d emails queued by batches at once, want %d", n, notify.DefaultEmailsPerHour)
		}
	})
}

// unsubscribeURL is the request path of an email's List-Unsubscribe
// header, "<https://…>".
func unsubscribeURL(t *testing.T, header string) *url.URL {
	t.Helper()
	raw, ok := strings.CutPrefix(header, "<")
	raw, ok2 := strings.CutSuffix(raw, ">")
	u, err := url.Parse(raw)
	if !ok || !ok2 || err != nil || u.Scheme != "https" {
		t.Fatalf("List-Unsubscribe %q", header)
	}
	return u
}
