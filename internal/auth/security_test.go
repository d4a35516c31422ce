package auth_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"callboard/internal/apitest"
	"callboard/internal/auth"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// signIn starts another session of u with a user agent.
func signIn(t *testing.T, s *apitest.Server, email, password, userAgent string) apitest.Session {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Header: map[string]string{"User-Agent": userAgent},
		Body: map[string]string{"email": email, "password": password}})
	if res.Status != 200 {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	var out struct {
		User            struct{ ID int64 }
		Access, Refresh string
	}
	res.Decode(t, &out)
	return apitest.Session{UserID: out.User.ID, Email: email, Access: out.Access, Refresh: out.Refresh}
}

func status(t *testing.T, s *apitest.Server, method, path, token string, body any) *apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: method, Path: path, Token: token, Body: body})
}

func refresh(t *testing.T, s *apitest.Server, token string) int {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": token}}).Status
}

// auditActions lists the user's security-log actions, newest first.
func auditActions(t *testing.T, s *apitest.Server, token string) []string {
	t.Helper()
	var out struct{ Results []struct{ Action string } }
	res := status(t, s, "GET", "/api/dashboard/user/security-log/?page_size=100", token, nil)
	if res.Status != 200 {
		t.Fatalf("security log: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &out)
	var actions []string
	for _, r := range out.Results {
		actions = append(actions, r.Action)
	}
	return actions
}

// notificationKinds lists the user's notification kinds, newest first.
func notificationKinds(t *testing.T, s *apitest.Server, token string) []string {
	t.Helper()
	var out struct{ Results []struct{ Kind string } }
	status(t, s, "GET", "/api/dashboard/user/notifications/", token, nil).Decode(t, &out)
	var kinds []string
	for _, r := range out.Results {
		kinds = append(kinds, r.Kind)
	}
	return kinds
}

const newPassword = "copper-monsoon-42-falcon"

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		phone := signIn(t, s, me.Email, apitest.StrongPassword, "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36")
		other := s.SignUp(t)
		const path = "/api/dashboard/user/change-password/"

		bad := []struct {
			name string
			body any
			loc  string
		}{
			{"wrong current password", map[string]string{"current_password": "not-the-password-1", "new_password": newPassword}, "body.current_password"},
			{"no current password", map[string]string{"new_password": newPassword}, "body.current_password"},
			{"too short", map[string]string{"current_password": apitest.StrongPassword, "new_password": "abc"}, "body.new_password"},
			{"guessable", map[string]string{"current_password": apitest.StrongPassword, "new_password": "password123"}, "body.new_password"},
			{"contains the email", map[string]string{"current_password": apitest.StrongPassword, "new_password": strings.Split(me.Email, "@")[0] + "-orbit-lantern"}, "body.new_password"},
			{"same as before", map[string]string{"current_password": apitest.StrongPassword, "new_password": apitest.StrongPassword}, "body.new_password"},
			{"unknown field", map[string]string{"current_password": apitest.StrongPassword, "new_password": newPassword, "user_id": "1"}, "body.user_id"},
		}
		for _, tc := range bad {
			res := status(t, s, "POST", path, me.Access, tc.body)
			if res.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, res), tc.loc) {
				t.Fatalf("%s: %d %s, want 422 naming %s", tc.name, res.Status, res.Body, tc.loc)
			}
			if strings.Contains(string(res.Body), apitest.StrongPassword) {
				t.Fatalf("%s: the answer echoes a password", tc.name)
			}
		}
		if res := status(t, s, "GET", "/api/dashboard/user/sessions/", phone.Access, nil); res.Status != 200 {
			t.Fatalf("a refused change signed other devices out: %d", res.Status)
		}
		if res := status(t, s, "POST", path, "", map[string]string{"current_password": apitest.StrongPassword, "new_password": newPassword}); res.Status != 401 {
			t.Fatalf("without a token: %d", res.Status)
		}

		res := status(t, s, "POST", path, me.Access, map[string]string{"current_password": apitest.StrongPassword, "new_password": newPassword})
		if res.Status != http.StatusNoContent {
			t.Fatalf("change: %d %s", res.Status, res.Body)
		}
		// The other session's access and refresh tokens answer 401 at once.
		if res := status(t, s, "GET", "/api/dashboard/user/profile/", phone.Access, nil); res.Status != 401 {
			t.Fatalf("other session's access token: %d", res.Status)
		}
		if st := refresh(t, s, phone.Refresh); st != 401 {
			t.Fatalf("other session's refresh token: %d", st)
		}
		// This session stays; another user's sessions are not touched.
		if res := status(t, s, "GET", "/api/dashboard/user/profile/", me.Access, nil); res.Status != 200 {
			t.Fatalf("own access token: %d", res.Status)
		}
		if st := refresh(t, s, me.Refresh); st != 200 {
			t.Fatalf("own refresh token: %d", st)
		}
		if res := status(t, s, "GET", "/api/dashboard/user/profile/", other.Access, nil); res.Status != 200 {
			t.Fatalf("another user's session: %d", res.Status)
		}
		for pw, want := range map[string]int{apitest.StrongPassword: 401, newPassword: 200} {
			if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": pw}}); res.Status != want {
				t.Fatalf("login with %s: %d, want %d", pw, res.Status, want)
			}
		}
		if a := auditActions(t, s, me.Access); !slices.Contains(a, "password.changed") || !slices.Contains(a, "password.change_failed") {
			t.Fatalf("security log: %v", a)
		}
		if k := notificationKinds(t, s, me.Access); !slices.Contains(k, "password.changed") {
			t.Fatalf("notifications: %v", k)
		}
		if k := notificationKinds(t, s, other.Access); slices.Contains(k, "password.changed") {
			t.Fatalf("another user was notified: %v", k)
		}
	})
}

func TestChangePasswordLimitsWrongGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		for i := range 6 {
			res := status(t, s, "POST", "/api/dashboard/user/change-password/", me.Access,
				map[string]string{"current_password": fmt.Sprintf("guess-number-%d", i), "new_password": newPassword})
			want := 422
			if i == 5 {
				want = 429
			}
			if res.Status != want {
				t.Fatalf("guess %d: %d, want %d", i+1, res.Status, want)
			}
		}
		// Even the right password waits out the window.
		res := status(t, s, "POST", "/api/dashboard/user/change-password/", me.Access,
			map[string]string{"current_password": apitest.StrongPassword, "new_password": newPassword})
		if res.Status != 429 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("right password while limited: %d", res.Status)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		phone := signIn(t, s, me.Email, apitest.StrongPassword, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
		other := s.SignUp(t)
		signIn(t, s, other.Email, apitest.StrongPassword, "curl/8.5.0")

		var list struct {
			Results []struct {
				ID       int64
				Device   string
				IP       string
				Mobile   bool
				Current  bool
				Created  string `json:"created_at"`
				LastUsed string `json:"last_used_at"`
			}
		}
		res := status(t, s, "GET", "/api/dashboard/user/sessions/", me.Access, nil)
		if res.Status != 200 {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		res.Decode(t, &list)
		if len(list.Results) != 2 {
			t.Fatalf("sessions: %s", res.Body)
		}
		var phoneID, mineID int64
		for _, r := range list.Results {
			if r.IP != "192.0.2.10" || r.Created == "" || r.LastUsed == "" {
				t.Fatalf("session fields: %+v", r)
			}
			if r.Current {
				mineID = r.ID
			} else {
				phoneID = r.ID
				if r.Device != "Safari on iOS" || !r.Mobile {
					t.Fatalf("device of the phone: %+v", r)
				}
			}
		}
		if mineID == 0 || phoneID == 0 {
			t.Fatalf("exactly one session is current: %s", res.Body)
		}
		var otherList struct{ Results []struct{ ID int64 } }
		status(t, s, "GET", "/api/dashboard/user/sessions/", other.Access, nil).Decode(t, &otherList)
		if len(otherList.Results) != 2 {
			t.Fatalf("another user's sessions: %+v", otherList)
		}
		otherID := otherList.Results[0].ID

		cases := []struct {
			name string
			path string
			want int
		}{
			{"another user's session", fmt.Sprintf("/api/dashboard/user/sessions/%d/", otherID), 404},
			{"no such session", "/api/dashboard/user/sessions/999999/", 404},
			{"not an id", "/api/dashboard/user/sessions/abc/", 422},
			{"the phone", fmt.Sprintf("/api/dashboard/user/sessions/%d/", phoneID), 204},
			{"the phone again", fmt.Sprintf("/api/dashboard/user/sessions/%d/", phoneID), 404},
		}
		for _, tc := range cases {
			if res := status(t, s, "DELETE", tc.path, me.Access, nil); res.Status != tc.want {
				t.Fatalf("%s: %d %s, want %d", tc.name, res.Status, res.Body, tc.want)
			}
		}
		if res := status(t, s, "GET", "/api/dashboard/user/profile/", phone.Access, nil); res.Status != 401 {
			t.Fatalf("revoked session's access token: %d", res.Status)
		}
		if st := refresh(t, s, phone.Refresh); st != 401 {
			t.Fatalf("revoked session's refresh token: %d", st)
		}
		for _, sess := range []apitest.Session{me, other} {
			if res := status(t, s, "GET", "/api/dashboard/user/profile/", sess.Access, nil); res.Status != 200 {
				t.Fatalf("an unrelated session ended: %d", res.Status)
			}
		}
		if a := auditActions(t, s, me.Access); !slices.Contains(a, "session.revoked") {
			t.Fatalf("security log: %v", a)
		}
		// A new sign-in was notified.
		if k := notificationKinds(t, s, me.Access); !slices.Contains(k, "signin.new") {
			t.Fatalf("notifications: %v", k)
		}
		if res := status(t, s, "GET", "/api/dashboard/user/sessions/", "", nil); res.Status != 401 {
			t.Fatalf("list without a token: %d", res.Status)
		}
	})
}

func TestParseDevice(t *testing.T) {
	cases := []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 OPR/82.0", "Opera on Android"},
		{"curl/8.5.0", "curl"},
		{"", "Unknown device"},
	}
	for _, tc := range cases {
		if got := auth.DescribeDevice(tc.ua); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.ua, got, tc.want)
		}
	}
}
