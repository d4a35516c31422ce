package dashboard_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

func TestOverviewHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)
		s.MarkVerified(t, me.UserID) // m2 is routed by email
		started := s.Clock.Now().Add(-2 * time.Hour).Format(time.RFC3339)
		ingest := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
			Body: map[string]any{"calls": []map[string]any{
				{"external_id": "m1", "user_id": me.UserID, "agent": map[string]any{"external_id": "a", "name": "Sana"}, "direction": "inbound",
					"from_number": "+923001234567", "to_number": "+924235761000", "status": "completed", "started_at": started, "duration_seconds": 120, "satisfaction": 5},
				{"external_id": "m2", "user_email": me.Email, "direction": "outbound",
					"from_number": "+924235761000", "to_number": "+923001234567", "status": "no-answer", "started_at": started},
				{"external_id": "o1", "user_id": other.UserID, "direction": "inbound",
					"from_number": "+923009999999", "to_number": "+924235761000", "status": "completed", "started_at": started, "duration_seconds": 600},
			}}})
		if ingest.Status != 200 {
			t.Fatalf("ingest: %d %s", ingest.Status, ingest.Body)
		}

		var o struct {
			User struct {
				Email string `json:"email"`
			} `json:"user"`
			Subscription        *struct{ Plan string } `json:"subscription"`
			UnreadNotifications *int                   `json:"unread_notifications"`
			CallStats           struct {
				CurrentPeriod struct {
					TotalCalls  int     `json:"total_calls"`
					MissedCalls int     `json:"missed_calls"`
					SuccessRate float64 `json:"success_rate"`
				} `json:"current_period"`
			} `json:"call_stats"`
			RecentCalls []struct {
				ExternalID string `json:"external_id"`
			} `json:"recent_calls"`
			Trend  []struct{ Date string } `json:"trend"`
			Agents []struct{ Name string } `json:"agents"`
		}
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: me.Access})
		if res.Status != 200 {
			t.Fatalf("overview: %d %s", res.Status, res.Body)
		}
		res.Decode(t, &o)
		// A new user is on the free plan (billing starts it on first read);
		// both finished calls raised a notification (notify), still unread.
		if o.User.Email != me.Email || o.Subscription == nil || o.Subscription.Plan != "Free" ||
			o.UnreadNotifications == nil || *o.UnreadNotifications != 2 {
			t.Fatalf("overview head: %s", res.Body)
		}
		if c := o.CallStats.CurrentPeriod; c.TotalCalls != 2 || c.MissedCalls != 1 || c.SuccessRate != 50 {
			t.Fatalf("another user's calls leaked into the stats, or wrong numbers: %+v", c)
		}
		var ids []string
		for _, r := range o.RecentCalls {
			ids = append(ids, r.ExternalID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"m1", "m2"}) {
			t.Fatalf("recent calls %v", ids)
		}
		if len(o.Trend) != 30 || len(o.Agents) != 2 {
			t.Fatalf("trend %d days, agents %+v", len(o.Trend), o.Agents)
		}

		// The other user's one call is not rated: its average is null, not 0.
		var unrated struct {
			CallStats struct {
				CurrentPeriod map[string]any `json:"current_period"`
			} `json:"call_stats"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: other.Access}).Decode(t, &unrated)
		if v, ok := unrated.CallStats.CurrentPeriod["average_satisfaction"]; !ok || v != nil {
			t.Fatalf("average_satisfaction of unrated calls = %v (present %v), want null", v, ok)
		}

		tests := []struct {
			name     string
			path     string
			token    string
			status   int
			location string
		}{
			{"seven days", "/api/dashboard/user/?days=7", me.Access, 200, ""},
			{"ninety days, no slash", "/api/dashboard/user?days=90", me.Access, 200, ""},
			{"days not offered", "/api/dashboard/user/?days=8", me.Access, 422, "query.days"},
			{"days not a number", "/api/dashboard/user/?days=week", me.Access, 422, "query.days"},
			{"no token", "/api/dashboard/user/", "", 401, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := s.Do(t, apitest.Request{Method: "GET", Path: tt.path, Token: tt.token})
				if res.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
				}
				if tt.location != "" && !slices.Contains(apitest.ErrorLocations(t, res), tt.location) {
					t.Fatalf("errors do not name %s: %s", tt.location, res.Body)
				}
				if tt.status == http.StatusOK {
					var n struct{ Trend []any }
					res.Decode(t, &n)
					if want := map[string]int{"/api/dashboard/user/?days=7": 7, "/api/dashboard/user?days=90": 90}[tt.path]; len(n.Trend) != want {
						t.Fatalf("trend has %d days, want %d", len(n.Trend), want)
					}
				}
			})
		}
	})
}

// TestTimezonePreferenceRebuildsStats goes through the real wiring: a
// preferences PATCH moves the overview's days at once.
func TestTimezonePreferenceRebuildsStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		// 23:30 UTC yesterday is already today in Karachi (UTC+5).
		y, m, d := s.Clock.Now().Add(-24 * time.Hour).Date()
		late := time.Date(y, m, d, 23, 30, 0, 0, time.UTC)
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
			Body: map[string]any{"calls": []map[string]any{{"external_id": "late", "user_id": me.UserID, "direction": "inbound",
				"from_number": "+923001234567", "to_number": "+924235761000", "status": "completed", "started_at": late.Format(time.RFC3339)}}}})
		if res.Status != 200 {
			t.Fatalf("ingest: %d %s", res.Status, res.Body)
		}
		dayWithCall := func() string {
			var o struct {
				Trend []struct {
					Date       string `json:"date"`
					TotalCalls int    `json:"total_calls"`
				} `json:"trend"`
			}
			s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/?days=7", Token: me.Access}).Decode(t, &o)
			for _, p := range o.Trend {
				if p.TotalCalls > 0 {
					return p.Date
				}
			}
			return ""
		}
		if got := dayWithCall(); got != late.Format(time.DateOnly) {
			t.Fatalf("UTC day %s", got)
		}
		if res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/preferences/", Token: me.Access,
			Body: map[string]string{"timezone": "Asia/Karachi"}}); res.Status != 200 {
			t.Fatalf("preferences: %d %s", res.Status, res.Body)
		}
		want := late.Add(24 * time.Hour).Format(time.DateOnly)
		if got := dayWithCall(); got != want {
			t.Fatalf("right after the change: %s, want %s", got, want)
		}
		s.Stats.Wait()
		if got := dayWithCall(); got != want {
			t.Fatalf("after the rebuild: %s, want %s", got, want)
		}
	})
}
