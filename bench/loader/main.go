// Command loader fills a running Callboard with users and calls through its
// public APIs, and prints how fast the calls went in.
//
// It registers -users users (or signs them in when they exist), then sends
// -calls calls through POST /api/platform/calls/ in batches of -batch, with
// -workers requests in flight. The data is deterministic for a given -seed
// and day: a few agents per user, a realistic status mix, 180 days of
// history, transcripts for answered calls, and one heavy user (the first)
// with 20% of all calls.
//
//	CALLBOARD_PLATFORM_KEY=… go run ./bench/loader -url http://127.0.0.1:8000 -calls 1000000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Password is every loader user's password (it passes the strength check).
const Password = "violet-lantern-87-orbit"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loader:", err)
		os.Exit(1)
	}
}

type options struct {
	url     string
	key     string
	calls   int
	users   int
	batch   int
	workers int
	seed    uint64
	prefix  string
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8000", "Callboard's base URL")
	flag.StringVar(&o.key, "key", os.Getenv("CALLBOARD_PLATFORM_KEY"), "platform key (default $CALLBOARD_PLATFORM_KEY)")
	flag.IntVar(&o.calls, "calls", 100_000, "calls to ingest")
	flag.IntVar(&o.users, "users", 10, "users to spread them over (the first gets 20%)")
	flag.IntVar(&o.batch, "batch", 1000, "calls per request (1–1000)")
	flag.IntVar(&o.workers, "workers", 2, "requests in flight")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.StringVar(&o.prefix, "prefix", "", "email prefix of the users (default load<seed>)")
	flag.Parse()
	if o.key == "" {
		return errors.New("no platform key: set CALLBOARD_PLATFORM_KEY or -key")
	}
	if o.batch < 1 || o.batch > 1000 || o.users < 1 || o.calls < 1 || o.workers < 1 {
		return errors.New("want -batch 1–1000 and positive -users, -calls, -workers")
	}
	if o.prefix == "" {
		o.prefix = "load" + strconv.FormatUint(o.seed, 10)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &http.Client{Timeout: 5 * time.Minute}

	users := make([]int64, o.users)
	start := time.Now()
	for i := range users {
		email := fmt.Sprintf("%s-user%d@example.com", o.prefix, i)
		id, err := signUp(ctx, client, o.url, email, i)
		if err != nil {
			return err
		}
		users[i] = id
	}
	fmt.Printf("users: %d ready in %v; heavy user %s-user0@example.com (password %s)\n",
		len(users), time.Since(start).Round(time.Millisecond), o.prefix, Password)

	gen := newGenerator(o.seed, users, o.calls)
	batches := make(chan []byte, o.workers)
	go func() {
		defer close(batches)
		for sent := 0; sent < o.calls; sent += o.batch {
			n := min(o.batch, o.calls-sent)
			body, err := json.Marshal(map[string]any{"calls": gen.calls(sent, n)})
			if err != nil {
				panic(err) // plain data: cannot happen
			}
			select {
			case batches <- body:
			case <-ctx.Done():
				return
			}
		}
	}()

	var mu sync.Mutex
	var latencies []time.Duration
	var done, failed int
	var firstErr error
	var wg sync.WaitGroup
	start = time.Now()
	lastReport := start
	for range o.workers {
		wg.Go(func() {
			for body := range batches {
				t0 := time.Now()
				created, bad, err := ingest(ctx, client, o.url, o.key, body)
				elapsed := time.Since(t0)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				latencies = append(latencies, elapsed)
				done += created
				failed += bad
				if time.Since(lastReport) > 10*time.Second {
					lastReport = time.Now()
					fmt.Printf("  %d calls, %.0f calls/s\n", done, float64(done)/time.Since(start).Seconds())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	slices.Sort(latencies)
	fmt.Printf("ingested %d calls (%d refused) in %v: %.0f calls/s; %d requests of %d calls, latency p50 %v p99 %v\n",
		done, failed, elapsed.Round(time.Millisecond), float64(done)/elapsed.Seconds(), len(latencies), o.batch,
		pct(latencies, 50).Round(time.Millisecond), pct(latencies, 99).Round(time.Millisecond))
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// signUp registers the user, or signs in when the email is taken, and
// returns its id.
func signUp(ctx context.Context, c *http.Client, base, email string, i int) (int64, error) {
	var out struct {
		User struct{ ID int64 } `json:"user"`
	}
	status, err := postJSON(ctx, c, base+"/api/auth/register/", nil, map[string]string{
		"email": email, "password": Password, "first_name": "Load", "last_name": "User" + strconv.Itoa(i)}, &out)
	if err == nil && status == http.StatusConflict {
		status, err = postJSON(ctx, c, base+"/api/auth/login/", nil, map[string]string{"email": email, "password": Password}, &out)
	}
	if err != nil {
		return 0, fmt.Errorf("sign up %s: %w", email, err)
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return 0, fmt.Errorf("sign up %s: status %d", email, status)
	}
	return out.User.ID, nil
}

func postJSON(ctx context.Context, c *http.Client, url string, header map[string]string, in, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode < 300 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, fmt.Errorf("decode answer: %w", err)
		}
	}
	return res.StatusCode, nil
}

func ingest(ctx context.Context, c *http.Client, base, key string, body []byte) (created, failed int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/platform/calls/", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Platform-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("ingest: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("ingest: status %d: %.300s", res.StatusCode, raw)
	}
	var sum struct {
		Created, Updated, Unchanged, Failed int
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		return 0, 0, fmt.Errorf("ingest: %w", err)
	}
	return sum.Created + sum.Updated + sum.Unchanged, sum.Failed, nil
}

// generator makes the calls. Call n is a pure function of (seed, n), so a
// run can be repeated or resumed.
type generator struct {
	seed   uint64
	users  []int64
	total  int       // calls in the run: they span 180 days, oldest first
	end    time.Time // the newest call starts about then
	agents [][]agent // per user
}

type agent struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Voice      string `json:"voice"`
}

var (
	agentNames = []string{"Sara", "Bilal", "Ayesha", "Hamza", "Zainab", "Omar", "Fatima", "Usman"}
	voices     = []string{"alloy", "echo", "nova", "shimmer", "sage"}
	topics     = []string{"appointment", "delivery", "billing", "refund", "order status", "subscription renewal",
		"technical support", "payment reminder", "booking confirmation", "feedback survey"}
	lineTemplates = []string{
		"Agent: Assalam o alaikum, this is %s calling about your %s.",
		"Customer: Walaikum assalam, haan ji, tell me.",
		"Agent: I can see your %s is scheduled for %s.",
		"Customer: Can we move it to %s? I am busy that day.",
		"Agent: Of course, I have moved it to %s at %d o'clock.",
		"Customer: Theek hai, shukriya. Will I get an SMS confirmation?",
		"Agent: Yes, you will receive an SMS on this number shortly.",
		"Customer: What is the payment amount for the %s?",
		"Agent: The amount is %d rupees, payable by card or JazzCash.",
		"Customer: I want a refund for the last %s, it was not delivered.",
		"Agent: I understand. I have raised ticket number %d for you.",
		"Customer: Aap ka bohat shukriya.",
		"Agent: Is there anything else I can help you with today?",
		"Customer: No, that is all. Allah hafiz.",
	}
	days = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

func newGenerator(seed uint64, users []int64, total int) *generator {
	g := &generator{seed: seed, users: users, total: total, end: time.Now().UTC().Truncate(24 * time.Hour)}
	for i := range users {
		r := rand.New(rand.NewPCG(seed, uint64(i)+1_000_000))
		n := 3 + r.IntN(4)
		var list []agent
		for j := range n {
			list = append(list, agent{
				ExternalID: fmt.Sprintf("agent-%d-%d", i, j),
				Name:       agentNames[r.IntN(len(agentNames))] + " (" + topics[r.IntN(len(topics))] + ")",
				Voice:      voices[r.IntN(len(voices))],
			})
		}
		g.agents = append(g.agents, list)
	}
	return g
}

type callJSON struct {
	ExternalID      string  `json:"external_id"`
	UserID          int64   `json:"user_id"`
	Agent           agent   `json:"agent"`
	Direction       string  `json:"direction"`
	FromNumber      string  `json:"from_number"`
	ToNumber        string  `json:"to_number"`
	Status          string  `json:"status"`
	StartedAt       string  `json:"started_at"`
	AnsweredAt      *string `json:"answered_at,omitempty"`
	EndedAt         *string `json:"ended_at,omitempty"`
	DurationSeconds int     `json:"duration_seconds"`
	Satisfaction    *int    `json:"satisfaction,omitempty"`
	Sentiment       *string `json:"sentiment,omitempty"`
	EndReason       *string `json:"end_reason,omitempty"`
	Cost            *money  `json:"cost,omitempty"`
	Summary         *string `json:"summary,omitempty"`
	Transcript      *string `json:"transcript,omitempty"`
	RecordingURL    *string `json:"recording_url,omitempty"`
}

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func (g *generator) calls(from, n int) []callJSON {
	out := make([]callJSON, n)
	for i := range out {
		out[i] = g.call(from + i)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// call makes call number n. Calls come in the order they happened, as the
// platform reports them (with a few minutes of jitter), and carry random
// platform ids, like real call ids.
func (g *generator) call(n int) callJSON {
	r := rand.New(rand.NewPCG(g.seed, uint64(n)))
	u := 0
	if len(g.users) > 1 && r.IntN(100) >= 20 {
		u = 1 + r.IntN(len(g.users)-1)
	}
	ag := g.agents[u][r.IntN(len(g.agents[u]))]
	const span = 180 * 24 * time.Hour
	started := g.end.Add(-span + time.Duration(float64(span)*float64(n)/float64(g.total)) +
		time.Duration(r.Int64N(int64(4*time.Minute))) - 2*time.Minute).Truncate(time.Second)
	customer := fmt.Sprintf("+923%02d%07d", r.IntN(50), r.IntN(10_000_000))
	business := fmt.Sprintf("+9221%08d", 30_000_000+u)
	c := callJSON{
		ExternalID: fmt.Sprintf("call_%016x%08x", r.Uint64(), n), UserID: g.users[u], Agent: ag,
		Direction: "outbound", FromNumber: business, ToNumber: customer,
		StartedAt: started.Format(time.RFC3339),
	}
	if r.IntN(100) < 40 {
		c.Direction, c.FromNumber, c.ToNumber = "inbound", customer, business
	}
	topic := topics[r.IntN(len(topics))]
	ring := time.Duration(3+r.IntN(20)) * time.Second
	switch p := r.IntN(100); {
	case p < 66:
		c.Status = "completed"
		answered := started.Add(ring)
		// Durations: mostly one to five minutes, a long tail to 30.
		secs := int(math.Min(1800, 20+r.ExpFloat64()*160))
		ended := answered.Add(time.Duration(secs) * time.Second)
		c.AnsweredAt, c.EndedAt, c.DurationSeconds = ptr(answered.Format(time.RFC3339)), ptr(ended.Format(time.RFC3339)), secs
		if r.IntN(100) < 70 {
			c.Satisfaction = ptr([]int{1, 2, 3, 4, 4, 5, 5, 5}[r.IntN(8)])
		}
		c.Sentiment = ptr([]string{"positive", "positive", "positive", "neutral", "neutral", "negative"}[r.IntN(6)])
		c.EndReason = ptr([]string{"customer-ended", "customer-ended", "agent-ended", "agent-ended", "transferred", "voicemail"}[r.IntN(6)])
		c.Cost = &money{Amount: int64(secs) * 25 / 6, Currency: "PKR"} // 2.50 rupees a minute, in paisa
		c.Summary = ptr(fmt.Sprintf("Customer called about %s; %s.", topic,
			[]string{"resolved on the call", "moved to " + days[r.IntN(7)], "refund requested", "follow-up needed", "confirmed"}[r.IntN(5)]))
		c.Transcript = ptr(g.transcript(r, ag.Name, topic))
		c.RecordingURL = ptr("https://recordings.example.com/" + c.ExternalID + ".mp3")
	case p < 78:
		c.Status, c.EndReason = "no-answer", ptr("no-answer")
		c.EndedAt = ptr(started.Add(30 * time.Second).Format(time.RFC3339))
	case p < 86:
		c.Status, c.EndReason = "busy", ptr("busy")
		c.EndedAt = ptr(started.Add(ring).Format(time.RFC3339))
	case p < 92:
		c.Status, c.EndReason = "failed", ptr("error")
		c.EndedAt = ptr(started.Add(time.Second).Format(time.RFC3339))
	case p < 98:
		c.Status, c.EndReason = "canceled", ptr("customer-ended")
		c.EndedAt = ptr(started.Add(ring).Format(time.RFC3339))
	default:
		c.Status = []string{"queued", "ringing", "in-progress"}[r.IntN(3)]
	}
	return c
}

func (g *generator) transcript(r *rand.Rand, agentName, topic string) string {
	var sb strings.Builder
	lines := 4 + r.IntN(9)
	for i := range lines {
		t := lineTemplates[r.IntN(len(lineTemplates))]
		if i == 0 {
			t = lineTemplates[0]
		}
		var args []any
		for _, verb := range verbs(t) {
			switch verb {
			case 'd':
				args = append(args, 1000+r.IntN(9000))
			default:
				args = append(args, []string{agentName, topic, days[r.IntN(7)]}[r.IntN(3)])
			}
		}
		if i == 0 {
			args = []any{agentName, topic}
		}
		fmt.Fprintf(&sb, t, args...)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// verbs lists the verbs (s or d) of a format string in order.
func verbs(format string) []byte {
	var out []byte
	for i := 0; i+1 < len(format); i++ {
		if format[i] == '%' {
			out = append(out, format[i+1])
			i++
		}
	}
	return out
}
