package notify_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

func ingest(t *testing.T, s *apitest.Server, calls ...map[string]any) {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
		Body: map[string]any{"calls": calls}})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"failed":0`) {
		t.Fatalf("ingest: %d %s", res.Status, res.Body)
	}
}

func call(externalID string, userID int64, status string) map[string]any {
	return map[string]any{"external_id": externalID, "user_id": userID, "direction": "inbound",
		"from_number": "+923001234567", "to_number": "+924235761000", "status": status,
		"started_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
}

type listBody struct {
	UnreadCount int     `json:"unread_count"`
	Next        *string `json:"next"`
	Results     []struct {
		ID       int64
		Category string
		Kind     string
		Title    string
		Read     bool
		Data     map[string]string
	}
}

func list(t *testing.T, s *apitest.Server, token, query string) listBody {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/notifications/" + query, Token: token})
	if res.Status != 200 {
		t.Fatalf("list %s: %d %s", query, res.Status, res.Body)
	}
	var b listBody
	res.Decode(t, &b)
	return b
}

func TestNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)
		ingest(t, s, call("c1", me.UserID, "completed"), call("c2", me.UserID, "no-answer"), call("c3", me.UserID, "in-progress"),
			call("o1", other.UserID, "completed"))
		// The same report again, and an in-progress call finishing, raise
		// one more: each call's finish is told once.
		ingest(t, s, call("c1", me.UserID, "completed"), call("c3", me.UserID, "busy"))

		all := list(t, s, me.Access, "")
		if all.UnreadCount != 3 || len(all.Results) != 3 || all.Next != nil {
			t.Fatalf("list: %+v", all)
		}
		var kinds []string
		for _, n := range all.Results {
			kinds = append(kinds, n.Kind)
			if n.Category != "calls" || n.Read || n.Data["call_id"] == "" {
				t.Fatalf("notification: %+v", n)
			}
		}
		if !slices.Equal(kinds, []string{"call.missed", "call.missed", "call.finished"}) {
			t.Fatalf("kinds, newest first: %v", kinds)
		}
		theirs := list(t, s, other.Access, "").Results[0].ID

		first := list(t, s, me.Access, "?page_size=2")
		if len(first.Results) != 2 || first.Next == nil {
			t.Fatalf("first page: %+v", first)
		}
		second := s.Do(t, apitest.Request{Method: "GET", Path: *first.Next, Token: me.Access})
		var page2 listBody
		second.Decode(t, &page2)
		if len(page2.Results) != 1 || page2.Results[0].ID != all.Results[2].ID || page2.Next != nil {
			t.Fatalf("second page: %s", second.Body)
		}

		mark := func(token string, body any) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/notifications/mark-read/", Token: token, Body: body})
		}
		res := mark(me.Access, map[string]any{"ids": []int64{all.Results[0].ID, theirs}})
		if res.Status != 200 || !strings.Contains(string(res.Body), `"marked":1`) || !strings.Contains(string(res.Body), `"unread_count":2`) {
			t.Fatalf("mark one (and another user's): %d %s", res.Status, res.Body)
		}
		if got := list(t, s, other.Access, ""); got.UnreadCount != 1 {
			t.Fatalf("another user's notification was marked: %+v", got)
		}
		unread := list(t, s, me.Access, "?unread=true")
		if unread.UnreadCount != 2 || len(unread.Results) != 2 || slices.ContainsFunc(unread.Results, func(n struct {
			ID       int64
			Category string
			Kind     string
			Title    string
			Read     bool
			Data     map[string]string
		}) bool {
			return n.Read
		}) {
			t.Fatalf("unread: %+v", unread)
		}

		bad := []struct {
			name string
			body any
			loc  string
		}{
			{"neither ids nor all", map[string]any{}, "body.ids"},
			{"empty ids", map[string]any{"ids": []int64{}}, "body.ids"},
			{"both", map[string]any{"ids": []int64{1}, "all": true}, "body"},
			{"ids not numbers", map[string]any{"ids": []string{"x"}}, "body.ids[0]"},
			{"too many ids", map[string]any{"ids": make([]int64, 501)}, "body.ids"},
			{"unknown field", map[string]any{"all": true, "user_id": other.UserID}, "body.user_id"},
		}
		for _, tc := range bad {
			res := mark(me.Access, tc.body)
			if res.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, res), tc.loc) {
				t.Fatalf("%s: %d %s, want 422 naming %s", tc.name, res.Status, res.Body, tc.loc)
			}
		}
		for _, q := range []string{"?page_size=0", "?page_size=101", "?cursor=abc", "?unread=maybe"} {
			if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/notifications/" + q, Token: me.Access}); res.Status != 422 {
				t.Fatalf("list %s: %d", q, res.Status)
			}
		}
		if got := list(t, s, me.Access, ""); got.UnreadCount != 2 {
			t.Fatalf("refused mark-read changed something: %+v", got)
		}

		if res := mark(me.Access, map[string]any{"all": true}); res.Status != 200 || !strings.Contains(string(res.Body), `"unread_count":0`) {
			t.Fatalf("mark all: %d %s", res.Status, res.Body)
		}
		var o struct {
			Unread *int `json:"unread_notifications"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/", Token: me.Access}).Decode(t, &o)
		if o.Unread == nil || *o.Unread != 0 {
			t.Fatalf("overview unread_notifications: %v", o.Unread)
		}
		if got := list(t, s, other.Access, ""); got.UnreadCount != 1 {
			t.Fatalf("mark all reached another user: %+v", got)
		}

		// A disabled category creates nothing.
		if res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/settings/", Token: me.Access,
			Body: map[string]any{"notifications": map[string]any{"calls": false}}}); res.Status != 200 {
			t.Fatalf("settings: %d %s", res.Status, res.Body)
		}
		ingest(t, s, call("c4", me.UserID, "completed"))
		if got := list(t, s, me.Access, ""); len(got.Results) != 3 {
			t.Fatalf("a call notification despite the setting: %+v", got)
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/notifications/"}); res.Status != 401 {
			t.Fatalf("without a token: %d", res.Status)
		}
	})
}

// sseEvent is one event of a stream; comment holds a comment line.
type sseEvent struct {
	id, event, data, comment string
}

// openStream opens the stream with ticket (and a Last-Event-ID when
// lastID is not empty) and returns the answer and its events, read in the
// background until the stream ends (then the channel closes).
func openStream(t *testing.T, srv *httptest.Server, ticket, lastID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+"/api/dashboard/user/notifications/stream/?ticket="+ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	events := make(chan sseEvent, 100)
	if res.StatusCode != 200 {
		close(events)
		return res, events
	}
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e != (sseEvent{}) {
					events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, ":"):
				events <- sseEvent{comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
	}()
	return res, events
}

// next waits for the next event named name (skipping comments and other
// events) for at most d.
func next(t *testing.T, events <-chan sseEvent, name string, d time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended while waiting for %q", name)
			}
			if e.event == name || (name == ":" && e.comment != "") {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event within %v", name, d)
		}
	}
}

func ticket(t *testing.T, s *apitest.Server, token string) string {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/notifications/stream-ticket/", Token: token})
	if res.Status != 201 {
		t.Fatalf("ticket: %d %s", res.Status, res.Body)
	}
	var out struct {
		Ticket    string
		ExpiresAt time.Time `json:"expires_at"`
	}
	res.Decode(t, &out)
	if len(out.Ticket) < 40 || out.ExpiresAt.IsZero() {
		t.Fatalf("ticket: %s", res.Body)
	}
	return out.Ticket
}

func streamOptions(c *app.Config) {
	c.Notify.Heartbeat = 50 * time.Millisecond
	c.Notify.SessionCheck = 50 * time.Millisecond
	c.Notify.StreamsPerUser = 2
}

func TestNotificationStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, streamOptions)
		srv := httptest.NewServer(s.Handler)
		t.Cleanup(srv.Close) // after the streams' bodies close (cleanups run last first)
		me, other := s.SignUp(t), s.SignUp(t)

		tk := ticket(t, s, me.Access)
		res, events := openStream(t, srv, tk, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
		}
		next(t, events, ":", time.Second) // opened; heartbeats follow

		// A call ingested through the platform API reaches the stream
		// within a second; another user's does not.
		start := time.Now()
		ingest(t, s, call("o1", other.UserID, "completed"), call("m1", me.UserID, "no-answer"))
		e := next(t, events, "notification", time.Second)
		t.Logf("notification on the stream %v after the ingest request started", time.Since(start).Round(time.Millisecond))
		var n struct {
			ID   int64
			Kind string
			Data map[string]string
		}
		if err := json.Unmarshal([]byte(e.data), &n); err != nil || n.Kind != "call.missed" || e.id != fmt.Sprint(n.ID) {
			t.Fatalf("event: %+v (%v)", e, err)
		}
		beat := next(t, events, ":", time.Second)
		if beat.comment != "heartbeat" {
			t.Fatalf("heartbeat: %+v", beat)
		}

		// Tickets are single use, expire, and are needed at all.
		if res, _ := openStream(t, srv, tk, ""); res.StatusCode != 401 {
			t.Fatalf("reused ticket: %d", res.StatusCode)
		}
		if res, _ := openStream(t, srv, "not-a-ticket", ""); res.StatusCode != 401 {
			t.Fatalf("unknown ticket: %d", res.StatusCode)
		}
		if res, _ := openStream(t, srv, "", ""); res.StatusCode != 422 {
			t.Fatalf("no ticket: %d", res.StatusCode)
		}
		stale := ticket(t, s, me.Access)
		sum := sha256.Sum256([]byte(stale))
		var stored int
		if err := db.Read().QueryRow(`SELECT count(*) FROM notification_stream_tickets WHERE ticket_hash = $1`, sum[:]).Scan(&stored); err != nil || stored != 1 {
			t.Fatalf("the ticket is stored by its SHA-256: %d %v", stored, err)
		}
		s.Clock.Advance(31 * time.Second)
		if res, _ := openStream(t, srv, stale, ""); res.StatusCode != 401 {
			t.Fatalf("expired ticket: %d", res.StatusCode)
		}
		if res, _ := openStream(t, srv, ticket(t, s, me.Access), "not-a-number"); res.StatusCode != 422 {
			t.Fatalf("bad Last-Event-ID: %d", res.StatusCode)
		}
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/notifications/stream-ticket/"}); res.Status != 401 {
			t.Fatalf("ticket without a token: %d", res.Status)
		}

		// Last-Event-ID resumes after the given notification.
		ingest(t, s, call("m2", me.UserID, "completed"))
		next(t, events, "notification", time.Second)
		res2, resumed := openStream(t, srv, ticket(t, s, me.Access), "0")
		if res2.StatusCode != 200 {
			t.Fatalf("resume: %d", res2.StatusCode)
		}
		var ids []string
		for range 2 {
			ids = append(ids, next(t, resumed, "notification", time.Second).id)
		}
		if ids[0] != e.id {
			t.Fatalf("resume from 0 replays everything in order: %v, first should be %s", ids, e.id)
		}

		// At most two streams for this user (configured); others still open.
		if res, _ := openStream(t, srv, ticket(t, s, me.Access), ""); res.StatusCode != 429 {
			t.Fatalf("third stream: %d", res.StatusCode)
		}
		if res, _ := openStream(t, srv, ticket(t, s, other.Access), ""); res.StatusCode != 200 {
			t.Fatalf("another user's stream: %d", res.StatusCode)
		}

		// Signing the session out ends its streams.
		second := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
		var sessions struct {
			Results []struct {
				ID      int64
				Current bool
			}
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/sessions/", Token: second.JSON(t)["access"].(string)}).Decode(t, &sessions)
		for _, sess := range sessions.Results {
			if !sess.Current {
				if res := s.Do(t, apitest.Request{Method: "DELETE", Path: fmt.Sprintf("/api/dashboard/user/sessions/%d/", sess.ID), Token: second.JSON(t)["access"].(string)}); res.Status != 204 {
					t.Fatalf("revoke: %d", res.Status)
				}
			}
		}
		next(t, events, "session-ended", 2*time.Second)
		for _, ch := range []<-chan sseEvent{events, resumed} {
			deadline := time.After(2 * time.Second)
		drain:
			for {
				select {
				case _, ok := <-ch:
					if !ok {
						break drain
					}
				case <-deadline:
					t.Fatal("a stream of the revoked session stayed open")
				}
			}
		}
		waitFor(t, func() bool { return s.Notify.OpenStreams() == 1 }) // the other user's
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// TestPollStartsWithTheService: a notification another instance stores
// after this one was built, but before its background work got its first
// turn, still reaches a stream opened in between.
func TestPollStartsWithTheService(t *testing.T) {
	db := storetest.Postgres(t)
	a := apitest.NewUnstarted(t, db, streamOptions)
	b := apitest.New(t, db, streamOptions)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	me := a.SignUp(t)
	res, events := openStream(t, srv, ticket(t, a, me.Access), "")
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	next(t, events, ":", time.Second)
	ingest(t, b, call("before-run", me.UserID, "completed"))
	a.Start()
	if e := next(t, events, "notification", 5*time.Second); !strings.Contains(e.data, `"call.finished"`) {
		t.Fatalf("event: %+v", e)
	}
}

// TestStreamAcrossInstances: two instances share one PostgreSQL database;
// a call ingested on one reaches a stream served by the other within a
// second (its poll), not only streams of the same process.
func TestStreamAcrossInstances(t *testing.T) {
	db := storetest.Postgres(t)
	a := apitest.New(t, db, streamOptions)
	b := apitest.New(t, db, streamOptions)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	me := a.SignUp(t)
	res, events := openStream(t, srv, ticket(t, a, me.Access), "")
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	next(t, events, ":", time.Second)
	start := time.Now()
	ingest(t, b, call("elsewhere", me.UserID, "completed"))
	// The poll runs every 500 ms; the deadline leaves room for a machine
	// busy with other tests (the time it took is logged, not asserted).
	e := next(t, events, "notification", 5*time.Second)
	t.Logf("a notification stored by another instance reached the stream after %v", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(e.data, `"call.finished"`) {
		t.Fatalf("event: %+v", e)
	}
}
