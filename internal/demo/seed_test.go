package demo_test

import (
	"context"
	"testing"

	"callboard/internal/apitest"
	"callboard/internal/demo"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		services := demo.Services{Auth: s.Auth, Account: s.Account, Calls: s.Calls, Billing: s.Billing, Notify: s.Notify, Now: s.Clock.Now}
		first, err := demo.Seed(context.Background(), services)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Created || first.Email != demo.Email {
			t.Fatalf("first seed: %+v", first)
		}
		login := func(pw string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": demo.Email, "password": pw}})
		}
		res := login(first.Password)
		if res.Status != 200 {
			t.Fatalf("demo login: %d", res.Status)
		}
		var o struct {
			Timezone  string `json:"timezone"`
			CallStats struct {
				AllTime struct {
					TotalCalls     int `json:"total_calls"`
					CompletedCalls int `json:"completed_calls"`
				} `json:"all_time"`
			} `json:"call_stats"`
			Agents []struct{} `json:"agents"`
		}
		// An operator's account: its address counts as verified (the
		// platform routes calls by it) and no verification mail is queued.
		var p struct {
			IsVerified bool `json:"is_verified"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: res.JSON(t)["access"].(string)}).Decode(t, &p)
		var mails int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE kind = 'verify-email'`).Scan(&mails); err != nil || !p.IsVerified || mails != 0 {
			t.Fatalf("demo account verified %v, %d verification mails (%v)", p.IsVerified, mails, err)
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: res.JSON(t)["access"].(string)}).Decode(t, &o)
		if o.Timezone != "Asia/Karachi" || o.CallStats.AllTime.TotalCalls < 1000 || o.CallStats.AllTime.CompletedCalls == 0 || len(o.Agents) == 0 {
			t.Fatalf("demo overview: %+v", o)
		}

		// Billing: Pro, paid invoices for the past months, usage near the limit.
		var sub struct {
			Current struct {
				Plan   struct{ Code string } `json:"plan"`
				Status string
			} `json:"current"`
			Usage struct {
				PercentUsed float64 `json:"percent_used"`
			} `json:"usage"`
			BillingHistory struct {
				Invoices []struct{ Status string } `json:"invoices"`
			} `json:"billing_history"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/subscription/", Token: res.JSON(t)["access"].(string)}).Decode(t, &sub)
		paid := 0
		for _, inv := range sub.BillingHistory.Invoices {
			if inv.Status == "paid" {
				paid++
			}
		}
		if sub.Current.Plan.Code != "pro" || sub.Current.Status != "active" || paid < 2 || sub.Usage.PercentUsed < 60 || sub.Usage.PercentUsed > 100 {
			t.Fatalf("demo subscription: %+v", sub)
		}

		// A mix of read and unread notifications, the overview counting the unread.
		var page struct {
			UnreadCount int `json:"unread_count"`
			Results     []struct {
				Category string
				Read     bool
			}
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/notifications/?page_size=100", Token: res.JSON(t)["access"].(string)}).Decode(t, &page)
		read, categories := 0, map[string]bool{}
		for _, n := range page.Results {
			if n.Read {
				read++
			}
			categories[n.Category] = true
		}
		// Six from the seed, and the sign-in of this test.
		if page.UnreadCount != 7 || read == 0 || !categories["calls"] || !categories["security"] || !categories["system"] {
			t.Fatalf("demo notifications: %d unread, %d of %d listed read, categories %v", page.UnreadCount, read, len(page.Results), categories)
		}

		again, err := demo.Seed(context.Background(), services)
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || again.Password == first.Password {
			t.Fatalf("second seed must only change the password: %+v", again)
		}
		if login(first.Password).Status != 401 || login(again.Password).Status != 200 {
			t.Fatal("the old demo password still works, or the new one does not")
		}
	})
}
