package audit_test

import (
	"context"
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/audit"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

type logPage struct {
	Next    *string `json:"next"`
	Results []struct {
		ID        int64
		Action    string
		IP        string
		UserAgent string `json:"user_agent"`
		Details   map[string]string
		At        time.Time
	}
}

func securityLog(t *testing.T, s *apitest.Server, token, query string) logPage {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/security-log/" + query, Token: token})
	if res.Status != 200 {
		t.Fatalf("security log %s: %d %s", query, res.Status, res.Body)
	}
	var p logPage
	res.Decode(t, &p)
	return p
}

func TestSecurityLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)
		login := func(email, password string) int {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Header: map[string]string{"User-Agent": "Firefox/127.0"},
				Body: map[string]string{"email": email, "password": password}}).Status
		}
		if login(me.Email, "wrong-password-999") != 401 || login(me.Email, apitest.StrongPassword) != 200 || login(other.Email, "wrong-password-999") != 401 {
			t.Fatal("logins")
		}
		if res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/profile/", Token: me.Access,
			Body: map[string]any{"first_name": "Renamed", "phone": "0300 1234567"}}); res.Status != 200 {
			t.Fatalf("profile: %d", res.Status)
		}

		all := securityLog(t, s, me.Access, "")
		var actions []string
		for _, r := range all.Results {
			actions = append(actions, r.Action)
		}
		want := []string{"profile.updated", "login.succeeded", "login.failed", "login.succeeded", "user.registered"}
		if !slices.Equal(actions, want) {
			t.Fatalf("actions, newest first: %v, want %v", actions, want)
		}
		top := all.Results[0]
		if top.IP != "192.0.2.10" || top.Details["fields"] != "first_name,phone" || top.At.IsZero() {
			t.Fatalf("profile entry: %+v", top)
		}
		if all.Results[2].UserAgent != "Firefox/127.0" {
			t.Fatalf("failed login entry: %+v", all.Results[2])
		}
		if strings.Contains(strings.Join(actions, ","), "Renamed") {
			t.Fatal("an entry holds a profile value")
		}
		// Only one's own entries.
		for _, r := range securityLog(t, s, other.Access, "").Results {
			if r.Action == "profile.updated" || r.Action == "login.succeeded" && r.UserAgent == "Firefox/127.0" {
				t.Fatalf("another user's log shows %+v", r)
			}
		}

		// Pages follow the next link to the end.
		var paged []string
		path := "/api/dashboard/user/security-log/?page_size=2"
		for pages := 0; path != ""; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			res := s.Do(t, apitest.Request{Method: "GET", Path: path, Token: me.Access})
			var p logPage
			res.Decode(t, &p)
			for _, r := range p.Results {
				paged = append(paged, r.Action)
			}
			path = ""
			if p.Next != nil {
				path = *p.Next
			}
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged: %v", paged)
		}
		for _, q := range []string{"?page_size=0", "?page_size=101", "?cursor=abc", "?cursor=-3"} {
			if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/security-log/" + q, Token: me.Access}); res.Status != 422 {
				t.Fatalf("%s: %d", q, res.Status)
			}
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/security-log/"}); res.Status != http.StatusUnauthorized {
			t.Fatalf("without a token: %d", res.Status)
		}
	})
}

func TestPurgeAndCleanText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		log := audit.NewLog(audit.Config{DB: db, Now: clock, Retention: 30 * 24 * time.Hour})
		var userID int64
		if err := db.Write().QueryRow(`INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at)
			VALUES ('a@example.com', 'x', 'A', 'B', 1, 1) RETURNING id`).Scan(&userID); err != nil {
			t.Fatal(err)
		}
		record := func(at time.Time, e audit.Entry) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, e, at) }); err != nil {
				t.Fatal(err)
			}
		}
		record(now.Add(-31*24*time.Hour), audit.Entry{UserID: userID, Action: "login.succeeded"})
		record(now.Add(-29*24*time.Hour), audit.Entry{UserID: userID, Action: "login.failed",
			UserAgent: "bad\x00agent\xff", Details: map[string]string{"note": strings.Repeat("é", 300)}})
		record(now, audit.Entry{Action: "login.failed"}) // no known account
		n, err := log.Purge(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		page, err := log.List(ctx, userID, 0, 10)
		if err != nil || len(page.Results) != 1 {
			t.Fatalf("after purge: %+v %v", page, err)
		}
		e := page.Results[0]
		if e.UserAgent != "bad\uFFFDagent\uFFFD" || len(e.Details["note"]) > 256 {
			t.Fatalf("stored text is not cleaned: %q %d", e.UserAgent, len(e.Details["note"]))
		}
	})
}
