package calls_test

import (
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// reportsOf are the platform's reports of one new call as they might
// arrive: four statuses, each carrying its own fields, all naming the same
// agent, which is new too.
func reportsOf(ext string, userID int64, agent string) []map[string]any {
	base := call(ext, userID, 0)
	ag := map[string]any{"external_id": agent, "name": "Agent " + agent}
	return []map[string]any{
		with(base, "status", "queued", "agent", ag),
		with(base, "status", "ringing", "agent", ag, "cost", map[string]any{"amount": 5, "currency": "USD"}),
		with(base, "status", "in-progress", "agent", ag, "answered_at", at(1)),
		with(base, "status", "completed", "agent", ag, "ended_at", at(3), "duration_seconds", 120,
			"summary", "refund agreed", "satisfaction", 4, "sentiment", "positive", "end_reason", "customer-ended"),
	}
}

// TestConcurrentReportsOfOneCall: the platform's reports of the same new
// call (and the same new agent) arriving at once are all stored, none
// answered 500, and the call ends as the reports sent one after another
// leave it; statistics count each call once. (On PostgreSQL two inserts of
// one new external_id collided on its unique index and one report was lost.)
func TestConcurrentReportsOfOneCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		post := func(body map[string]any) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: map[string]any{"calls": []any{body}},
				Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
		}
		const rounds, perRound = 3, 4
		n := 0
		for round := range rounds {
			var wg sync.WaitGroup
			start := make(chan struct{})
			var mu sync.Mutex
			var failures []string
			for c := range perRound {
				ext, agent := fmt.Sprintf("race-%d-%d", round, c), fmt.Sprintf("agent-%d", round)
				for _, r := range reportsOf(ext, u.UserID, agent) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						res := post(r)
						var sum summary
						if res.Status == http.StatusOK {
							res.Decode(t, &sum)
						}
						if res.Status != http.StatusOK || sum.Failed != 0 {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s %s: %d %s", ext, r["status"], res.Status, res.Body))
							mu.Unlock()
						}
					}()
				}
			}
			close(start)
			wg.Wait()
			if len(failures) > 0 {
				t.Fatalf("%d of %d reports failed, e.g. %s", len(failures), perRound*4, failures[0])
			}
			n += perRound
		}

		// The same reports one after another, under other ids.
		for c := range perRound {
			for _, r := range reportsOf(fmt.Sprintf("serial-%d", c), u.UserID, "agent-serial") {
				if res := post(r); res.Status != http.StatusOK {
					t.Fatalf("serial: %d %s", res.Status, res.Body)
				}
			}
		}
		var serial map[string]any
		page := list(t, s, u.Access, "page_size=100")
		if len(page.Results) != n+perRound {
			t.Fatalf("%d calls listed, want %d", len(page.Results), n+perRound)
		}
		normal := func(ext string) map[string]any {
			for _, r := range page.Results {
				if r.ExternalID == ext {
					d := s.Do(t, apitest.Request{Method: "GET", Path: fmt.Sprintf("/api/dashboard/user/calls/%d/", r.ID), Token: u.Access}).JSON(t)
					out := maps.Clone(d)
					for _, k := range []string{"id", "external_id", "created_at", "updated_at", "agent"} {
						delete(out, k)
					}
					out["agent_name"] = d["agent"].(map[string]any)["name"] != nil
					return out
				}
			}
			t.Fatalf("call %s not listed", ext)
			return nil
		}
		serial = normal("serial-0")
		if serial["status"] != "completed" || serial["summary"] != "refund agreed" {
			t.Fatalf("serial result: %v", serial)
		}
		for round := range rounds {
			for c := range perRound {
				got := normal(fmt.Sprintf("race-%d-%d", round, c))
				if !maps.EqualFunc(got, serial, func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
					t.Fatalf("race-%d-%d ended as\n%v\nnot as the serial order leaves it:\n%v", round, c, got, serial)
				}
			}
		}
		// One agent per round, however many reports raced to create it.
		var agents int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM agents WHERE user_id = $1`, u.UserID).Scan(&agents); err != nil || agents != rounds+1 {
			t.Fatalf("%d agents, want %d: %v", agents, rounds+1, err)
		}
		// Statistics count each call once, completed.
		var o struct {
			CallStats struct {
				AllTime struct {
					TotalCalls     int `json:"total_calls"`
					CompletedCalls int `json:"completed_calls"`
				} `json:"all_time"`
			} `json:"call_stats"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: u.Access}).Decode(t, &o)
		if a := o.CallStats.AllTime; a.TotalCalls != n+perRound || a.CompletedCalls != n+perRound {
			t.Fatalf("statistics %+v, want %d calls, all completed", a, n+perRound)
		}
	})
}
