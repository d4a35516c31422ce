// Package mailtest runs a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit, a tool of this module, built by `go tool`),
// on loopback ports, with its REST API to read what arrived.
package mailtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mailpit is a running Mailpit server.
type Mailpit struct {
	smtpAddr string
	apiAddr  string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	mu       sync.Mutex
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds (once per test process; cached by the go command) and
// returns Mailpit's executable.
func binary() (string, error) {
	binOnce.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "mailpit").Output()
		if err != nil {
			binErr = fmt.Errorf("build mailpit (go tool -n mailpit): %w", err)
			return
		}
		binPath = strings.TrimSpace(string(out))
	})
	return binPath, binErr
}

// Start runs a Mailpit for the test and stops it when the test ends.
func Start(t testing.TB) *Mailpit {
	t.Helper()
	m := &Mailpit{smtpAddr: freeAddr(t), apiAddr: freeAddr(t), dir: t.TempDir()}
	if err := m.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

// SMTPURL is the URL for mail.NewSMTP: plain SMTP on loopback.
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.smtpAddr + "?tls=none" }

func (m *Mailpit) start() error {
	bin, err := binary()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cmd := exec.Command(bin, "--smtp", m.smtpAddr, "--listen", m.apiAddr,
		"--database", filepath.Join(m.dir, "mailpit.db"), "--quiet", "--disable-version-check",
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-disable-rdns")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mailpit: %w", err)
	}
	m.cmd, m.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { cmd.Wait(); close(exited) }(m.exited)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", m.smtpAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			if resp, err := http.Get("http://" + m.apiAddr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-m.exited:
			return fmt.Errorf("mailpit exited at start")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("mailpit did not start on %s", m.smtpAddr)
}

// Stop stops the server (its port refuses connections until Restart).
func (m *Mailpit) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}

// Restart starts a stopped server again on the same ports, with the
// messages it had.
func (m *Mailpit) Restart(t testing.TB) {
	t.Helper()
	if err := m.start(); err != nil {
		t.Fatal(err)
	}
}

// Summary is a message in a list.
type Summary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

// Message is one message as Mailpit parsed it.
type Message struct {
	ID      string
	Subject string
	Text    string
	HTML    string
	Headers map[string][]string
}

// Header returns the first value of header name.
func (m Message) Header(name string) string {
	for k, v := range m.Headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Search returns the messages to address, newest first.
func (m *Mailpit) Search(t testing.TB, to string) []Summary {
	t.Helper()
	var res struct{ Messages []Summary }
	m.get(t, "/api/v1/search?query="+url.QueryEscape(`to:"`+to+`"`), &res)
	return res.Messages
}

// Wait waits until n messages to address have arrived (at most timeout)
// and returns them in full, oldest first.
func (m *Mailpit) Wait(t testing.TB, to string, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list := m.Search(t, to)
		if len(list) >= n {
			out := make([]Message, 0, len(list))
			for i := len(list) - 1; i >= 0; i-- {
				out = append(out, m.Get(t, list[i].ID))
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d of %d messages to %s after %s", len(list), n, to, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitSubject waits until a message to address with subject has arrived
// (at most timeout) and returns the newest such: for a test whose messages
// to one address are delivered at once, in no set order.
func (m *Mailpit) WaitSubject(t testing.TB, to, subject string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, s := range m.Search(t, to) {
			if s.Subject == subject {
				return m.Get(t, s.ID)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: no message %q to %s after %s", subject, to, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Clear deletes the messages to address that have arrived.
func (m *Mailpit) Clear(t testing.TB, to string) {
	t.Helper()
	var ids []string
	for _, s := range m.Search(t, to) {
		ids = append(ids, s.ID)
	}
	if len(ids) == 0 {
		return
	}
	body, _ := json.Marshal(map[string][]string{"IDs": ids})
	req, _ := http.NewRequest(http.MethodDelete, "http://"+m.apiAddr+"/api/v1/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit delete: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit delete: %s", resp.Status)
	}
}

// Get returns a message with its headers.
func (m *Mailpit) Get(t testing.TB, id string) Message {
	t.Helper()
	var msg Message
	m.get(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	m.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &msg.Headers)
	return msg
}

func (m *Mailpit) get(t testing.TB, path string, into any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.apiAddr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
