package auth_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
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
				if n := countRows(t, db, "users"); n != 0 {
					t.Fatalf("%d users stored after a refused registration", n)
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
		bad := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]any{"email": u.Email}})
		if bad.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, bad), "body.password") {
			t.Fatalf("missing password: %d %s", bad.Status, bad.Body)
		}
	})
}

func TestLoginRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.WithAuth(func(c *auth.Config) {
			c.LoginFailuresPerAccount, c.LoginFailuresPerAddress, c.LoginWindow = 3, 5, 10*time.Minute
		}))
		victim := s.SignUp(t)
		login := func(email, password string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": email, "password": password}})
		}
		for i := range 3 {
			if res := login(victim.Email, "wrong-password-xyz"); res.Status != 401 {
				t.Fatalf("failure %d: %d", i+1, res.Status)
			}
		}
		limited := login(victim.Email, apitest.StrongPassword)
		if limited.Status != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
			t.Fatalf("4th attempt on the account: %d, Retry-After %q", limited.Status, limited.Header.Get("Retry-After"))
		}
		// Another address may not sign in to that account either: the limit is per account.
		s.Client = "198.51.100.7:4000"
		if res := login(victim.Email, apitest.StrongPassword); res.Status != http.StatusTooManyRequests {
			t.Fatalf("account limit from another address: %d", res.Status)
		}
		s.Clock.Advance(10*time.Minute + time.Second)
		if res := login(victim.Email, apitest.StrongPassword); res.Status != 200 {
			t.Fatalf("after the window: %d %s", res.Status, res.Body)
		}

		// Per address: failures spread over many accounts from one address.
		s.Client = "203.0.113.9:1234"
		for i := range 5 {
			if res := login("someone"+string(rune('a'+i))+"@example.com", "wrong-password-xyz"); res.Status != 401 {
				t.Fatalf("address failure %d: %d", i+1, res.Status)
			}
		}
		if res := login(victim.Email, apitest.StrongPassword); res.Status != http.StatusTooManyRequests {
			t.Fatalf("address over its limit: %d", res.Status)
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
