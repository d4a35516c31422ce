package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the throwaway database is made through pgx
)

func init() {
	scenarios["3"] = scenario{name: "concurrent reports of the same new calls and agents (goal: 0 5xx, 0 lost state, on PostgreSQL and SQLite)", run: concurrentReports}
}

// concurrentReports posts every report of a batch of new calls at once,
// each in its own request, four reports (queued, ringing, in-progress,
// completed) per call and one new agent shared by all of a round, then
// checks that every call ended as the reports sent one after another
// leave it. On PostgreSQL it uses a throwaway database on the server at
// CALLBOARD_HOSTILE_POSTGRES (default the local one on 127.0.0.1:5432),
// dropped afterwards.
func concurrentReports(ctx context.Context, env *environment) error {
	admin := os.Getenv("CALLBOARD_HOSTILE_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	dbURL, drop, err := throwawayDatabase(ctx, admin)
	if err != nil {
		fmt.Printf("   postgres: skipped (%v)\n", err)
	} else {
		defer drop()
		if err := reportRace(ctx, env, "postgres", dbURL); err != nil {
			return err
		}
	}
	return reportRace(ctx, env, "sqlite", "")
}

func reportRace(ctx context.Context, env *environment, name, dbURL string) error {
	const platformKey = "hostile-bench-platform-key-0123456789"
	vars := map[string]string{"CALLBOARD_PLATFORM_KEY": platformKey}
	if dbURL != "" {
		vars["CALLBOARD_DATABASE_URL"] = dbURL
	}
	s, err := env.startServer(ctx, vars)
	if err != nil {
		return err
	}
	defer s.stop()
	userID, token, err := register(ctx, s.base, "racer-"+name+"@example.com")
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 60 * time.Second}
	const rounds, callsPerRound = 5, 40
	var answers []answer
	var slowest time.Duration
	for round := range rounds {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
		)
		for c := range callsPerRound {
			for _, report := range raceReports(fmt.Sprintf("%s-%d-%d", name, round, c), userID, fmt.Sprintf("agent-%d", round)) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					a := callWith(ctx, client, "POST", s.base+"/api/platform/calls/", map[string]string{"X-Platform-Key": platformKey},
						map[string]any{"calls": []any{report}})
					if a.status == http.StatusOK {
						var sum struct{ Failed int }
						if json.Unmarshal(a.body, &sum) == nil && sum.Failed > 0 {
							a.status = 0 // refused inside a 200: counted apart
						}
					}
					mu.Lock()
					answers = append(answers, a)
					slowest = max(slowest, a.took)
					mu.Unlock()
				}()
			}
		}
		close(start)
		wg.Wait()
	}
	fiveXX := 0
	for _, a := range answers {
		if a.status >= 500 || a.status == 0 || a.err != nil {
			fiveXX++
		}
	}

	// Lost state: a call not completed, or missing a field one report carried.
	ids, err := listCallIDs(ctx, client, s.base, token)
	if err != nil {
		return err
	}
	lost := 0
	for round := range rounds {
		for c := range callsPerRound {
			id, ok := ids[fmt.Sprintf("%s-%d-%d", name, round, c)]
			if !ok || !callIsComplete(ctx, client, s.base, token, id) {
				lost++
			}
		}
	}
	var overview struct {
		CallStats struct {
			AllTime struct {
				TotalCalls     int `json:"total_calls"`
				CompletedCalls int `json:"completed_calls"`
			} `json:"all_time"`
		} `json:"call_stats"`
	}
	o := call(ctx, client, "GET", s.base+"/api/dashboard/user/", token, nil)
	_ = json.Unmarshal(o.body, &overview)
	want := rounds * callsPerRound
	took := make([]time.Duration, len(answers))
	for i, a := range answers {
		took[i] = a.took
	}
	slices.Sort(took)
	_, peak, _ := s.memory()
	fmt.Printf("   %-8s %d reports in %d bursts of %d: %s; p50 %v, p99 %v, slowest %v; peak RSS %s\n",
		name, len(answers), rounds, callsPerRound*4, statusCounts(answers), percentile(took, 50).Round(time.Millisecond),
		percentile(took, 99).Round(time.Millisecond), slowest.Round(time.Millisecond), mb(peak))
	fmt.Printf("   %-8s 5xx or refused: %d; calls with lost state: %d of %d; statistics: %d calls, %d completed (want %d)\n",
		name, fiveXX, lost, want, overview.CallStats.AllTime.TotalCalls, overview.CallStats.AllTime.CompletedCalls, want)
	if fiveXX > 0 || lost > 0 || overview.CallStats.AllTime.TotalCalls != want || overview.CallStats.AllTime.CompletedCalls != want {
		return errGoalMissed
	}
	return nil
}

// raceReports are the four reports of one new call, each carrying fields
// of its own, all naming the same agent.
func raceReports(ext string, userID int64, agent string) []map[string]any {
	started := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	base := func(status string) map[string]any {
		return map[string]any{"external_id": ext, "user_id": userID, "direction": "outbound", "from_number": "+923001234567",
			"to_number": "+442071234567", "status": status, "started_at": started.Format(time.RFC3339),
			"agent": map[string]any{"external_id": agent, "name": "Agent " + agent}}
	}
	ringing, answered, completed := base("ringing"), base("in-progress"), base("completed")
	ringing["cost"] = map[string]any{"amount": 5, "currency": "USD"}
	answered["answered_at"] = started.Add(5 * time.Second).Format(time.RFC3339)
	completed["ended_at"] = started.Add(3 * time.Minute).Format(time.RFC3339)
	completed["duration_seconds"], completed["summary"], completed["satisfaction"] = 175, "refund agreed", 4
	return []map[string]any{base("queued"), ringing, answered, completed}
}

// listCallIDs maps every call of the user's history to its id, following
// the cursor pages.
func listCallIDs(ctx context.Context, client *http.Client, base, token string) (map[string]int64, error) {
	ids := map[string]int64{}
	next := "/api/dashboard/user/calls/?page_size=100"
	for next != "" {
		a := call(ctx, client, "GET", base+next, token, nil)
		var page struct {
			Next    *string `json:"next"`
			Results []struct {
				ID         int64  `json:"id"`
				ExternalID string `json:"external_id"`
			} `json:"results"`
		}
		if a.err != nil || a.status != 200 || json.Unmarshal(a.body, &page) != nil {
			return nil, fmt.Errorf("list calls: %d %v %.200s", a.status, a.err, a.body)
		}
		for _, r := range page.Results {
			ids[r.ExternalID] = r.ID
		}
		next = ""
		if page.Next != nil {
			next = *page.Next
		}
	}
	return ids, nil
}

// callIsComplete tells whether the call ended as the four reports sent one
// after another leave it.
func callIsComplete(ctx context.Context, client *http.Client, base, token string, id int64) bool {
	d := call(ctx, client, "GET", fmt.Sprintf("%s/api/dashboard/user/calls/%d/", base, id), token, nil)
	var c struct {
		Status          string          `json:"status"`
		AnsweredAt      *string         `json:"answered_at"`
		EndedAt         *string         `json:"ended_at"`
		DurationSeconds int             `json:"duration_seconds"`
		Summary         string          `json:"summary"`
		Satisfaction    *int            `json:"satisfaction"`
		Cost            *map[string]any `json:"cost"`
		Agent           *struct{ Name string }
	}
	return d.status == 200 && json.Unmarshal(d.body, &c) == nil && c.Status == "completed" && c.AnsweredAt != nil && c.EndedAt != nil &&
		c.DurationSeconds == 175 && c.Summary == "refund agreed" && c.Satisfaction != nil && *c.Satisfaction == 4 &&
		c.Cost != nil && c.Agent != nil && strings.HasPrefix(c.Agent.Name, "Agent ")
}

// throwawayDatabase creates a database named callboard_hostile_<random>
// through the admin URL and returns its URL and how to drop it.
func throwawayDatabase(ctx context.Context, admin string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return "", nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "callboard_hostile_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}, nil
}
