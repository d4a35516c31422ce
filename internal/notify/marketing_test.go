package notify_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/apperr"
	"callboard/internal/mailtest"
	"callboard/internal/notify"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

var news = notify.Announcement{
	Subject: map[account.Language]string{account.LanguageEnglish: "New: call summaries", account.LanguageUrdu: "نئی سہولت: کال کا خلاصہ"},
	Paragraphs: map[account.Language][]string{
		account.LanguageEnglish: {"Every call now gets a summary.", "Open the dashboard to see it."},
		account.LanguageUrdu:    {"اب ہر کال کا خلاصہ بنتا ہے۔"},
	},
}

func marketingOn(t *testing.T, s *apitest.Server, me apitest.Session, on bool) {
	t.Helper()
	patch(t, s, me, "settings", map[string]any{"notifications": map[string]any{"marketing": on}})
}

func marketingSetting(t *testing.T, s *apitest.Server, userID int64) bool {
	t.Helper()
	st, err := s.Account.Settings(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return st.Notifications.Marketing
}

func auditCount(t *testing.T, s *apitest.Server, userID int64) int {
	t.Helper()
	n, err := s.Audit.CountSince(context.Background(), userID, account.ActionMarketingStopped, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Product news reaches only users who opted in with a verified address,
// in their language, with RFC 8058 one-click headers; POSTing the header's
// URL with the RFC 8058 form turns marketing off, so the next announcement
// skips that user.
func TestMarketingAndOneClickUnsubscribe(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		en, ur, unverified, optedOut := s.SignUp(t), s.SignUp(t), s.SignUp(t), s.SignUp(t)
		for _, u := range []apitest.Session{en, ur, optedOut} {
			verify(t, db, u.UserID)
		}
		for _, u := range []apitest.Session{en, ur, unverified} {
			marketingOn(t, s, u, true)
		}
		patch(t, s, ur, "preferences", map[string]any{"language": "ur"})

		n, err := s.Notify.Announce(context.Background(), news, false, nil)
		if err != nil || n != 2 {
			t.Fatalf("announce: %d, %v; want 2 emails", n, err)
		}
		got := mp.Wait(t, en.Email, 1, 10*time.Second)[0]
		if got.Subject != "New: call summaries" || !strings.Contains(got.Text, "Every call now gets a summary.") ||
			!strings.Contains(got.Text, "you chose product news and offers") {
			t.Errorf("English news: %q\n%s", got.Subject, got.Text)
		}
		if got.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post %q", got.Header("List-Unsubscribe-Post"))
		}
		oneClick := unsubscribeURL(t, got.Header("List-Unsubscribe"))
		token := oneClick.Query().Get("token")
		if oneClick.Host != "dash.callboard.test" || oneClick.Path != "/api/mail/unsubscribe/" || token == "" {
			t.Fatalf("List-Unsubscribe %q", got.Header("List-Unsubscribe"))
		}
		page := apitest.PublicURL + "/unsubscribe?" + url.Values{"token": {token}}.Encode()
		if !strings.Contains(got.Text, page) || !strings.Contains(got.HTML, `href="`+strings.ReplaceAll(page, "&", "&amp;")+`"`) {
			t.Errorf("the body does not link %s:\n%s", page, got.Text)
		}
		gotUR := mp.Wait(t, ur.Email, 1, 10*time.Second)[0]
		if gotUR.Subject != "نئی سہولت: کال کا خلاصہ" || !strings.Contains(gotUR.HTML, `dir="rtl"`) ||
			!strings.Contains(gotUR.Text, "اب ہر کال کا خلاصہ بنتا ہے۔") || !strings.Contains(gotUR.Text, "یہ ای میلز بند کریں") {
			t.Errorf("Urdu news: %q\n%s", gotUR.Subject, gotUR.Text)
		}
		for _, u := range []apitest.Session{unverified, optedOut} {
			if n := queued(t, db, u.UserID, "", "marketing"); n != 0 {
				t.Errorf("user %d got %d news emails", u.UserID, n)
			}
		}

		// The mail provider's one-click POST (RFC 8058): no sign-in, a form body.
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		res := s.Do(t, apitest.Request{Method: "POST", Path: oneClick.RequestURI(), Body: "List-Unsubscribe=One-Click", Header: form})
		if res.Status != 200 || res.JSON(t)["list"] != "marketing" {
			t.Fatalf("one-click: %d %s", res.Status, res.Body)
		}
		if marketingSetting(t, s, en.UserID) || auditCount(t, s, en.UserID) != 1 {
			t.Fatalf("after one-click: marketing %v, %d audit entries", marketingSetting(t, s, en.UserID), auditCount(t, s, en.UserID))
		}
		// Again (providers retry), and from the web page with JSON or no
		// body: the same answer, nothing more recorded.
		for _, req := range []apitest.Request{
			{Method: "POST", Path: oneClick.RequestURI(), Body: "List-Unsubscribe=One-Click", Header: form},
			{Method: "POST", Path: oneClick.RequestURI(), Body: map[string]any{}},
			{Method: "POST", Path: oneClick.RequestURI()},
		} {
			if res := s.Do(t, req); res.Status != 200 {
				t.Fatalf("again: %d %s", res.Status, res.Body)
			}
		}
		if auditCount(t, s, en.UserID) != 1 {
			t.Fatalf("%d audit entries, want 1", auditCount(t, s, en.UserID))
		}

		// The next announcement skips the user who left.
		if n, err := s.Notify.Announce(context.Background(), news, false, nil); err != nil || n != 1 {
			t.Fatalf("second announce: %d, %v; want 1 email", n, err)
		}
		mp.Wait(t, ur.Email, 2, 10*time.Second)
		if n := queued(t, db, en.UserID, "", "marketing"); n != 1 {
			t.Fatalf("the unsubscribed user has %d news emails, want 1", n)
		}

		// Bad requests change nothing.
		urToken := unsubscribeURL(t, gotUR.Header("List-Unsubscribe")).Query().Get("token")
		id, rest, _ := strings.Cut(urToken, ".")
		list, mac, _ := strings.Cut(rest, ".")
		flipped := []byte(mac)
		flipped[0] ^= 1
		if flipped[0] == mac[0] {
			t.Fatal("the mac did not change")
		}
		for _, tc := range []struct {
			name   string
			query  string
			status int
			loc    string
		}{
			{"tampered mac", string(flipped), 400, "query.token"},
			{"another user's id", fmt.Sprint(en.UserID) + "." + list + "." + mac, 400, "query.token"},
			{"another list", id + ".billing." + mac, 400, "query.token"},
			{"no mac", id + "." + list, 400, "query.token"},
			{"garbage", "not-a-token", 400, "query.token"},
			{"too long", strings.Repeat("1", 300), 400, "query.token"},
			{"empty", "", 422, "query.token"},
		} {
			token := tc.query
			if tc.name == "tampered mac" {
				token = id + "." + list + "." + tc.query
			}
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/mail/unsubscribe/?token=" + url.QueryEscape(token), Body: "List-Unsubscribe=One-Click", Header: form})
			if res.Status != tc.status || !slices.Contains(apitest.ErrorLocations(t, res), tc.loc) {
				t.Errorf("%s: %d %s, want %d naming %s", tc.name, res.Status, res.Body, tc.status, tc.loc)
			}
		}
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/mail/unsubscribe/"}); res.Status != 422 {
			t.Errorf("no token: %d %s", res.Status, res.Body)
		}
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/mail/unsubscribe/?token=" + urToken, Body: "stop",
			Header: map[string]string{"Content-Type": "text/plain"}}); res.Status != 415 {
			t.Errorf("a text body: %d %s", res.Status, res.Body)
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/mail/unsubscribe/?token=" + urToken}); res.Status != 405 {
			t.Errorf("GET: %d %s, want 405 (a link scanner must not unsubscribe)", res.Status, res.Body)
		}
		if !marketingSetting(t, s, ur.UserID) || auditCount(t, s, ur.UserID) != 0 {
			t.Fatal("a refused request changed the Urdu user's setting")
		}

		// A valid token of an account that is gone.
		if _, err := db.Write().Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, ur.UserID); err != nil {
			t.Fatal(err)
		}
		res = s.Do(t, apitest.Request{Method: "POST", Path: "/api/mail/unsubscribe/?token=" + urToken, Body: "List-Unsubscribe=One-Click", Header: form})
		if res.Status != 400 || !slices.Contains(apitest.ErrorLocations(t, res), "query.token") {
			t.Errorf("deleted account: %d %s", res.Status, res.Body)
		}
	})
}

// Announce walks every opted-in user page by page, and refuses an
// announcement missing a language or with a subject of several lines.
func TestAnnounce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		// More users than one page (200), made directly: half opted in.
		const users = 450
		for i := range users {
			var id int64
			if err := db.Write().QueryRow(`INSERT INTO users (email, password_hash, first_name, last_name, is_verified, created_at, updated_at)
				VALUES ($1, 'x', 'Bulk', 'User', $2, 1, 1) RETURNING id`, fmt.Sprintf("bulk%d-%s@example.com", i, db.Dialect), true).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Write().Exec(`INSERT INTO user_settings (user_id, notify_marketing, updated_at) VALUES ($1, $2, 1)`, id, i%2 == 0); err != nil {
				t.Fatal(err)
			}
		}
		var pages []int
		n, err := s.Notify.Announce(context.Background(), news, true, func(q int) { pages = append(pages, q) })
		if err != nil || n != users/2 || !slices.Equal(pages, []int{200, 225}) {
			t.Fatalf("dry run: %d %v, pages %v", n, err, pages)
		}
		var count int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox`).Scan(&count); err != nil || count != 0 {
			t.Fatalf("a dry run queued %d: %v", count, err)
		}
		if n, err := s.Notify.Announce(context.Background(), news, false, nil); err != nil || n != users/2 {
			t.Fatalf("announce: %d %v", n, err)
		}
		if err := db.Read().QueryRow(`SELECT COUNT(DISTINCT user_id) FROM mail_outbox WHERE kind = 'marketing'`).Scan(&count); err != nil || count != users/2 {
			t.Fatalf("%d users queued: %v", count, err)
		}

		for _, tc := range []struct {
			name   string
			change func(a *notify.Announcement)
			fields []string
		}{
			{"no Urdu", func(a *notify.Announcement) { delete(a.Subject, "ur"); delete(a.Paragraphs, "ur") }, []string{"subject-ur", "body-ur"}},
			{"a subject of two lines", func(a *notify.Announcement) { a.Subject["en"] = "New\nBcc: everyone@example.com" }, []string{"subject-en"}},
			{"blank body", func(a *notify.Announcement) { a.Paragraphs["en"] = []string{"  "} }, []string{"body-en"}},
			{"not UTF-8", func(a *notify.Announcement) { a.Paragraphs["en"] = []string{"\xff"} }, []string{"body-en"}},
		} {
			a := notify.Announcement{Subject: map[account.Language]string{}, Paragraphs: map[account.Language][]string{}}
			for k, v := range news.Subject {
				a.Subject[k] = v
			}
			for k, v := range news.Paragraphs {
				a.Paragraphs[k] = v
			}
			tc.change(&a)
			_, err := s.Notify.Announce(context.Background(), a, false, nil)
			e, ok := apperr.As(err)
			var fields []string
			if ok {
				for _, f := range e.Fields {
					fields = append(fields, f.Location)
				}
			}
			if !ok || !slices.Equal(fields, tc.fields) {
				t.Errorf("%s: %v %v, want %v", tc.name, err, fields, tc.fields)
			}
		}
	})
}
