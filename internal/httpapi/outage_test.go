package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// faultyLink is a TCP proxy to PostgreSQL that can fail the way a database
// does: stopped (connections cut, new ones refused) or frozen (connections
// stay open, nothing comes back).
type faultyLink struct {
	t        *testing.T
	upstream string
	addr     string

	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
	frozen  bool
	thawed  chan struct{}
	stopped bool
}

func newFaultyLink(t *testing.T, upstream string) *faultyLink {
	l := &faultyLink{t: t, upstream: upstream, thawed: make(chan struct{})}
	close(l.thawed)
	l.listen("127.0.0.1:0")
	t.Cleanup(func() { l.stop(); l.thaw() })
	return l
}

func (l *faultyLink) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.ln, l.addr, l.stopped = ln, ln.Addr().String(), false
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", l.upstream)
			if err != nil {
				c.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, c, up)
			l.mu.Unlock()
			go l.pipe(c, up)
			go l.pipe(up, c)
		}
	}()
}

// pipe copies src to dst, holding what it read while the link is frozen.
func (l *faultyLink) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			l.mu.Lock()
			thawed := l.thawed
			l.mu.Unlock()
			<-thawed
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

func (l *faultyLink) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.frozen {
		l.frozen, l.thawed = true, make(chan struct{})
	}
}

func (l *faultyLink) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frozen {
		l.frozen = false
		close(l.thawed)
	}
}

func (l *faultyLink) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.stopped = true
	l.ln.Close()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func (l *faultyLink) start() { l.listen(l.addr) }

// A database that stops or freezes makes API requests answer 503 with
// Retry-After, promptly, and the service recovers by itself.
func TestDatabaseOutages(t *testing.T) {
	base, err := url.Parse(storetest.PostgresSchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	link := newFaultyLink(t, base.Host)
	through := *base
	through.Host = link.addr
	db, err := store.Open(context.Background(), through.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := apitest.New(t, db)
	u := s.SignUp(t)
	profile := func() (*apitest.Response, time.Duration) {
		start := time.Now()
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/profile/", Token: u.Access})
		return res, time.Since(start)
	}
	recovers := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, _ := profile()
			if res.Status == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no recovery after %s: %d %s", what, res.Status, res.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	unavailable := func(what string) {
		t.Helper()
		res, took := profile()
		// Prompt: the goal (under 1 s) is measured by bench/hostile; this
		// only makes sure nothing waits for TCP to give up.
		if res.Status != 503 || res.Header.Get("Retry-After") == "" || took > 3*time.Second {
			t.Fatalf("%s: %d after %s, Retry-After %q: %s", what, res.Status, took, res.Header.Get("Retry-After"), res.Body)
		}
	}
	if res, _ := profile(); res.Status != 200 {
		t.Fatalf("healthy: %d", res.Status)
	}

	link.freeze()
	unavailable("frozen database")
	unavailable("frozen database, next request")
	link.thaw()
	recovers("a freeze")

	link.stop()
	unavailable("stopped database")
	link.start()
	recovers("a restart")
}
