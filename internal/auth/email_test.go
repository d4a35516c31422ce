package auth_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/auth"
	"callboard/internal/mailtest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

var addressSeq atomic.Int64

// address is a recipient no other test uses (tests share a Mailpit per
// test function, both databases included).
func address(t *testing.T, label string) string {
	t.Helper()
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	return fmt.Sprintf("%s-%s-%d@example.com", label, strings.Trim(name, "-"), addressSeq.Add(1))
}

// register signs up email, with extra request headers, and returns its
// session.
func register(t *testing.T, s *apitest.Server, email string, header map[string]string) apitest.Session {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register/", Header: header, Body: map[string]string{
		"email": email, "password": apitest.StrongPassword, "first_name": "Ayesha", "last_name": "Malik",
	}})
	if res.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, res.Status, res.Body)
	}
	var out struct {
		User            struct{ ID int64 }
		Access, Refresh string
	}
	res.Decode(t, &out)
	return apitest.Session{UserID: out.User.ID, Email: email, Access: out.Access, Refresh: out.Refresh}
}

var linkPattern = regexp.MustCompile(`(https://dash\.callboard\.test/[a-z-]+)#token=([A-Za-z0-9_-]+)`)

// tokenIn returns the token of the link to page in an arrived message: the
// link must be in the text part and, as the same link, in the HTML part.
func tokenIn(t *testing.T, m mailtest.Message, page string) string {
	t.Helper()
	match := linkPattern.FindStringSubmatch(m.Text)
	if match == nil || match[1] != apitest.PublicURL+page {
		t.Fatalf("no link to %s in %q:\n%s", page, m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+match[0]+`"`) {
		t.Fatalf("the HTML part lacks the link %s", match[0])
	}
	return match[2]
}

func profile(t *testing.T, s *apitest.Server, token string) (email string, verified bool) {
	t.Helper()
	var p struct {
		Email      string
		IsVerified bool `json:"is_verified"`
	}
	res := status(t, s, "GET", "/api/dashboard/user/profile/", token, nil)
	if res.Status != 200 {
		t.Fatalf("profile: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &p)
	return p.Email, p.IsVerified
}

func verify(t *testing.T, s *apitest.Server, token string) *apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/verify-email/", Body: map[string]string{"token": token}})
}

// wantProblem fails unless res has status and names loc.
func wantProblem(t *testing.T, what string, res *apitest.Response, status int, loc string) {
	t.Helper()
	if res.Status != status || (loc != "" && !slices.Contains(apitest.ErrorLocations(t, res), loc)) {
		t.Fatalf("%s: %d %s, want %d naming %q", what, res.Status, res.Body, status, loc)
	}
}

func login(t *testing.T, s *apitest.Server, email, password string) int {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": email, "password": password}}).Status
}

// TestVerifyEmail: registration mails a link (through a real SMTP server)
// whose token, posted back, verifies the account once; the token is
// stored only as its SHA-256; the account's calls by email are refused
// until then and routed after.
func TestVerifyEmail(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		email := address(t, "ayesha")
		me := register(t, s, strings.ToUpper(email), map[string]string{"Accept-Language": "en-GB,en;q=0.9"})
		if _, verified := profile(t, s, me.Access); verified {
			t.Fatal("a new account is verified")
		}
		// Until verified, the platform's calls for the address are refused.
		report := map[string]any{"calls": []map[string]any{{"external_id": "by-mail-" + string(db.Dialect), "user_email": email,
			"direction": "inbound", "from_number": "+923001234567", "to_number": "+924235761000", "status": "completed",
			"started_at": s.Clock.Now().Add(-time.Hour).Format(time.RFC3339)}}}
		platform := map[string]string{"X-Platform-Key": apitest.PlatformKey}
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: platform, Body: report})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"failed":1`) || !strings.Contains(string(res.Body), "has not verified") {
			t.Fatalf("call for an unverified address: %d %s", res.Status, res.Body)
		}
		if n := countRows(t, db, "calls"); n != 0 {
			t.Fatalf("%d calls stored for an unverified address", n)
		}

		m := mp.Wait(t, email, 1, 10*time.Second)[0]
		if m.Subject != "Confirm your email address for Callboard" || !strings.Contains(m.Text, "Hello Ayesha,") || !strings.Contains(m.Text, "24 hours") {
			t.Fatalf("verification mail: %q\n%s", m.Subject, m.Text)
		}
		token := tokenIn(t, m, "/verify-email")

		// Only the hash is stored.
		var stored []byte
		if err := db.Read().QueryRow(`SELECT token_hash FROM email_tokens WHERE user_id = $1 AND purpose = 'verify'`, me.UserID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte(token)); !bytes.Equal(stored, sum[:]) {
			t.Fatalf("stored hash %x is not the token's SHA-256", stored)
		}

		// Bad input changes nothing.
		for _, tc := range []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"unknown token", map[string]string{"token": strings.Repeat("A", 43)}, 400, "body.token"},
			{"empty token", map[string]string{"token": ""}, 400, "body.token"},
			{"a token's hash", map[string]string{"token": fmt.Sprintf("%x", stored)}, 400, "body.token"},
			{"no token", map[string]string{}, 422, "body.token"},
			{"token not a string", map[string]any{"token": 5}, 422, "body.token"},
			{"token too long", map[string]string{"token": strings.Repeat("A", 129)}, 422, "body.token"},
			{"unknown field", map[string]string{"token": token, "user_id": "1"}, 422, "body.user_id"},
		} {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/verify-email/", Body: tc.body})
			wantProblem(t, tc.name, res, tc.status, tc.loc)
			if strings.Contains(string(res.Body), token) {
				t.Fatalf("%s: the answer echoes the token", tc.name)
			}
		}
		if _, verified := profile(t, s, me.Access); verified {
			t.Fatal("verified by bad input")
		}

		res = verify(t, s, token)
		if res.Status != 200 {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}
		var out struct {
			Email      string
			IsVerified bool `json:"is_verified"`
		}
		res.Decode(t, &out)
		if out.Email != email || !out.IsVerified {
			t.Fatalf("verify answer: %s", res.Body)
		}
		if _, verified := profile(t, s, me.Access); !verified {
			t.Fatal("not verified after the link")
		}
		// Once only.
		wantProblem(t, "used token", verify(t, s, token), 400, "body.token")
		wantProblem(t, "resend when verified", status(t, s, "POST", "/api/dashboard/user/resend-verification/", me.Access, nil), 409, "")
		if a := auditActions(t, s, me.Access); !slices.Contains(a, "email.verified") {
			t.Fatalf("security log: %v", a)
		}
		// Now the address routes calls.
		res = s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: platform, Body: report})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"created":1`) {
			t.Fatalf("call for a verified address: %d %s", res.Status, res.Body)
		}
		var owner int64
		if err := db.Read().QueryRow(`SELECT user_id FROM calls`).Scan(&owner); err != nil || owner != me.UserID {
			t.Fatalf("call owner %d %v", owner, err)
		}
	})
}

// TestVerificationLinkExpires: a link older than 24 hours is refused and
// changes nothing.
func TestVerificationLinkExpires(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		email := address(t, "late")
		me := register(t, s, email, nil)
		token := tokenIn(t, mp.Wait(t, email, 1, 10*time.Second)[0], "/verify-email")
		s.Clock.Advance(24*time.Hour + time.Second)
		wantProblem(t, "expired token", verify(t, s, token), 400, "body.token")
		me = signIn(t, s, me.Email, apitest.StrongPassword, "curl/8.5.0") // the first access token has expired too
		if _, verified := profile(t, s, me.Access); verified {
			t.Fatal("verified by an expired link")
		}
	})
}

// TestResendVerification: a new link replaces the old one, in the user's
// language preference; resending is limited per user and needs sign-in.
func TestResendVerification(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()), apitest.WithAuth(func(c *auth.Config) { c.VerificationMailsPerUser = 2 }))
		email := address(t, "resend")
		// The first mail follows the browser's languages: the account has no preference yet.
		me := register(t, s, email, map[string]string{"Accept-Language": "ur-PK, en;q=0.5"})
		other := s.SignUp(t)
		first := mp.Wait(t, email, 1, 10*time.Second)[0]
		if !strings.Contains(first.HTML, `dir="rtl"`) || !strings.Contains(first.Subject, "تصدیق") {
			t.Fatalf("the first mail is not in Urdu: %q", first.Subject)
		}
		if res := status(t, s, "PATCH", "/api/dashboard/user/preferences/", me.Access, map[string]string{"language": "en"}); res.Status != 200 {
			t.Fatalf("preferences: %d %s", res.Status, res.Body)
		}

		wantProblem(t, "resend without sign-in", status(t, s, "POST", "/api/dashboard/user/resend-verification/", "", nil), 401, "")
		res := status(t, s, "POST", "/api/dashboard/user/resend-verification/", me.Access, nil)
		if res.Status != http.StatusAccepted || res.JSON(t)["sent_to"] != email {
			t.Fatalf("resend: %d %s", res.Status, res.Body)
		}
		second := mp.Wait(t, email, 2, 10*time.Second)[1]
		if second.Subject != "Confirm your email address for Callboard" || strings.Contains(second.HTML, `dir="rtl"`) {
			t.Fatalf("the resent mail does not follow the preference (en): %q", second.Subject)
		}
		old, current := tokenIn(t, first, "/verify-email"), tokenIn(t, second, "/verify-email")
		wantProblem(t, "replaced link", verify(t, s, old), 400, "body.token")

		// The second resend reaches the limit of 2; the third is refused.
		if res := status(t, s, "POST", "/api/dashboard/user/resend-verification/", me.Access, nil); res.Status != http.StatusAccepted {
			t.Fatalf("second resend: %d %s", res.Status, res.Body)
		}
		res = status(t, s, "POST", "/api/dashboard/user/resend-verification/", me.Access, nil)
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("third resend: %d %s", res.Status, res.Body)
		}
		// Another user's limit is their own.
		if res := status(t, s, "POST", "/api/dashboard/user/resend-verification/", other.Access, nil); res.Status != http.StatusAccepted {
			t.Fatalf("another user's resend: %d %s", res.Status, res.Body)
		}
		third := mp.Wait(t, email, 3, 10*time.Second)[2]
		wantProblem(t, "link replaced by a later resend", verify(t, s, current), 400, "body.token")
		if res := verify(t, s, tokenIn(t, third, "/verify-email")); res.Status != 200 {
			t.Fatalf("newest link: %d %s", res.Status, res.Body)
		}
		if _, verified := profile(t, s, other.Access); verified {
			t.Fatal("another user was verified")
		}
		wantProblem(t, "resend when verified", status(t, s, "POST", "/api/dashboard/user/resend-verification/", me.Access, nil), 409, "")
	})
}

// TestChangeEmail: the new address gets a link, the current one a notice;
// the account keeps its address until the link is used; taken addresses
// are refused, at the request and at the link; a password change cancels
// a pending change.
func TestChangeEmail(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		const path = "/api/dashboard/user/change-email/"
		oldEmail, newEmail := address(t, "old"), address(t, "new")
		me := register(t, s, oldEmail, nil)
		if res := verify(t, s, tokenIn(t, mp.Wait(t, oldEmail, 1, 10*time.Second)[0], "/verify-email")); res.Status != 200 {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}
		other := register(t, s, address(t, "other"), nil)

		tokensBefore, mailBefore := countRows(t, db, "email_tokens"), countRows(t, db, "mail_outbox")
		for _, tc := range []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"wrong password", map[string]string{"new_email": newEmail, "password": "not-my-password-9"}, 422, "body.password"},
			{"no password", map[string]string{"new_email": newEmail}, 422, "body.password"},
			{"empty password", map[string]string{"new_email": newEmail, "password": ""}, 422, "body.password"},
			{"not an address", map[string]string{"new_email": "ayesha@", "password": apitest.StrongPassword}, 422, "body.new_email"},
			{"no address", map[string]string{"password": apitest.StrongPassword}, 422, "body.new_email"},
			{"the current address", map[string]string{"new_email": strings.ToUpper(oldEmail), "password": apitest.StrongPassword}, 422, "body.new_email"},
			{"another account's address", map[string]string{"new_email": other.Email, "password": apitest.StrongPassword}, 409, "body.new_email"},
			{"unknown field", map[string]string{"new_email": newEmail, "password": apitest.StrongPassword, "user_id": "1"}, 422, "body.user_id"},
		} {
			res := status(t, s, "POST", path, me.Access, tc.body)
			wantProblem(t, tc.name, res, tc.status, tc.loc)
			if strings.Contains(string(res.Body), apitest.StrongPassword) {
				t.Fatalf("%s: the answer echoes the password", tc.name)
			}
		}
		if countRows(t, db, "email_tokens") != tokensBefore || countRows(t, db, "mail_outbox") != mailBefore {
			t.Fatal("a refused change stored a token or a mail")
		}
		wantProblem(t, "without sign-in", status(t, s, "POST", path, "", map[string]string{"new_email": newEmail, "password": apitest.StrongPassword}), 401, "")

		res := status(t, s, "POST", path, me.Access, map[string]string{"new_email": " " + strings.ToUpper(newEmail), "password": apitest.StrongPassword})
		if res.Status != http.StatusAccepted || res.JSON(t)["pending_email"] != newEmail {
			t.Fatalf("change: %d %s", res.Status, res.Body)
		}
		link := mp.Wait(t, newEmail, 1, 10*time.Second)[0]
		if link.Subject != "Confirm your new email address for Callboard" {
			t.Fatalf("mail to the new address: %q", link.Subject)
		}
		notice := mp.Wait(t, oldEmail, 2, 10*time.Second)[1]
		if notice.Subject != "Your Callboard email address is being changed" || !strings.Contains(notice.Text, newEmail) ||
			linkPattern.MatchString(notice.Text) {
			t.Fatalf("notice to the old address: %q\n%s", notice.Subject, notice.Text)
		}
		// Nothing changed yet.
		if email, verified := profile(t, s, me.Access); email != oldEmail || !verified {
			t.Fatalf("before the link: %s %v", email, verified)
		}
		if login(t, s, newEmail, apitest.StrongPassword) != 401 || login(t, s, oldEmail, apitest.StrongPassword) != 200 {
			t.Fatal("the new address signs in before it is verified")
		}

		// The link works whoever is signed in: it changes its own account only.
		res = s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/verify-email/", Token: other.Access, Body: map[string]string{"token": tokenIn(t, link, "/verify-email")}})
		if res.Status != 200 || res.JSON(t)["email"] != newEmail {
			t.Fatalf("verify the new address: %d %s", res.Status, res.Body)
		}
		if email, verified := profile(t, s, me.Access); email != newEmail || !verified {
			t.Fatalf("after the link: %s %v", email, verified)
		}
		if email, _ := profile(t, s, other.Access); email != other.Email {
			t.Fatalf("another user's address changed to %s", email)
		}
		if login(t, s, newEmail, apitest.StrongPassword) != 200 || login(t, s, oldEmail, apitest.StrongPassword) != 401 {
			t.Fatal("sign-in does not follow the change")
		}
		if a := auditActions(t, s, me.Access); !slices.Contains(a, "email.change_requested") || !slices.Contains(a, "email.changed") {
			t.Fatalf("security log: %v", a)
		}
		if k := notificationKinds(t, s, me.Access); !slices.Contains(k, "email.changed") {
			t.Fatalf("notifications: %v", k)
		}

		// An address taken between the request and the link: 409, nothing changes.
		contested := address(t, "contested")
		if res := status(t, s, "POST", path, me.Access, map[string]string{"new_email": contested, "password": apitest.StrongPassword}); res.Status != 202 {
			t.Fatalf("change to %s: %d %s", contested, res.Status, res.Body)
		}
		contestedToken := tokenIn(t, mp.Wait(t, contested, 1, 10*time.Second)[0], "/verify-email")
		register(t, s, contested, nil)
		wantProblem(t, "address taken meanwhile", verify(t, s, contestedToken), 409, "body.token")
		if email, _ := profile(t, s, me.Access); email != newEmail {
			t.Fatalf("changed to a taken address: %s", email)
		}

		// A password change cancels a pending change.
		third := address(t, "third")
		if res := status(t, s, "POST", path, me.Access, map[string]string{"new_email": third, "password": apitest.StrongPassword}); res.Status != 202 {
			t.Fatalf("change to %s: %d %s", third, res.Status, res.Body)
		}
		thirdToken := tokenIn(t, mp.Wait(t, third, 1, 10*time.Second)[0], "/verify-email")
		if res := status(t, s, "POST", "/api/dashboard/user/change-password/", me.Access,
			map[string]string{"current_password": apitest.StrongPassword, "new_password": newPassword}); res.Status != 204 {
			t.Fatalf("change password: %d %s", res.Status, res.Body)
		}
		wantProblem(t, "change cancelled by a new password", verify(t, s, thirdToken), 400, "body.token")
		if email, _ := profile(t, s, me.Access); email != newEmail {
			t.Fatalf("address %s after a cancelled change", email)
		}
	})
}

// TestChangeEmailOfUnverifiedAccount: an address never verified (perhaps
// mistyped, a stranger's) is not told of the change.
func TestChangeEmailOfUnverifiedAccount(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		typo, right := address(t, "typo"), address(t, "right")
		me := register(t, s, typo, nil)
		res := status(t, s, "POST", "/api/dashboard/user/change-email/", me.Access, map[string]string{"new_email": right, "password": apitest.StrongPassword})
		if res.Status != 202 {
			t.Fatalf("change: %d %s", res.Status, res.Body)
		}
		token := tokenIn(t, mp.Wait(t, right, 1, 10*time.Second)[0], "/verify-email")
		if n := len(mp.Search(t, typo)); n != 1 {
			t.Fatalf("%d mails to the unverified address, want the registration's alone", n)
		}
		if res := verify(t, s, token); res.Status != 200 {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}
		if email, verified := profile(t, s, me.Access); email != right || !verified {
			t.Fatalf("after the link: %s %v", email, verified)
		}
	})
}

// TestPasswordReset: the same answer for known and unknown addresses; the
// link arrives for a known one only, works once, signs every session out,
// verifies the address and is audited and notified.
func TestPasswordReset(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		email, unknown := address(t, "forgot"), address(t, "nobody")
		me := register(t, s, email, nil)
		phone := signIn(t, s, email, apitest.StrongPassword, "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36")
		other := s.SignUp(t)
		request := func(addr string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": addr}})
		}

		for _, tc := range []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"no email", map[string]string{}, 422, "body.email"},
			{"not an address", map[string]string{"email": "forgot@"}, 422, "body.email"},
			{"NUL in address", map[string]string{"email": "forgot\x00@example.com"}, 422, "body.email"},
			{"unknown field", map[string]string{"email": email, "user_id": "1"}, 422, "body.user_id"},
		} {
			wantProblem(t, tc.name, s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: tc.body}), tc.status, tc.loc)
		}

		// Unknown first: the worker takes requests in order, so once the
		// known address's mail arrived the unknown one was handled.
		resUnknown, resKnown := request(unknown), request(strings.ToUpper(email))
		if resUnknown.Status != http.StatusAccepted || resKnown.Status != http.StatusAccepted || !bytes.Equal(resUnknown.Body, resKnown.Body) {
			t.Fatalf("known and unknown answers differ: %d %s / %d %s", resKnown.Status, resKnown.Body, resUnknown.Status, resUnknown.Body)
		}
		m := mp.Wait(t, email, 2, 10*time.Second)[1] // after the verification mail
		if m.Subject != "Reset your Callboard password" || !strings.Contains(m.Text, "1 hour") {
			t.Fatalf("reset mail: %q\n%s", m.Subject, m.Text)
		}
		token := tokenIn(t, m, "/reset-password")
		if n := len(mp.Search(t, unknown)); n != 0 {
			t.Fatalf("%d mails to an address of no account", n)
		}
		var resets int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM email_tokens WHERE purpose = 'reset'`).Scan(&resets); err != nil || resets != 1 {
			t.Fatalf("%d reset tokens (%v), want 1", resets, err)
		}

		// Bad input changes nothing: the old password still signs in.
		for _, tc := range []struct {
			name   string
			body   any
			status int
			loc    string
		}{
			{"weak password", map[string]string{"token": token, "new_password": "password1"}, 422, "body.new_password"},
			{"password with the email", map[string]string{"token": token, "new_password": strings.Split(email, "@")[0] + "-orbit"}, 422, "body.new_password"},
			{"no password", map[string]string{"token": token}, 422, "body.new_password"},
			{"unknown token", map[string]string{"token": strings.Repeat("B", 43), "new_password": newPassword}, 400, "body.token"},
			{"verification token", map[string]string{"token": tokenIn(t, mp.Wait(t, email, 1, 0)[0], "/verify-email"), "new_password": newPassword}, 400, "body.token"},
			{"no token", map[string]string{"new_password": newPassword}, 422, "body.token"},
		} {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/confirm/", Body: tc.body})
			wantProblem(t, tc.name, res, tc.status, tc.loc)
			if strings.Contains(string(res.Body), newPassword) || strings.Contains(string(res.Body), token) {
				t.Fatalf("%s: the answer echoes a secret: %s", tc.name, res.Body)
			}
		}
		wantProblem(t, "reset token to verify", verify(t, s, token), 400, "body.token")
		if login(t, s, email, apitest.StrongPassword) != 200 {
			t.Fatal("a refused reset changed the password")
		}

		confirm := func(token string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/confirm/", Body: map[string]string{"token": token, "new_password": newPassword}})
		}
		if res := confirm(token); res.Status != 200 {
			t.Fatalf("confirm: %d %s", res.Status, res.Body)
		}
		wantProblem(t, "used token", confirm(token), 400, "body.token")

		// Every session is signed out: access and refresh tokens answer 401.
		for name, sess := range map[string]apitest.Session{"registration": me, "phone": phone} {
			if res := status(t, s, "GET", "/api/dashboard/user/profile/", sess.Access, nil); res.Status != 401 {
				t.Fatalf("%s session's access token: %d", name, res.Status)
			}
			if st := refresh(t, s, sess.Refresh); st != 401 {
				t.Fatalf("%s session's refresh token: %d", name, st)
			}
		}
		if res := status(t, s, "GET", "/api/dashboard/user/profile/", other.Access, nil); res.Status != 200 {
			t.Fatalf("another user's session: %d", res.Status)
		}
		if login(t, s, email, apitest.StrongPassword) != 401 {
			t.Fatal("the old password still signs in")
		}
		after := signIn(t, s, email, newPassword, "curl/8.5.0")
		if _, verified := profile(t, s, after.Access); !verified {
			t.Fatal("a reset did not verify the address it reached")
		}
		if a := auditActions(t, s, after.Access); !slices.Contains(a, "password.reset") || !slices.Contains(a, "password.reset_requested") {
			t.Fatalf("security log: %v", a)
		}
		if k := notificationKinds(t, s, after.Access); !slices.Contains(k, "password.reset") {
			t.Fatalf("notifications: %v", k)
		}
		if login(t, s, other.Email, apitest.StrongPassword) != 200 {
			t.Fatal("another user's password changed")
		}
	})
}

// TestPasswordResetLinks: a link expires after an hour, a newer one
// replaces it, and one sent to an address the account no longer has stops
// working.
func TestPasswordResetLinks(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		email := address(t, "links")
		me := register(t, s, email, nil)
		mp.Wait(t, email, 1, 10*time.Second) // the verification mail
		n := 1
		requestToken := func(addr string) string {
			t.Helper()
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": addr}})
			if res.Status != 202 {
				t.Fatalf("request: %d %s", res.Status, res.Body)
			}
			n++
			return tokenIn(t, mp.Wait(t, email, n, 10*time.Second)[n-1], "/reset-password")
		}
		confirm := func(token string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/confirm/", Body: map[string]string{"token": token, "new_password": newPassword}})
		}

		expiring := requestToken(email)
		s.Clock.Advance(time.Hour + time.Second)
		wantProblem(t, "expired link", confirm(expiring), 400, "body.token")

		replaced := requestToken(email)
		newest := requestToken(email)
		wantProblem(t, "replaced link", confirm(replaced), 400, "body.token")

		// The account moves to another address: links to the old one stop.
		moved := address(t, "moved")
		me = signIn(t, s, email, apitest.StrongPassword, "curl/8.5.0") // the clock moved past the access token's life
		if res := status(t, s, "POST", "/api/dashboard/user/change-email/", me.Access, map[string]string{"new_email": moved, "password": apitest.StrongPassword}); res.Status != 202 {
			t.Fatalf("change email: %d %s", res.Status, res.Body)
		}
		if res := verify(t, s, tokenIn(t, mp.Wait(t, moved, 1, 10*time.Second)[0], "/verify-email")); res.Status != 200 {
			t.Fatalf("verify: %d %s", res.Status, res.Body)
		}
		wantProblem(t, "link to a former address", confirm(newest), 400, "body.token")
		if login(t, s, moved, apitest.StrongPassword) != 200 {
			t.Fatal("a refused link changed the password")
		}
	})
}

// TestPasswordResetLimits: requests are limited per email (known or not,
// alike) and per client address, with Retry-After.
func TestPasswordResetLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.ResetRequestsPerEmail, c.ResetRequestsPerAddress = 2, 5 }))
		known := s.SignUp(t)
		request := func(addr, client string) *apitest.Response {
			s.Client = client
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": addr}})
		}
		for _, addr := range []string{known.Email, "nobody-limit@example.com"} {
			for i, want := range []int{202, 202, 429} {
				res := request(addr, fmt.Sprintf("198.51.100.%d:4000", i+1)) // from 3 addresses: the email's limit
				if res.Status != want || (want == 429 && res.Header.Get("Retry-After") == "") {
					t.Fatalf("%s request %d: %d %s", addr, i+1, res.Status, res.Body)
				}
			}
		}
		// Per client address: 5 over any emails, the 6th refused.
		for i := range 6 {
			want := 202
			if i == 5 {
				want = 429
			}
			if res := request(fmt.Sprintf("spray-%d@example.com", i), "203.0.113.7:4000"); res.Status != want {
				t.Fatalf("address request %d: %d %s", i+1, res.Status, res.Body)
			}
		}
		// Limits are counted by hashes: no address is stored in them.
		var keys int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM rate_limits WHERE key LIKE '%@%'`).Scan(&keys); err != nil || keys != 0 {
			t.Fatalf("%d rate-limit keys hold an address (%v)", keys, err)
		}
		// The window passes.
		s.Clock.Advance(time.Hour)
		if res := request(known.Email, "192.0.2.10:5555"); res.Status != 202 {
			t.Fatalf("after the window: %d %s", res.Status, res.Body)
		}
	})
}

// TestResetLinkWorksOnceUnderConcurrency: of confirmations racing with one
// link, exactly one sets the password.
func TestResetLinkWorksOnceUnderConcurrency(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		email := address(t, "race")
		register(t, s, email, nil)
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": email}}); res.Status != 202 {
			t.Fatalf("request: %d %s", res.Status, res.Body)
		}
		token := tokenIn(t, mp.Wait(t, email, 2, 10*time.Second)[1], "/reset-password")
		const n = 8
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses <- s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/confirm/",
					Body: map[string]string{"token": token, "new_password": fmt.Sprintf("%s-%d", newPassword, i)}}).Status
			})
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for st := range statuses {
			got[st]++
		}
		if got[200] != 1 || got[400] != n-1 {
			t.Fatalf("statuses %v, want one 200 and %d 400", got, n-1)
		}
	})
}
