package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

func init() {
	scenarios["2"] = scenario{name: "4 stalled CSV exports, then another user's GET /profile/ (goal p99 < 100 ms)", run: stalledExports}
}

// stalledExports fills two users' histories, starts four exports whose
// clients never read (a receive buffer of 4 KB, so the server's writes
// stall once the socket buffers are full), and then times another user's
// profile reads.
func stalledExports(ctx context.Context, env *environment) error {
	const platformKey = "hostile-bench-platform-key-0123456789"
	s, err := env.startServer(ctx, map[string]string{"CALLBOARD_PLATFORM_KEY": platformKey})
	if err != nil {
		return err
	}
	defer s.stop()

	// 25,000 calls each: about 6 MB of CSV, more than the socket buffers hold.
	const perUser = 25_000
	var tokens []string
	for i := range 2 {
		id, token, err := register(ctx, s.base, fmt.Sprintf("exporter%d@example.com", i))
		if err != nil {
			return err
		}
		tokens = append(tokens, token)
		for from := 0; from < perUser; from += 1000 {
			batch := make([]map[string]any, 0, 1000)
			for n := from; n < from+1000; n++ {
				started := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
				batch = append(batch, map[string]any{"external_id": fmt.Sprintf("u%d-%d", i, n), "user_id": id, "status": "completed",
					"direction": "outbound", "from_number": "+923001234567", "to_number": fmt.Sprintf("+92300%07d", n),
					"started_at": started.Format(time.RFC3339), "ended_at": started.Add(3 * time.Minute).Format(time.RFC3339),
					"duration_seconds": 180, "summary": "The customer asked about the delivery date of their order and was told it ships on Friday."})
			}
			if err := ingest(ctx, s.base, platformKey, batch); err != nil {
				return err
			}
		}
	}
	_, victim, err := register(ctx, s.base, "victim@example.com")
	if err != nil {
		return err
	}

	// Four downloads whose clients stop reading at once.
	host := strings.TrimPrefix(s.base, "http://")
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	var exportStatus []string
	for i := range 4 {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return err
		}
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		stalled = append(stalled, c)
		fmt.Fprintf(c, "GET /api/dashboard/user/calls/export/ HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", host, tokens[i%2])
		// Read the status line only, then never read again.
		line, _ := bufio.NewReaderSize(c, 64).ReadString('\n')
		exportStatus = append(exportStatus, strings.TrimSpace(line))
	}
	fmt.Printf("   stalled exports: %s\n", strings.Join(exportStatus, "; "))
	time.Sleep(2 * time.Second) // the server's writes now wait on the stalled clients

	client := &http.Client{Timeout: 5 * time.Second}
	var took []time.Duration
	var answers []answer
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 200 && time.Now().Before(deadline); i++ {
		a := call(ctx, client, "GET", s.base+"/api/dashboard/user/profile/", victim, nil)
		answers = append(answers, a)
		took = append(took, a.took)
	}
	slices.Sort(took)
	p99 := percentile(took, 99)
	fmt.Printf("   another user's GET /profile/ during the stall: %d requests, %s; p50 %s, p99 %s, max %s\n", len(answers), statusCounts(answers),
		percentile(took, 50).Round(10*time.Microsecond), p99.Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond))
	// A third export of a user already running two is refused.
	third := call(ctx, client, "GET", s.base+"/api/dashboard/user/calls/export/", tokens[0], nil)
	fmt.Printf("   a third export by the same user meanwhile: %d\n", third.status)
	if p99 >= 100*time.Millisecond || slices.ContainsFunc(answers, func(a answer) bool { return a.status != 200 }) {
		return fmt.Errorf("%w: p99 %s", errGoalMissed, p99)
	}
	return nil
}

// ingest reports calls through the platform API.
func ingest(ctx context.Context, base, key string, batch []map[string]any) error {
	a := callWith(ctx, http.DefaultClient, "POST", base+"/api/platform/calls/", map[string]string{"X-Platform-Key": key}, map[string]any{"calls": batch})
	if a.err != nil || a.status != 200 {
		return fmt.Errorf("ingest: %d %v %.300s", a.status, a.err, a.body)
	}
	return nil
}
