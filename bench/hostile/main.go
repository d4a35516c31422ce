// Command hostile reproduces the service-wide failures of issue 14 against
// a Callboard binary it starts itself, on loopback addresses only, and
// prints figures. Each scenario lives in a file of its own (scenario1.go,
// …) and registers itself in init; every scenario is bounded in time.
//
//	go run ./bench/hostile                    # every scenario, this tree's binary
//	go run ./bench/hostile -scenarios 1,7     # some of them
//	go run ./bench/hostile -bin /tmp/old-cb   # against another build
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// scenario is one reproduction: it prints its own figures.
type scenario struct {
	name string
	run  func(ctx context.Context, env *environment) error
}

// scenarios are registered by the scenario files' init functions, by id.
var scenarios = map[string]scenario{}

// environment is what every scenario gets.
type environment struct {
	bin     string // the callboard binary
	workDir string // a temporary directory, removed at the end
}

const password = "violet-lantern-87-orbit"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run() error {
	var ids, bin string
	var timeout time.Duration
	flag.StringVar(&ids, "scenarios", "", "comma-separated scenario ids (default: all)")
	flag.StringVar(&bin, "bin", "", "callboard binary to test (default: build ./cmd/callboard)")
	flag.DurationVar(&timeout, "timeout", 5*time.Minute, "the whole run stops after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	work, err := os.MkdirTemp("", "callboard-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if bin == "" {
		bin = filepath.Join(work, "callboard")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/callboard")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build callboard (run from the repository root): %w", err)
		}
	}
	var chosen []string
	if ids == "" {
		for id := range scenarios {
			chosen = append(chosen, id)
		}
		slices.Sort(chosen)
	} else {
		chosen = strings.Split(ids, ",")
	}
	env := &environment{bin: bin, workDir: work}
	var failed []string
	for _, id := range chosen {
		sc, ok := scenarios[strings.TrimSpace(id)]
		if !ok {
			return fmt.Errorf("no scenario %q", id)
		}
		fmt.Printf("== scenario %s: %s\n", id, sc.name)
		if err := sc.run(ctx, env); err != nil {
			fmt.Printf("   error: %v\n", err)
			failed = append(failed, id)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// server is a running callboard process.
type server struct {
	base string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startServer runs the binary on a free loopback port with a fresh data
// directory and env on top of the process's environment, and waits for
// /healthz.
func (e *environment) startServer(ctx context.Context, env map[string]string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp(e.workDir, "data-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.bin, "serve", "--addr", addr, "--data-dir", dataDir, "--log-level", "warn")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, cmd: cmd, logs: &logs}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(s.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("server did not start: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// memory reads the server's resident memory from /proc: current, peak
// (VmHWM) and its own anonymous memory (RssAnon), in bytes.
func (s *server) memory() (rss, peak, anon int64) {
	f, err := os.Open("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		case "RssAnon":
			anon = kb << 10
		}
	}
	return rss, peak, anon
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// answer is one HTTP exchange's outcome.
type answer struct {
	status int
	body   []byte
	took   time.Duration
	err    error
}

// call sends a JSON request (body may be nil) with an optional bearer token.
func call(ctx context.Context, client *http.Client, method, url, token string, body any) answer {
	var header map[string]string
	if token != "" {
		header = map[string]string{"Authorization": "Bearer " + token}
	}
	return callWith(ctx, client, method, url, header, body)
}

// callWith sends a JSON request (body may be nil) with extra headers.
func callWith(ctx context.Context, client *http.Client, method, url string, header map[string]string, body any) answer {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: b, took: time.Since(start), err: err}
}

// register creates an account and returns its id and access token.
func register(ctx context.Context, base, email string) (int64, string, error) {
	a := call(ctx, http.DefaultClient, "POST", base+"/api/auth/register/", "",
		map[string]string{"email": email, "password": password, "first_name": "Bench", "last_name": "User"})
	if a.err != nil || a.status != http.StatusCreated {
		return 0, "", fmt.Errorf("register %s: %d %v %s", email, a.status, a.err, a.body)
	}
	var out struct {
		User   struct{ ID int64 } `json:"user"`
		Access string             `json:"access"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		return 0, "", err
	}
	return out.User.ID, out.Access, nil
}

// percentile of sorted durations (p in 0..100).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// statusCounts formats how many answers had each status ("err" for none).
func statusCounts(answers []answer) string {
	counts := map[string]int{}
	for _, a := range answers {
		k := strconv.Itoa(a.status)
		if a.err != nil {
			k = "err"
		}
		counts[k]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}

var errGoalMissed = errors.New("goal missed")
