package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

func init() {
	scenarios["1"] = scenario{name: "100 concurrent logins for unknown emails: the server's peak memory (goal < 300 MB)", run: loginBurst}
}

// loginBurst sends 100 logins for unknown emails at once (each costs an
// argon2id check of 19 MiB) while sampling the server's memory.
func loginBurst(ctx context.Context, env *environment) error {
	s, err := env.startServer(ctx, nil)
	if err != nil {
		return err
	}
	defer s.stop()
	_, before, _ := s.memory()

	var peakRSS, peakAnon int64
	sampling, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampling.Err() == nil {
			rss, _, anon := s.memory()
			peakRSS, peakAnon = max(peakRSS, rss), max(peakAnon, anon)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	const logins = 100
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: logins, MaxIdleConnsPerHost: logins}}
	answers := make([]answer, logins)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			answers[i] = call(ctx, client, "POST", s.base+"/api/auth/login/", "",
				map[string]string{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "not-the-password-1"})
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	stopSampling()
	<-sampled
	rssAfter, peak, anonAfter := s.memory()

	var took []time.Duration
	for _, a := range answers {
		took = append(took, a.took)
	}
	slices.Sort(took)
	fmt.Printf("   answers: %s in %s (latency p50 %s, p99 %s)\n", statusCounts(answers), elapsed.Round(time.Millisecond),
		percentile(took, 50).Round(time.Millisecond), percentile(took, 99).Round(time.Millisecond))
	fmt.Printf("   server memory: peak RSS (VmHWM) %s (at start %s); sampled peak RSS %s, RssAnon %s; after: RSS %s, RssAnon %s\n",
		mb(peak), mb(before), mb(peakRSS), mb(peakAnon), mb(rssAfter), mb(anonAfter))
	if peak >= 300<<20 {
		return fmt.Errorf("%w: peak RSS %s", errGoalMissed, mb(peak))
	}
	return nil
}
