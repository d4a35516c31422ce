package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/auth"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		valid := func(edit func(m map[string]any)) map[string]any {
			m := map[string]any{"email": "Ayesha.Malik@Example.COM", "password": apitest.StrongPassword,
				"first_name": "Ayesha", "last_name": "Malik", "phone": "0300 1234567"}
			if edit != nil {
				edit(m)
			}
			return m
		}
		bad := []struct {
			name     string
			body     any
			status   int
			location string
		}{
			{"weak password", valid(func(m map[string]any) { m["password"] = "password1" }), 422, "body.password"},
			{"short password", valid(func(m map[string]any) { m["password"] = "Zq9!x" }), 422, "body.password"},
			{"password with name", valid(func(m map[string]any) { m["password"] = "Ayesha-violet-lantern-87" }), 422, "body.password"},
			{"malformed email", valid(func(m map[string]any) { m["email"] = "ayesha@" }), 422, "body.email"},
			{"email without domain dot", valid(func(m map[string]any) { m["email"] = "ayesha@localhost" }), 422, "body.email"},
			{"email wrong type", valid(func(m map[string]any) { m["email"] = 5 }), 422, "body.email"},
			{"missing first name", valid(func(m map[string]any) { delete(m, "first_name") }), 422, "body.first_name"},
			{"blank last name", valid(func(m map[string]any) { m["last_name"] = "   " }), 422, "body.last_name"},
			{"bad phone", valid(func(m map[string]any) { m["phone"] = "12345" }), 422, "body.phone"},
			{"unknown field", valid(func(m map[string]any) { m["is_verified"] = true }), 422, "body.is_verified"},
			{"NUL in first name", valid(func(m map[string]any) { m["first_name"] = "Ay\x00esha" }), 422, "body.first_name"},
			{"NUL in email", valid(func(m map[string]any) { m["email"] = "ayesha\x00@example.com" }), 422, "body.email"},
			{"invalid UTF-8 in last name", "{\"email\":\"a@example.com\",\"password\":\"violet-lantern-87-orbit\",\"first_name\":\"A\",\"last_name\":\"Ma\xfflik\"}", 422, "body.last_name"},
			{"invalid UTF-8 in email", "{\"email\":\"a\xff@example.com\",\"password\":\"violet-lantern-87-orbit\",\"first_name\":\"A\",\"last_name\":\"B\"}", 422, "body.email"},
			{"bidi override in name", valid(func(m map[string]any) { m["last_name"] = "Malik\u202Egnp.exe" }), 422, "body.last_name"},
			{"bidi isolate in name", valid(func(m map[string]any) { m["first_name"] = "\u2067Ayesha" }), 422, "body.first_name"},
			{"NUL in phone", valid(func(m map[string]any) { m["phone"] = "0300\x001234567" }), 422, "body.phone"},
			{"not JSON", "{email: nope", 400, "body"},
			{"huge body", `{"email":"` + strings.Repeat("a", 20<<10) + `@example.com"}`, 413, ""},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register/", Body: tt.body})
				if res.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type %q", ct)
				}
				if tt.location != "" && !slices.Contains(apitest.ErrorLocations(t, res), tt.location) {
					t.Fatalf("errors do not name %s: %s", tt.location, res.Body)
				}
				if strings.Contains(string(res.Body), apitest.StrongPassword) || strings.Contains(string(res.Body), "password1") {
					t.Fatalf("problem echoes the password: %s", res.Body)
				}
				for _, table := range []string{"users", "email_tokens", "mail_outbox"} {
					if n := countRows(t, db, table); n != 0 {
						t.Fatalf("%d rows in %s after a refused registration", n, table)
					}
				}
			})
		}

		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register", Body: valid(nil)})
		if res.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", res.Status, res.Body)
		}
		var out struct {
			User    account.User `json:"user"`
			Access  string       `json:"access"`
			Refresh string       `json:"refresh"`
		}
		res.Decode(t, &out)
		if out.User.Email != "ayesha.malik@example.com" || out.User.Phone == nil || *out.User.Phone != "+923001234567" ||
			out.User.IsVerified || out.User.AvatarURL != nil || out.Access == "" || out.Refresh == "" {
			t.Fatalf("unexpected registration answer: %s", res.Body)
		}
		// One verification link, and its mail, stored with the account.
		if countRows(t, db, "email_tokens") != 1 || countRows(t, db, "mail_outbox") != 1 {
			t.Fatalf("%d email tokens and %d mails after a registration, want 1 and 1", countRows(t, db, "email_tokens"), countRows(t, db, "mail_outbox"))
		}
		var hash string
		_ = db.Read().QueryRow("SELECT password_hash FROM users").Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("stored hash %q", hash)
		}

		dup := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register/", Body: valid(func(m map[string]any) { m["email"] = "AYESHA.malik@example.com" })})
		if dup.Status != http.StatusConflict {
			t.Fatalf("duplicate email (other case): %d %s", dup.Status, dup.Body)
		}
	})
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		login := func(email, password string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": email, "password": password}})
		}
		ok := login(strings.ToUpper(u.Email), apitest.StrongPassword)
		if ok.Status != 200 || ok.JSON(t)["access"] == nil || ok.JSON(t)["user"] == nil {
			t.Fatalf("login: %d %s", ok.Status, ok.Body)
		}
		wrong := login(u.Email, "not-the-password-1")
		unknown := login("nobody@example.com", "not-the-password-1")
		if wrong.Status != 401 || unknown.Status != 401 {
			t.Fatalf("bad credentials: %d / %d", wrong.Status, unknown.Status)
		}
		if string(wrong.Body) != string(unknown.Body) {
			t.Fatalf("unknown email and wrong password answer differently:\n%s\n%s", wrong.Body, unknown.Body)
		}
		for _, email := range []string{u.Email + "\x00", "a\xff@example.com"} {
			res := login(email, "not-the-password-1")
			if res.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, res), "body.email") {
				t.Fatalf("login email %q: %d %s", email, res.Status, res.Body)
			}
		}
		bad := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]any{"email": u.Email}})
		if bad.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, bad), "body.password") {
			t.Fatalf("missing password: %d %s", bad.Status, bad.Body)
		}
	})
}

func TestLoginRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) {
			c.LoginAttemptsPerAccountAddress, c.LoginAttemptsPerAccount, c.LoginAttemptsPerAddress, c.LoginWindow = 3, 6, 8, 10*time.Minute
		}))
		const home = "192.0.2.10:5555" // where the victim signed up (and so signed in) from
		victim := s.SignUp(t)
		login := func(from, email, password string) *apitest.Response {
			s.Client = from
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": email, "password": password}})
		}
		// Per account and address: a stranger gets 3 tries, then waits...
		for i := range 3 {
			if res := login("198.51.100.1:1", victim.Email, "wrong-password-xyz"); res.Status != 401 {
				t.Fatalf("failure %d: %d", i+1, res.Status)
			}
		}
		limited := login("198.51.100.1:1", victim.Email, apitest.StrongPassword)
		if limited.Status != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
			t.Fatalf("4th attempt from one address: %d, Retry-After %q", limited.Status, limited.Header.Get("Retry-After"))
		}
		// ...while the owner, elsewhere, is not locked out.
		if res := login(home, victim.Email, apitest.StrongPassword); res.Status != 200 {
			t.Fatalf("owner after a stranger's failures: %d %s", res.Status, res.Body)
		}
		s.Clock.Advance(10*time.Minute + time.Second)
		// Per account: strangers spread over addresses get 6 tries in all...
		for i := range 6 {
			if res := login(fmt.Sprintf("203.0.113.%d:1", i/2+1), victim.Email, "wrong-password-xyz"); res.Status != 401 {
				t.Fatalf("distributed failure %d: %d", i+1, res.Status)
			}
		}
		if res := login("203.0.113.50:1", victim.Email, apitest.StrongPassword); res.Status != http.StatusTooManyRequests {
			t.Fatalf("account limit from a new address: %d", res.Status)
		}
		// ...and the owner still signs in from an address the account knows.
		if res := login(home, victim.Email, apitest.StrongPassword); res.Status != 200 {
			t.Fatalf("owner from a known address over the account limit: %d %s", res.Status, res.Body)
		}
		s.Clock.Advance(10*time.Minute + time.Second)
		if res := login("203.0.113.50:1", victim.Email, apitest.StrongPassword); res.Status != 200 {
			t.Fatalf("after the window: %d %s", res.Status, res.Body)
		}

		// Per address: failures spread over many accounts from one address.
		for i := range 8 {
			if res := login("203.0.113.9:1234", fmt.Sprintf("someone%d@example.com", i), "wrong-password-xyz"); res.Status != 401 {
				t.Fatalf("address failure %d: %d", i+1, res.Status)
			}
		}
		if res := login("203.0.113.9:1234", victim.Email, apitest.StrongPassword); res.Status != http.StatusTooManyRequests {
			t.Fatalf("address over its limit: %d", res.Status)
		}
	})
}

func TestLoginLimitHoldsUnderParallelAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const limit = 10
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.LoginAttemptsPerAccountAddress = limit }))
		victim := s.SignUp(t)
		var wg sync.WaitGroup
		statuses := make([]int, 100)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/",
					Body: map[string]string{"email": victim.Email, "password": "wrong-password-xyz"}}).Status
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, st := range statuses {
			counts[st]++
		}
		if counts[401] > limit || counts[401] == 0 || counts[401]+counts[429] != len(statuses) {
			t.Fatalf("100 parallel wrong passwords against a limit of %d: %v", limit, counts)
		}
	})
}

func TestPasswordHashingIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.HashQueueWait = 50 * time.Millisecond }))
		u := s.SignUp(t)
		release := auth.HoldHashing(s.Auth)
		for _, req := range []apitest.Request{
			{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": u.Email, "password": apitest.StrongPassword}},
			{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": "nobody@example.com", "password": apitest.StrongPassword}},
			{Method: "POST", Path: "/api/auth/register/", Body: map[string]string{"email": "new@example.com", "password": apitest.StrongPassword,
				"first_name": "New", "last_name": "Person"}},
		} {
			res := s.Do(t, req)
			if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
				t.Fatalf("%s while hashing is saturated: %d, Retry-After %q: %s", req.Path, res.Status, res.Header.Get("Retry-After"), res.Body)
			}
		}
		release()
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": u.Email, "password": apitest.StrongPassword}}); res.Status != 200 {
			t.Fatalf("login once hashing is free: %d %s", res.Status, res.Body)
		}
		if n := countRows(t, db, "users"); n != 1 {
			t.Fatalf("%d users: a refused registration was stored", n)
		}
	})
}

func TestRegistrationLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.RegistrationsPerAddress, c.RegistrationWindow = 3, time.Hour }))
		register := func(i int) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register/", Body: map[string]string{
				"email": fmt.Sprintf("reg%d@example.com", i), "password": apitest.StrongPassword, "first_name": "Reg", "last_name": "Istrant"}})
		}
		for i := range 3 {
			if res := register(i); res.Status != http.StatusCreated {
				t.Fatalf("registration %d: %d %s", i+1, res.Status, res.Body)
			}
		}
		if res := register(3); res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("4th registration from one address: %d %s", res.Status, res.Body)
		}
		if n := countRows(t, db, "users"); n != 3 {
			t.Fatalf("%d users stored", n)
		}
		s.Client = "198.51.100.20:1"
		if res := register(4); res.Status != http.StatusCreated {
			t.Fatalf("registration from another address: %d %s", res.Status, res.Body)
		}
		s.Client = "192.0.2.10:5555"
		s.Clock.Advance(time.Hour + time.Second)
		if res := register(5); res.Status != http.StatusCreated {
			t.Fatalf("registration after the window: %d %s", res.Status, res.Body)
		}
	})
}

func TestStoredHeadersAreSanitised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		ua := map[string]string{"User-Agent": "Mozilla/5.0 \xff\xfe\x00 evil"}
		wrong := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Header: ua,
			Body: map[string]string{"email": u.Email, "password": "wrong-password-xyz"}})
		if wrong.Status != 401 {
			t.Fatalf("wrong password with a non-UTF-8 User-Agent: %d %s", wrong.Status, wrong.Body)
		}
		var hits int
		if err := db.Read().QueryRow("SELECT hits FROM rate_limits WHERE key = $1", "login:pair:"+auth.LimitSubject(u.Email)+" 192.0.2.10").Scan(&hits); err != nil || hits != 1 {
			t.Fatalf("failed sign-in not counted: hits %d, %v", hits, err)
		}
		// Counters are keyed by a hash of the address, never the address.
		var plain int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM rate_limits WHERE key LIKE $1", "%"+u.Email+"%").Scan(&plain); err != nil || plain != 0 {
			t.Fatalf("%d rate-limit keys hold the email (%v)", plain, err)
		}
		ok := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Header: ua,
			Body: map[string]string{"email": u.Email, "password": apitest.StrongPassword}})
		if ok.Status != 200 {
			t.Fatalf("login with a non-UTF-8 User-Agent: %d %s", ok.Status, ok.Body)
		}
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Header: ua,
			Body: map[string]string{"refresh": ok.JSON(t)["refresh"].(string)}}); res.Status != 200 {
			t.Fatalf("refresh with a non-UTF-8 User-Agent: %d %s", res.Status, res.Body)
		}
		var stored string
		if err := db.Read().QueryRow("SELECT user_agent FROM audit_events WHERE kind = 'login.failed'").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != "Mozilla/5.0 \uFFFD\uFFFD evil" {
			t.Fatalf("stored user agent %q", stored)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		login := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": u.Email, "password": apitest.StrongPassword}})
		first := login.JSON(t)["refresh"].(string)
		refresh := func(token string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": token}})
		}
		profile := func(access string) int {
			return s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: access}).Status
		}

		r1 := refresh(first)
		if r1.Status != 200 {
			t.Fatalf("refresh: %d %s", r1.Status, r1.Body)
		}
		second, access2 := r1.JSON(t)["refresh"].(string), r1.JSON(t)["access"].(string)
		if second == first {
			t.Fatal("refresh token not rotated")
		}
		if profile(access2) != 200 {
			t.Fatal("new access token refused")
		}
		s.Clock.Advance(6 * time.Second) // past the grace window
		if res := refresh(first); res.Status != 401 {
			t.Fatalf("reusing the first refresh token: %d", res.Status)
		}
		// Reuse revoked the whole session: its newest tokens stop working at once.
		if st := profile(access2); st != 401 {
			t.Fatalf("access token of the revoked session: %d", st)
		}
		if res := refresh(second); res.Status != 401 {
			t.Fatalf("newest refresh token of the revoked session: %d", res.Status)
		}
		// Other sessions of the same user are untouched.
		if profile(u.Access) != 200 {
			t.Fatal("an unrelated session was revoked")
		}
		var reason string
		_ = db.Read().QueryRow("SELECT revoke_reason FROM sessions WHERE revoke_reason IS NOT NULL").Scan(&reason)
		if reason != "refresh token reused" {
			t.Fatalf("revoke reason %q", reason)
		}
		for _, tok := range []string{"", "garbage"} {
			if res := refresh(tok); res.Status/100 != 4 {
				t.Fatalf("refresh %q: %d", tok, res.Status)
			}
		}
	})
}

func TestConcurrentRefreshesShareOnePair(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.RefreshGrace = 3 * time.Second }))
		u := s.SignUp(t)
		refresh := func(token string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": token}})
		}
		// Ten tabs refresh with the same token at once: all get the same new pair.
		answers := make([]*apitest.Response, 10)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() { answers[i] = refresh(u.Refresh) })
		}
		wg.Wait()
		for i, res := range answers {
			if res.Status != 200 || string(res.Body) != string(answers[0].Body) {
				t.Fatalf("refresh %d: %d %s, want the pair %s", i, res.Status, res.Body, answers[0].Body)
			}
		}
		pair := answers[0].JSON(t)
		// A retry within the grace window gets it too; the new pair works.
		s.Clock.Advance(2 * time.Second)
		if res := refresh(u.Refresh); res.Status != 200 || string(res.Body) != string(answers[0].Body) {
			t.Fatalf("refresh within the grace: %d %s", res.Status, res.Body)
		}
		if st := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: pair["access"].(string)}).Status; st != 200 {
			t.Fatalf("graced access token: %d", st)
		}
		var stored int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM sessions WHERE refresh_hash = $1", []byte(pair["refresh"].(string))).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("a refresh token is stored in the clear (%d rows, %v)", stored, err)
		}
		// After the window the old token is reuse: the session ends.
		s.Clock.Advance(2 * time.Second)
		if res := refresh(u.Refresh); res.Status != 401 {
			t.Fatalf("old token after the grace: %d %s", res.Status, res.Body)
		}
		if res := refresh(pair["refresh"].(string)); res.Status != 401 {
			t.Fatalf("new token of a revoked session: %d %s", res.Status, res.Body)
		}
	})
}

func TestSessionLifetimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		refresh := func(token string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": token}})
		}
		// Access tokens last 15 minutes.
		u := s.SignUp(t)
		s.Clock.Advance(16 * time.Minute)
		if st := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access}).Status; st != 401 {
			t.Fatalf("expired access token: %d", st)
		}
		// Idle timeout: 7 days without use ends the session.
		s.Clock.Advance(7 * 24 * time.Hour)
		if res := refresh(u.Refresh); res.Status != 401 {
			t.Fatalf("refresh after 7 idle days: %d", res.Status)
		}
		// Absolute lifetime: used every 6 days, it still ends at 30 days.
		v := s.SignUp(t)
		token := v.Refresh
		for day := 6; day < 30; day += 6 {
			s.Clock.Advance(6 * 24 * time.Hour)
			res := refresh(token)
			if res.Status != 200 {
				t.Fatalf("refresh on day %d: %d", day, res.Status)
			}
			token = res.JSON(t)["refresh"].(string)
		}
		s.Clock.Advance(6 * 24 * time.Hour)
		if res := refresh(token); res.Status != 401 {
			t.Fatalf("refresh after 30 days: %d", res.Status)
		}
	})
}

func TestLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		other := s.SignUp(t)
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/logout/", Body: map[string]string{"refresh": u.Refresh}})
		if res.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", res.Status, res.Body)
		}
		if st := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access}).Status; st != 401 {
			t.Fatalf("access after logout: %d", st)
		}
		if st := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": u.Refresh}}).Status; st != 401 {
			t.Fatalf("refresh after logout: %d", st)
		}
		if st := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: other.Access}).Status; st != 200 {
			t.Fatalf("another user's session: %d", st)
		}
		// An unknown token ends nothing and reveals nothing.
		if st := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/logout/", Body: map[string]string{"refresh": "unknown"}}).Status; st != 204 {
			t.Fatalf("logout with unknown token: %d", st)
		}
	})
}

func TestProfileRequiresValidToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		other := s.SignUp(t)
		tests := []struct {
			name   string
			header map[string]string
			status int
		}{
			{"no token", nil, 401},
			{"not bearer", map[string]string{"Authorization": "Basic " + u.Access}, 401},
			{"garbage", map[string]string{"Authorization": "Bearer abc.def.ghi"}, 401},
			{"refresh token as access", map[string]string{"Authorization": "Bearer " + u.Refresh}, 401},
			{"valid", map[string]string{"Authorization": "Bearer " + u.Access}, 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Header: tt.header})
				if res.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
				}
				if tt.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
				if tt.status == 200 {
					body := res.JSON(t)
					if body["email"] != u.Email || body["email"] == other.Email {
						t.Fatalf("profile of the wrong user: %s", res.Body)
					}
				}
			})
		}
	})
}

func TestLoginUpgradesWeakHashes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		weak := apitest.New(t, db)
		u := weak.SignUp(t) // hashed with apitest.CheapArgon2
		stronger := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) { c.Argon2 = auth.Argon2Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1} }))
		res := stronger.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": u.Email, "password": apitest.StrongPassword}})
		if res.Status != 200 {
			t.Fatalf("login: %d", res.Status)
		}
		var hash string
		_ = db.Read().QueryRow("SELECT password_hash FROM users WHERE id = $1", u.UserID).Scan(&hash)
		if !strings.Contains(hash, "m=128,t=2,p=1") {
			t.Fatalf("hash not upgraded: %s", hash)
		}
	})
}

func TestResetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		ctx := context.Background()
		if err := s.Auth.ResetPassword(ctx, u.UserID, "password", "password1", auth.Client{}); err == nil {
			t.Fatal("weak password accepted")
		}
		if id, err := s.Auth.UserIDByEmail(ctx, strings.ToUpper(u.Email)); err != nil || id != u.UserID {
			t.Fatalf("UserIDByEmail: %d %v", id, err)
		}
		if err := s.Auth.ResetPassword(ctx, u.UserID, "password", "amber-quartz-51-meadow", auth.Client{}); err != nil {
			t.Fatal(err)
		}
		if st := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access}).Status; st != 401 {
			t.Fatalf("old session after reset: %d", st)
		}
		login := func(pw string) int {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": u.Email, "password": pw}}).Status
		}
		if login(apitest.StrongPassword) != 401 || login("amber-quartz-51-meadow") != 200 {
			t.Fatal("login does not follow the reset")
		}
	})
}
