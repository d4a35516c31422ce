package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/auth"
	"callboard/internal/calls"
	"callboard/internal/mail"
	"callboard/internal/mailtest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// TestRunDoesBackgroundWorkAndStops: the background work that used to be a
// loop in the binary (auth's purge) runs in app.Run from the start, and Run
// returns once its context ends.
func TestRunDoesBackgroundWorkAndStops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now()
		stale := now.Add(-time.Hour).UnixMilli()
		if _, err := db.Write().Exec(`INSERT INTO rate_limits (key, window_start, hits) VALUES ('login:account:stale@example.com', $1, 3)`, stale); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(app.Config{DB: db, Auth: auth.Config{SigningKey: []byte("test-signing-key-0123456789abcdef0123456789"), Argon2: apitest.CheapArgon2},
			Calls: calls.Config{PlatformKey: apitest.PlatformKey}, Mail: mail.Config{Transport: &mail.Files{Dir: t.TempDir()}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			if err := db.Read().QueryRow(`SELECT COUNT(*) FROM rate_limits`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the expired rate-limit window was not purged by app.Run")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop after its context ended")
		}
	})
}

// TestEveryCapabilityIsMounted: the list in New is what the router serves;
// each capability's first route answers (401 without a token, not 404).
func TestEveryCapabilityIsMounted(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	for _, path := range []string{
		"/api/dashboard/user/",          // dashboard
		"/api/dashboard/user/profile/",  // account
		"/api/dashboard/user/calls/",    // calls
		"/api/dashboard/user/settings/", // account
	} {
		if res := s.Do(t, apitest.Request{Method: "GET", Path: path}); res.Status != 401 {
			t.Errorf("GET %s without a token: %d, want 401", path, res.Status)
		}
	}
	if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: `{"email": "x@example.com", "password": "wrong"}`}); res.Status != 401 {
		t.Errorf("login (auth): %d, want 401", res.Status)
	}
	if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: `{"calls": []}`}); res.Status != 401 {
		t.Errorf("ingest without the platform key (calls): %d, want 401", res.Status)
	}
}

// TestBillingEventsAreAuditedAndNotified: a plan change, through the real
// wiring, writes an entry to the user's security log and raises a billing
// notification (billing knows neither; app's adapter connects them).
func TestBillingEventsAreAuditedAndNotified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/subscription/change/", Token: u.Access,
			Body: map[string]string{"plan": "pro"}}); res.Status != 200 {
			t.Fatalf("upgrade: %d %s", res.Status, res.Body)
		}
		var log struct {
			Results []struct{ Action string } `json:"results"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/security-log/", Token: u.Access}).Decode(t, &log)
		audited := false
		for _, e := range log.Results {
			audited = audited || strings.HasPrefix(e.Action, "billing.")
		}
		var notes struct {
			Results []struct{ Category string } `json:"results"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/notifications/", Token: u.Access}).Decode(t, &notes)
		notified := false
		for _, n := range notes.Results {
			notified = notified || n.Category == "billing"
		}
		if !audited || !notified {
			t.Fatalf("audited %v (%+v), notified %v (%+v)", audited, log.Results, notified, notes.Results)
		}
	})
}

// TestMailServerDownFailsNoRequest: with the SMTP server down, registering
// and asking for a password reset answer as always (their mail waits in
// the outbox); once the server is back every mail arrives, and the
// verification link in it works.
func TestMailServerDownFailsNoRequest(t *testing.T) {
	mp := mailtest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mp.Stop()
		s := apitest.New(t, db, apitest.WithSMTP(t, mp.SMTPURL()))
		start := time.Now()
		u := s.SignUp(t)
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/password-reset/", Body: map[string]string{"email": u.Email}}); res.Status != 202 {
			t.Fatalf("reset request with the mail server down: %d %s", res.Status, res.Body)
		}
		t.Logf("register and reset request answered in %v with the mail server down", time.Since(start).Round(time.Millisecond))

		// Both mails are tried and fail while the server is down.
		deadline := time.Now().Add(20 * time.Second)
		for {
			var tried int
			if err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE recipient = $1 AND attempts > 0 AND last_error <> '' AND sent_at IS NULL`, u.Email).Scan(&tried); err != nil {
				t.Fatal(err)
			}
			if tried == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of 2 mails tried while the server was down", tried)
			}
			time.Sleep(50 * time.Millisecond)
		}

		mp.Restart(t)
		// The test clock stands still: the retries fall due as time passes.
		s.Clock.Advance(2 * time.Minute)
		mp.WaitSubject(t, u.Email, "Reset your Callboard password", 20*time.Second)
		verification := mp.WaitSubject(t, u.Email, "Confirm your email address for Callboard", 20*time.Second)
		_, token, ok := strings.Cut(verification.Text, "/verify-email#token=")
		if !ok {
			t.Fatalf("no link in %q", verification.Text)
		}
		token, _, _ = strings.Cut(token, "\n")
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/verify-email/", Body: map[string]string{"token": strings.TrimSpace(token)}})
		if res.Status != 200 || res.JSON(t)["is_verified"] != true {
			t.Fatalf("verify with the delayed link: %d %s", res.Status, res.Body)
		}
	})
}
