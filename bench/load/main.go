// Command load measures the call history of a running Callboard on this
// machine: requests per second and p50/p99 latency of list page 1, a cursor
// page deep in the history, a filtered page and a search, each for a bounded
// number of requests and time. It talks to loopback addresses only.
//
//	go run ./bench/load -url http://127.0.0.1:8000 -email load1-user0@example.com
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type options struct {
	base        string
	email       string
	password    string
	requests    int
	duration    time.Duration
	concurrency int
	depth       int
	search      string
	filter      string
}

func run() error {
	var o options
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8000", "Callboard's base URL (loopback only)")
	flag.StringVar(&o.email, "email", "load1-user0@example.com", "the user whose history is read (the loader's heavy user)")
	flag.StringVar(&o.password, "password", "violet-lantern-87-orbit", "that user's password")
	flag.IntVar(&o.requests, "requests", 2000, "requests per scenario, at most")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "time per scenario, at most")
	flag.IntVar(&o.concurrency, "concurrency", 4, "requests in flight")
	flag.IntVar(&o.depth, "depth", 500_000, "how deep the deep cursor page is (capped at the user's calls)")
	flag.StringVar(&o.search, "search", "refund", "the search scenario's text")
	flag.StringVar(&o.filter, "filter", "status=completed,busy&direction=inbound&min_duration=60", "the filtered scenario's query")
	flag.Parse()
	u, err := url.Parse(o.base)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("-url: %s is not a loopback address; this tool only loads this machine", u.Hostname())
	}
	if o.requests < 1 || o.concurrency < 1 || o.duration <= 0 {
		return errors.New("want positive -requests, -concurrency and -duration")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency}}

	token, err := login(ctx, client, o)
	if err != nil {
		return err
	}
	list := "/api/dashboard/user/calls/"
	first, err := get(ctx, client, o.base+list+"?page_size=1", token)
	if err != nil {
		return err
	}
	count := "more than 1000"
	if first.Count != nil && *first.Count < 1000 {
		count = fmt.Sprint(*first.Count)
	}
	fmt.Printf("user %s: %s calls\n", o.email, count)

	start := time.Now()
	deep, reached, err := walk(ctx, client, o.base, list, token, o.depth)
	if err != nil {
		return err
	}
	fmt.Printf("deep cursor: walked %d calls with page_size=100 in %v\n", reached, time.Since(start).Round(time.Millisecond))

	scenarios := []struct{ name, path string }{
		{"page 1", list},
		{fmt.Sprintf("cursor page after %d calls", reached), deep},
		{"filtered page 1 (" + o.filter + ")", list + "?" + o.filter},
		{"search page 1 (" + o.search + ")", list + "?search=" + url.QueryEscape(o.search)},
	}
	fmt.Printf("%-60s %9s %9s %9s %9s %7s\n", "scenario", "requests", "req/s", "p50", "p99", "errors")
	for _, sc := range scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := measure(ctx, client, o, o.base+sc.path, token)
		fmt.Printf("%-60s %9d %9.0f %9s %9s %7d\n", sc.name, r.n, r.rate, r.p50, r.p99, r.errors)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type page struct {
	Count   *int    `json:"count"`
	Next    *string `json:"next"`
	Results []struct {
		ID int64 `json:"id"`
	} `json:"results"`
}

func login(ctx context.Context, c *http.Client, o options) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": o.email, "password": o.password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/api/auth/login/", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: status %d", res.StatusCode)
	}
	var out struct {
		Access string `json:"access"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return out.Access, nil
}

func get(ctx context.Context, c *http.Client, url, token string) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return page{}, err
	}
	if res.StatusCode != http.StatusOK {
		return page{}, fmt.Errorf("GET %s: status %d: %.200s", url, res.StatusCode, raw)
	}
	var p page
	if err := json.Unmarshal(raw, &p); err != nil {
		return page{}, fmt.Errorf("GET %s: %w", url, err)
	}
	return p, nil
}

// walk follows next links (100 calls a page) until depth calls are behind
// it, and returns the next link from there and the depth reached.
func walk(ctx context.Context, c *http.Client, base, list, token string, depth int) (string, int, error) {
	path := list + "?page_size=100"
	reached := 0
	next := path
	for reached < depth {
		p, err := get(ctx, c, base+next, token)
		if err != nil {
			return "", 0, err
		}
		if p.Next == nil {
			break
		}
		reached += len(p.Results)
		path, next = *p.Next, *p.Next
	}
	// Read 20 a page from there, like page 1.
	u, _ := url.Parse(path)
	q := u.Query()
	q.Del("page_size")
	u.RawQuery = q.Encode()
	return u.String(), reached, nil
}

type result struct {
	n        int
	errors   int
	rate     float64
	p50, p99 time.Duration
}

// measure sends GET url from o.concurrency workers until o.requests were
// sent or o.duration passed.
func measure(ctx context.Context, c *http.Client, o options, url, token string) result {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var sent atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var wg sync.WaitGroup
	start := time.Now()
	for range o.concurrency {
		wg.Go(func() {
			for sent.Add(1) <= int64(o.requests) && ctx.Err() == nil {
				t0 := time.Now()
				_, err := get(ctx, c, url, token)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := result{n: len(lat), errors: errs, rate: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100].Round(10 * time.Microsecond)
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)].Round(10 * time.Microsecond)
	}
	return r
}
