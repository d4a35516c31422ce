package calls_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/humatest"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/apperr"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// base is the start of the test calls' history.
var base = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func at(minutes int) string {
	return base.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)
}

// call is a valid new call for user: override fields as needed.
func call(ext string, userID int64, minutes int) map[string]any {
	return map[string]any{
		"external_id": ext, "user_id": userID, "direction": "outbound",
		"from_number": "+923001234567", "to_number": "+442071234567",
		"status": "completed", "started_at": at(minutes),
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

type summary struct {
	Created, Updated, Unchanged, Failed int
	Results                             []struct {
		Index      int
		ExternalID string `json:"external_id"`
		ID         *int64
		Status     string
		Errors     []struct{ Location, Message string }
	}
}

func ingest(t *testing.T, s *apitest.Server, list ...map[string]any) summary {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: map[string]any{"calls": list},
		Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
	if res.Status != http.StatusOK {
		t.Fatalf("ingest: %d %s", res.Status, res.Body)
	}
	var sum summary
	res.Decode(t, &sum)
	return sum
}

func countCalls(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow(`SELECT COUNT(*) FROM calls`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type listed struct {
	Count      *int
	CountExact bool `json:"count_exact"`
	Next       *string
	Previous   *string
	Results    []listedCall
}

type listedCall struct {
	ID              int64
	ExternalID      string `json:"external_id"`
	Status          string
	DurationSeconds int `json:"duration_seconds"`
	Satisfaction    *int
	Agent           *struct {
		ID          int64
		Name, Voice string
	}
}

func (l listed) externals() []string {
	var out []string
	for _, r := range l.Results {
		out = append(out, r.ExternalID)
	}
	return out
}

func list(t *testing.T, s *apitest.Server, token, query string) listed {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/?" + query, Token: token})
	if res.Status != http.StatusOK {
		t.Fatalf("list %q: %d %s", query, res.Status, res.Body)
	}
	var l listed
	res.Decode(t, &l)
	return l
}

func TestPlatformAuth(t *testing.T) {
	db := storetest.SQLite(t)
	s := apitest.New(t, db)
	u := s.SignUp(t)
	body := map[string]any{"calls": []any{call("auth-1", u.UserID, 0)}}
	for _, tc := range []struct {
		name   string
		header map[string]string
		token  string
		want   int
	}{
		{"no key", nil, "", http.StatusUnauthorized},
		{"wrong key", map[string]string{calls.PlatformHeader: "nope"}, "", http.StatusUnauthorized},
		{"key prefix", map[string]string{calls.PlatformHeader: apitest.PlatformKey[:10]}, "", http.StatusUnauthorized},
		{"user access token", nil, u.Access, http.StatusUnauthorized},
		{"X-Platform-Key", map[string]string{calls.PlatformHeader: apitest.PlatformKey}, "", http.StatusOK},
		{"bearer key", map[string]string{"Authorization": "Bearer " + apitest.PlatformKey}, "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: body, Header: tc.header, Token: tc.token})
			if res.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.want, res.Body)
			}
		})
	}
	// A user token never reaches the history as the platform either way, and
	// the platform key is no user token.
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/", Token: apitest.PlatformKey})
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("platform key on a user route: %d", res.Status)
	}
	// With no key configured the platform API is off, whatever is presented.
	_, api := humatest.New(t)
	calls.NewService(calls.Config{DB: db, Accounts: s.Auth}).Register(api)
	for _, h := range []string{calls.PlatformHeader + ": ", calls.PlatformHeader + ": anything", "Authorization: Bearer "} {
		if res := api.Post("/api/platform/calls/", h, body); res.Code != http.StatusUnauthorized {
			t.Fatalf("disabled platform API with %q: %d %s", h, res.Code, res.Body)
		}
	}
}

func TestIngestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		if _, err := db.Write().Exec(`INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at, deleted_at)
			VALUES ('gone@example.com', 'x', 'G', 'One', 1, 1, 2)`); err != nil {
			t.Fatal(err)
		}
		var goneID int64
		if err := db.Read().QueryRow(`SELECT id FROM users WHERE email = 'gone@example.com'`).Scan(&goneID); err != nil {
			t.Fatal(err)
		}
		unverified := s.SignUp(t)
		good := call("good", u.UserID, 0)
		for _, tc := range []struct {
			name string
			call map[string]any
			loc  string
		}{
			{"unknown user", with(good, "user_id", 999999), "user_id"},
			{"email not verified", with(good, "user_id", nil, "user_email", unverified.Email), "user_email"},
			{"deleted user", with(good, "user_id", goneID), "user_id"},
			{"unknown email", with(good, "user_id", nil, "user_email", "nobody@example.com"), "user_email"},
			{"deleted user by email", with(good, "user_id", nil, "user_email", "gone@example.com"), "user_email"},
			{"no user", with(good, "user_id", nil), "user_id"},
			{"both user id and email", with(good, "user_email", u.Email), "user_id"},
			{"bad status", with(good, "status", "exploded"), "status"},
			{"no external id", with(good, "external_id", " "), "external_id"},
			{"bad direction", with(good, "direction", "sideways"), "direction"},
			{"missing direction", with(good, "direction", nil), "direction"},
			{"missing from number", with(good, "from_number", nil), "from_number"},
			{"missing started_at", with(good, "started_at", nil), "started_at"},
			{"bad started_at", with(good, "started_at", "yesterday"), "started_at"},
			{"ended before started", with(good, "ended_at", at(-1)), "ended_at"},
			{"answered before started", with(good, "answered_at", at(-1)), "answered_at"},
			{"ended before answered", with(good, "answered_at", at(5), "ended_at", at(4)), "ended_at"},
			{"negative duration", with(good, "duration_seconds", -1), "duration_seconds"},
			{"satisfaction 0", with(good, "satisfaction", 0), "satisfaction"},
			{"satisfaction 6", with(good, "satisfaction", 6), "satisfaction"},
			{"bad sentiment", with(good, "sentiment", "angry"), "sentiment"},
			{"negative cost", with(good, "cost", map[string]any{"amount": -5, "currency": "USD"}), "cost.amount"},
			{"bad currency", with(good, "cost", map[string]any{"amount": 5, "currency": "dollars"}), "cost.currency"},
			{"cost without amount", with(good, "cost", map[string]any{"currency": "USD"}), "cost.amount"},
			{"cost without currency", with(good, "cost", map[string]any{"amount": 5}), "cost.currency"},
			{"recording not a URL", with(good, "recording_url", "javascript:alert(1)"), "recording_url"},
			{"agent without id", with(good, "agent", map[string]any{"name": "Sara"}), "agent.external_id"},
			{"summary too long", with(good, "summary", strings.Repeat("x", 10_001)), "summary"},
			{"from number of words", with(good, "from_number", "call me maybe"), "from_number"},
			{"to number without a country code we know", with(good, "to_number", "+999 1234 5678"), "to_number"},
			{"to number too short", with(good, "to_number", "+92 30"), "to_number"},
			{"from number, a word not documented", with(good, "from_number", "private"), "from_number"},
			{"from number, an empty SIP URI", with(good, "from_number", "sip:"), "from_number"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := countCalls(t, db)
				bad := with(tc.call, "external_id", tc.call["external_id"])
				if tc.call["external_id"] == "good" {
					bad["external_id"] = "bad-" + strings.ReplaceAll(tc.name, " ", "-")
				}
				ok := with(good, "external_id", "ok-"+strings.ReplaceAll(tc.name, " ", "-"))
				sum := ingest(t, s, bad, ok)
				if sum.Failed != 1 || sum.Created != 1 {
					t.Fatalf("want 1 failed and 1 created, got %+v", sum)
				}
				r := sum.Results[0]
				if r.Status != "error" || r.ID != nil || len(r.Errors) == 0 {
					t.Fatalf("result 0: %+v", r)
				}
				want := "body.calls[0]." + tc.loc
				if !slices.ContainsFunc(r.Errors, func(e struct{ Location, Message string }) bool { return e.Location == want }) {
					t.Fatalf("errors %+v do not name %s", r.Errors, want)
				}
				if sum.Results[1].Status != "created" || sum.Results[1].Index != 1 {
					t.Fatalf("result 1: %+v", sum.Results[1])
				}
				if got := countCalls(t, db); got != before+1 {
					t.Fatalf("calls %d, want %d: the bad one was stored", got, before+1)
				}
			})
		}
		t.Run("batch bounds", func(t *testing.T) {
			for _, n := range []int{0, calls.MaxBatch + 1} {
				list := make([]map[string]any, n)
				for i := range list {
					list[i] = call(fmt.Sprintf("bound-%d", i), u.UserID, i)
				}
				res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: map[string]any{"calls": list},
					Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%d calls: %d %s", n, res.Status, res.Body)
				}
			}
		})
		t.Run("unknown field", func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/",
				Body:   map[string]any{"calls": []any{with(good, "is_admin", true)}},
				Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
		})
		t.Run("external id of another user", func(t *testing.T) {
			other := s.SignUp(t)
			ingest(t, s, call("owned", u.UserID, 0))
			sum := ingest(t, s, call("owned", other.UserID, 0))
			if sum.Failed != 1 || sum.Results[0].Errors[0].Location != "body.calls[0].external_id" {
				t.Fatalf("%+v", sum)
			}
		})
		t.Run("by email", func(t *testing.T) {
			s.MarkVerified(t, u.UserID)
			sum := ingest(t, s, with(good, "external_id", "by-email", "user_id", nil, "user_email", strings.ToUpper(u.Email)))
			if sum.Created != 1 {
				t.Fatalf("%+v", sum)
			}
		})
	})
}

// TestIngestRoutesByVerifiedEmail: a call by user_email reaches only an
// account that verified the address (whoever registers a customer's
// address first must not receive the customer's calls); an unverified
// one's call is refused, saying why, and nothing of it is stored (no call,
// no agent); user_id routing does not depend on it.
func TestIngestRoutesByVerifiedEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		squatter := s.SignUp(t)
		countAgents := func() int {
			var n int
			if err := db.Read().QueryRow(`SELECT COUNT(*) FROM agents`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		byEmail := with(call("routed-by-email", 0, 0), "user_id", nil, "user_email", squatter.Email,
			"agent", map[string]any{"external_id": "ag-1", "name": "Sana"})

		sum := ingest(t, s, byEmail)
		if sum.Failed != 1 || sum.Created != 0 || len(sum.Results[0].Errors) != 1 {
			t.Fatalf("unverified: %+v", sum)
		}
		e := sum.Results[0].Errors[0]
		if e.Location != "body.calls[0].user_email" || !strings.Contains(e.Message, "has not verified") || !strings.Contains(e.Message, "user_id") {
			t.Fatalf("the refusal does not say why: %+v", e)
		}
		if n := countCalls(t, db); n != 0 {
			t.Fatalf("%d calls stored for an unverified address", n)
		}
		if n := countAgents(); n != 0 {
			t.Fatalf("%d agents stored for an unverified address", n)
		}

		// By id, the same account receives calls.
		if sum := ingest(t, s, call("routed-by-id", squatter.UserID, 0)); sum.Created != 1 {
			t.Fatalf("by id: %+v", sum)
		}
		// Once verified (package auth tests the link itself), by email too.
		s.MarkVerified(t, squatter.UserID)
		sum = ingest(t, s, byEmail)
		if sum.Created != 1 {
			t.Fatalf("verified: %+v", sum)
		}
		var owner int64
		if err := db.Read().QueryRow(`SELECT user_id FROM calls WHERE external_id = 'routed-by-email'`).Scan(&owner); err != nil || owner != squatter.UserID {
			t.Fatalf("owner %d %v", owner, err)
		}
	})
}

// TestIngestRefusesBadText: NUL (and other control characters) and bytes
// that are not UTF-8 are refused in every text field of a report, for that
// call alone and naming the field, on both databases (PostgreSQL cannot
// store NUL in text; a JSON decoder silently turns bad bytes into U+FFFD).
func TestIngestRefusesBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		for _, tc := range []struct {
			field string
			set   func(c map[string]any, v string)
		}{
			{"external_id", func(c map[string]any, v string) { c["external_id"] = c["external_id"].(string) + v }},
			{"user_email", func(c map[string]any, v string) { delete(c, "user_id"); c["user_email"] = u.Email + v }},
			{"agent.external_id", func(c map[string]any, v string) { c["agent"] = map[string]any{"external_id": "ag" + v} }},
			{"agent.name", func(c map[string]any, v string) { c["agent"] = map[string]any{"external_id": "ag", "name": "Sara" + v} }},
			{"agent.voice", func(c map[string]any, v string) {
				c["agent"] = map[string]any{"external_id": "ag", "voice": "alloy" + v}
			}},
			{"end_reason", func(c map[string]any, v string) { c["end_reason"] = "customer" + v }},
			{"summary", func(c map[string]any, v string) { c["summary"] = "Refund asked.\n" + v }},
			{"transcript", func(c map[string]any, v string) { c["transcript"] = "Agent: hi\nCustomer:\t" + v }},
			{"recording_url", func(c map[string]any, v string) { c["recording_url"] = "https://rec.example.com/" + v }},
		} {
			// The values as they appear in the body: JSON escapes, or a raw byte.
			for _, bad := range []struct{ name, value string }{{"NUL", `\u0000`}, {"escape", `\u001b`}, {"invalid UTF-8", "\xff"}} {
				t.Run(tc.field+" "+bad.name, func(t *testing.T) {
					before := countCalls(t, db)
					ext := "text-" + strings.ReplaceAll(tc.field+"-"+bad.name, " ", "-")
					c := call(ext, u.UserID, 0)
					tc.set(c, "MARK")
					raw, err := json.Marshal(map[string]any{"calls": []any{c, call(ext+"-ok", u.UserID, 0)}})
					if err != nil {
						t.Fatal(err)
					}
					body := strings.Replace(string(raw), "MARK", bad.value, 1)
					res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: []byte(body),
						Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
					if res.Status != http.StatusOK {
						t.Fatalf("%d %s", res.Status, res.Body)
					}
					var sum summary
					res.Decode(t, &sum)
					want := "body.calls[0]." + tc.field
					if sum.Created != 1 || sum.Failed != 1 || len(sum.Results[0].Errors) == 0 || sum.Results[0].Errors[0].Location != want {
						t.Fatalf("want the call refused at %s and the other stored: %+v", want, sum)
					}
					if got := countCalls(t, db); got != before+1 {
						t.Fatalf("calls %d, want %d", got, before+1)
					}
				})
			}
		}
	})
}

// TestFiltersRefuseBadText: NUL and bytes that are not UTF-8 in the text
// filters are a 422 naming the parameter on both databases, never a 500.
func TestFiltersRefuseBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		for _, param := range []string{"end_reason", "search", "status"} {
			for _, value := range []string{"%00", "a%00b", "%FF", "caf%C3", "x%1Fy"} {
				for _, path := range []string{"/api/dashboard/user/calls/?", "/api/dashboard/user/calls/export/?"} {
					res := s.Do(t, apitest.Request{Method: "GET", Path: path + param + "=" + value, Token: u.Access})
					if res.Status != http.StatusUnprocessableEntity || !slices.Contains(apitest.ErrorLocations(t, res), "query."+param) {
						t.Fatalf("%s%s=%s: %d %s", path, param, value, res.Status, res.Body)
					}
				}
			}
		}
	})
}

// TestSearchWalksThenAsksTheIndex: a search first walks the newest calls
// (on PostgreSQL) and asks the index only when they do not fill the page;
// either way it finds exactly the matching calls, page after page.
func TestSearchWalksThenAsksTheIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		calls.SetWalkBound(s.Calls, 5)
		var batch []map[string]any
		for i := range 30 {
			summary := "nothing to see"
			switch {
			case i >= 20:
				summary = "a frequent topic"
			case i == 0:
				summary = "a zanzibar trip"
			}
			batch = append(batch, with(call(fmt.Sprintf("walk-%02d", i), u.UserID, i), "summary", summary))
		}
		ingest(t, s, batch...)

		// The rare word lies beyond the walk: the index finds it.
		if l := list(t, s, u.Access, "search=zanzibar"); !slices.Equal(l.externals(), []string{"walk-00"}) || l.Count == nil || *l.Count != 1 {
			t.Fatalf("rare word: %v, count %v", l.externals(), l.Count)
		}
		// A page the walk fills, then the following pages by cursor.
		var all []string
		next := "search=frequent&page_size=2"
		for range 10 {
			l := list(t, s, u.Access, next)
			all = append(all, l.externals()...)
			if l.Next == nil {
				break
			}
			next = strings.SplitN(*l.Next, "?", 2)[1]
		}
		var want []string
		for i := 29; i >= 20; i-- {
			want = append(want, fmt.Sprintf("walk-%02d", i))
		}
		if !slices.Equal(all, want) {
			t.Fatalf("common word, page by page: %v, want %v", all, want)
		}
		// A page the walk cannot fill falls back to the index, count and all.
		if l := list(t, s, u.Access, "search=frequent"); len(l.Results) != 10 || l.Count == nil || *l.Count != 10 {
			t.Fatalf("common word, one page: %v, count %v", l.externals(), l.Count)
		}
	})
}

// TestSearchBounds: a user runs at most two searches at once (a third is
// 429 with Retry-After, while pages without a search and other users'
// searches go on), and a search that outlasts its time answers 503, not a
// hung request or a 500.
func TestSearchBounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		ingest(t, s, with(call("sb-1", u.UserID, 0), "summary", "refund asked"), with(call("sb-2", other.UserID, 0), "summary", "refund asked"))
		get := func(token, query string) *apitest.Response {
			return s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/?" + query, Token: token})
		}
		release := calls.HoldSearchSlots(s.Calls, u.UserID, 2)
		if res := get(u.Access, "search=refund"); res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("a third search at once: %d %v %s", res.Status, res.Header, res.Body)
		}
		if res := get(u.Access, "status=completed"); res.Status != http.StatusOK {
			t.Fatalf("a page without a search while searches run: %d %s", res.Status, res.Body)
		}
		if res := get(other.Access, "search=refund"); res.Status != http.StatusOK {
			t.Fatalf("another user's search: %d %s", res.Status, res.Body)
		}
		release()
		if l := list(t, s, u.Access, "search=refund"); len(l.Results) != 1 {
			t.Fatalf("after the searches ended: %+v", l)
		}

		calls.SetSearchTimeout(s.Calls, time.Nanosecond)
		res := get(u.Access, "search=refund")
		if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Fatalf("a search past its time: %d %v %s", res.Status, res.Header, res.Body)
		}
		if res := get(u.Access, ""); res.Status != http.StatusOK {
			t.Fatalf("a page without a search has no search timeout: %d %s", res.Status, res.Body)
		}
	})
}

// TestIngestNullObjects: agent and cost may be null, which the document
// says, and which means what leaving them out means: the stored values stay.
// An unknown field inside cost is refused like any other.
func TestIngestNullObjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		first := with(call("nulls", u.UserID, 0), "agent", map[string]any{"external_id": "ag", "name": "Sara"},
			"cost", map[string]any{"amount": 120, "currency": "PKR"})
		sum := ingest(t, s, first)
		sum = ingest(t, s, with(first, "agent", nil, "cost", nil, "summary", "later"))
		if sum.Updated != 1 {
			t.Fatalf("%+v", sum)
		}
		d := s.Do(t, apitest.Request{Method: "GET", Path: fmt.Sprintf("/api/dashboard/user/calls/%d/", *sum.Results[0].ID), Token: u.Access}).JSON(t)
		agent, _ := d["agent"].(map[string]any)
		cost, _ := d["cost"].(map[string]any)
		if agent == nil || agent["name"] != "Sara" || cost == nil || cost["amount"] != float64(120) || d["summary"] != "later" {
			t.Fatalf("null erased a stored value: %v", d)
		}
		if sum := ingest(t, s, with(call("nulls-new", u.UserID, 0), "agent", nil, "cost", nil)); sum.Created != 1 {
			t.Fatalf("a new call with null agent and cost: %+v", sum)
		}
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey},
			Body: map[string]any{"calls": []any{with(call("cost-extra", u.UserID, 0), "cost", map[string]any{"amount": 1, "currency": "USD", "tax": 1})}}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown field in cost: %d %s", res.Status, res.Body)
		}

		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]struct {
						AnyOf []map[string]any `json:"anyOf"`
					} `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"}).Decode(t, &doc)
		for _, name := range []string{"agent", "cost"} {
			anyOf := doc.Components.Schemas["IngestCall"].Properties[name].AnyOf
			if !slices.ContainsFunc(anyOf, func(m map[string]any) bool { return m["type"] == "null" }) {
				t.Fatalf("the document does not say %s may be null: %v", name, anyOf)
			}
		}
	})
}

// TestIngestNumbers: numbers are stored in E.164 whatever their
// punctuation, the documented non-numbers as such, and a bad number refuses
// only its own call, naming the field.
func TestIngestNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		for _, tc := range []struct{ from, to, wantFrom, wantTo string }{
			{"+92 300 123-4567", "(0044) 20 7123 4567", "+923001234567", "+442071234567"},
			{"03001234567", "+1 (415) 555.0100", "+923001234567", "+14155550100"},
			{"anonymous", "Unknown", "anonymous", "unknown"},
			{"sip:alice@pbx.example.com", "sips:bob@10.0.0.1:5061", "sip:alice@pbx.example.com", "sips:bob@10.0.0.1:5061"},
		} {
			ext := "num-" + tc.wantFrom + "-" + tc.wantTo
			sum := ingest(t, s, with(call(ext, u.UserID, 0), "from_number", tc.from, "to_number", tc.to),
				with(call(ext+"-bad", u.UserID, 0), "to_number", "not a number"))
			if sum.Created != 1 || sum.Failed != 1 || sum.Results[1].Errors[0].Location != "body.calls[1].to_number" {
				t.Fatalf("%s / %s: %+v", tc.from, tc.to, sum)
			}
			d := s.Do(t, apitest.Request{Method: "GET", Path: fmt.Sprintf("/api/dashboard/user/calls/%d/", *sum.Results[0].ID), Token: u.Access}).JSON(t)
			if d["from_number"] != tc.wantFrom || d["to_number"] != tc.wantTo {
				t.Fatalf("%s / %s stored as %v / %v", tc.from, tc.to, d["from_number"], d["to_number"])
			}
		}
	})
}

type recorder struct {
	mu      sync.Mutex
	changes []string // "ext before->after"
	events  []calls.CallEvent
	fail    bool
}

func (r *recorder) CallChanged(ctx context.Context, tx *sql.Tx, before, after *calls.Call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("observer refused")
	}
	was := "nil"
	if before != nil {
		was = string(before.Status)
	}
	// The observer sees the row it is told about, inside the transaction.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE id = $1`, after.ID).Scan(&n); err != nil || n != 1 {
		return fmt.Errorf("call %d not visible in tx: %v", after.ID, err)
	}
	r.changes = append(r.changes, after.ExternalID+" "+was+"->"+string(after.Status))
	return nil
}

func (r *recorder) CallsChanged(_ context.Context, events []calls.CallEvent) {
	r.mu.Lock()
	r.events = append(r.events, events...)
	r.mu.Unlock()
}

func TestIngestMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := &recorder{}
		s := apitest.New(t, db, func(c *app.Config) { c.Calls.Observer, c.Calls.Publisher = rec, rec })
		u := s.SignUp(t)
		queued := with(call("m-1", u.UserID, 0), "status", "queued", "agent", map[string]any{"external_id": "ag-1", "name": "Sara", "voice": "alloy"})
		sum := ingest(t, s, queued)
		if sum.Created != 1 {
			t.Fatalf("%+v", sum)
		}
		id := *sum.Results[0].ID

		// Idempotent: the same report again changes nothing and tells no one.
		if sum := ingest(t, s, queued); sum.Unchanged != 1 || *sum.Results[0].ID != id {
			t.Fatalf("re-send: %+v", sum)
		}
		done := with(queued, "status", "completed", "answered_at", at(1), "ended_at", at(5), "duration_seconds", 240,
			"satisfaction", 4, "sentiment", "positive", "end_reason", "customer-ended", "cost", map[string]any{"amount": 125, "currency": "USD"},
			"transcript", "Agent: Assalam o alaikum! Customer: I want to reschedule my appointment.")
		if sum := ingest(t, s, done); sum.Updated != 1 {
			t.Fatalf("complete: %+v", sum)
		}
		// A late ringing never moves the status back and overwrites nothing,
		// but fills what is still empty (the summary).
		late := with(queued, "status", "ringing", "duration_seconds", 3, "summary", "Rescheduled to Friday.", "satisfaction", 1)
		if sum := ingest(t, s, late); sum.Updated != 1 {
			t.Fatalf("late: %+v", sum)
		}
		// Another finished status is stale too.
		if sum := ingest(t, s, with(done, "status", "failed", "duration_seconds", 1)); sum.Unchanged != 1 {
			t.Fatalf("other terminal status: %+v", sum)
		}
		res := s.Do(t, apitest.Request{Method: "GET", Path: fmt.Sprintf("/api/dashboard/user/calls/%d/", id), Token: u.Access})
		if res.Status != http.StatusOK {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		got := res.JSON(t)
		for k, want := range map[string]any{"status": "completed", "duration_seconds": 240.0, "satisfaction": 4.0,
			"summary": "Rescheduled to Friday.", "sentiment": "positive", "end_reason": "customer-ended"} {
			if got[k] != want {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
		if a := got["agent"].(map[string]any); a["name"] != "Sara" || a["voice"] != "alloy" {
			t.Errorf("agent %v", a)
		}
		if c := got["cost"].(map[string]any); c["amount"] != 125.0 || c["currency"] != "USD" {
			t.Errorf("cost %v", c)
		}
		// A summary sent again with the final status may replace it.
		if sum := ingest(t, s, with(done, "summary", "Moved to Friday 3pm.")); sum.Updated != 1 {
			t.Fatalf("summary update: %+v", sum)
		}
		// Agent renamed by a later report.
		if sum := ingest(t, s, with(done, "summary", "Moved to Friday 3pm.", "agent", map[string]any{"external_id": "ag-1", "name": "Sara B"})); sum.Unchanged != 1 {
			t.Fatalf("agent rename alone leaves the call unchanged: %+v", sum)
		}
		wantChanges := []string{"m-1 nil->queued", "m-1 queued->completed", "m-1 completed->completed", "m-1 completed->completed"}
		if !slices.Equal(rec.changes, wantChanges) {
			t.Fatalf("observer saw %v, want %v", rec.changes, wantChanges)
		}
		if len(rec.events) != 4 || !rec.events[0].Created || rec.events[1].PreviousStatus != calls.StatusQueued ||
			rec.events[1].Status != calls.StatusCompleted || rec.events[1].CallID != id || rec.events[1].UserID != u.UserID {
			t.Fatalf("events %+v", rec.events)
		}
		// Duplicates in one batch apply in order.
		sum = ingest(t, s, with(call("m-2", u.UserID, 10), "status", "ringing"), with(call("m-2", u.UserID, 10), "status", "in-progress"),
			with(call("m-2", u.UserID, 10), "status", "queued"))
		if sum.Created != 1 || sum.Updated != 1 || sum.Unchanged != 1 {
			t.Fatalf("duplicates: %+v", sum)
		}
		// An observer error rolls the whole batch back.
		rec.fail = true
		before := countCalls(t, db)
		res = s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: map[string]any{"calls": []any{call("m-3", u.UserID, 20)}},
			Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
		if res.Status != http.StatusInternalServerError || strings.Contains(string(res.Body), "refused") {
			t.Fatalf("observer failure: %d %s", res.Status, res.Body)
		}
		if countCalls(t, db) != before {
			t.Fatal("batch stored despite observer failure")
		}
	})
}

// seed ingests n calls for user, one a minute, cycling statuses and agents.
func seed(t *testing.T, s *apitest.Server, userID int64, prefix string, n int) {
	t.Helper()
	statuses := []string{"completed", "failed", "busy", "no-answer", "completed", "in-progress"}
	var batch []map[string]any
	for i := range n {
		c := call(fmt.Sprintf("%s-%03d", prefix, i), userID, i)
		c["status"] = statuses[i%len(statuses)]
		c["duration_seconds"] = (i * 37) % 600
		c["satisfaction"] = 1 + i%5
		c["direction"] = []string{"inbound", "outbound"}[i%2]
		c["sentiment"] = []string{"positive", "neutral", "negative"}[i%3]
		c["end_reason"] = []string{"customer-ended", "agent-ended", "voicemail"}[i%3]
		c["agent"] = map[string]any{"external_id": fmt.Sprintf("agent-%d", i%3), "name": []string{"Sara", "Bilal", "Ayesha"}[i%3], "voice": "alloy"}
		c["summary"] = fmt.Sprintf("Call number %d about %s.", i, []string{"billing", "delivery", "appointment"}[i%3])
		c["to_number"] = fmt.Sprintf("+9230012%05d", i)
		batch = append(batch, c)
	}
	if sum := ingest(t, s, batch...); sum.Created != n {
		t.Fatalf("seed: %+v", sum)
	}
}

// A count that would take longer than its budget is left out (null); the
// page itself is served.
func TestCountOverBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, func(c *app.Config) { c.Calls.CountBudget = time.Nanosecond })
		u := s.SignUp(t)
		seed(t, s, u.UserID, "u", 30)
		l := list(t, s, u.Access, "direction=inbound")
		if l.Count != nil || len(l.Results) == 0 {
			t.Fatalf("count %v, %d results, next %v", l.Count, len(l.Results), l.Next)
		}
	})
}

func TestList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		seed(t, s, u.UserID, "u", 60)
		seed(t, s, other.UserID, "o", 30)

		l := list(t, s, u.Access, "")
		if *l.Count != 60 || !l.CountExact || len(l.Results) != 20 || l.Results[0].ExternalID != "u-059" || l.Previous != nil {
			t.Fatalf("page 1: count %v, %d results, first %v", l.Count, len(l.Results), l.externals())
		}
		// Follow next to the end and back again.
		seen := l.externals()
		pages := []listed{l}
		for l.Next != nil {
			res := s.Do(t, apitest.Request{Method: "GET", Path: *l.Next, Token: u.Access})
			if res.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", *l.Next, res.Status, res.Body)
			}
			l = listed{}
			res.Decode(t, &l)
			if l.Count != nil {
				t.Fatal("cursor page counted")
			}
			seen = append(seen, l.externals()...)
			pages = append(pages, l)
		}
		if len(seen) != 60 || len(pages) != 3 || seen[59] != "u-000" {
			t.Fatalf("walked %d calls in %d pages", len(seen), len(pages))
		}
		prev := s.Do(t, apitest.Request{Method: "GET", Path: *pages[2].Previous, Token: u.Access})
		var back listed
		prev.Decode(t, &back)
		if !slices.Equal(back.externals(), pages[1].externals()) {
			t.Fatalf("previous of page 3 = %v, want %v", back.externals(), pages[1].externals())
		}
		if p2 := list(t, s, u.Access, "page=2&page_size=25"); *p2.Previous != "/api/dashboard/user/calls/?page=1&page_size=25" || p2.Results[0].ExternalID != "u-034" {
			t.Fatalf("page 2: previous %v first %v", *p2.Previous, p2.externals())
		}

		for _, tc := range []struct {
			query string
			n     int
			check func(l listed) bool
		}{
			{"status=completed", 20, nil},
			{"status=completed,failed", 30, nil},
			{"status=completed&status=busy", 30, nil},
			{"direction=inbound", 30, nil},
			{"sentiment=negative", 20, nil},
			{"end_reason=voicemail", 20, nil},
			{"min_duration=300&max_duration=400", -1, func(l listed) bool {
				return !slices.ContainsFunc(l.Results, func(r listedCall) bool {
					return r.DurationSeconds < 300 || r.DurationSeconds > 400
				})
			}},
			{"date_from=2025-03-10&date_to=2025-03-10", 60, nil},
			{"date_from=2025-03-11", 0, nil},
			{"search=delivery", 20, nil},
			{"search=DELIVE", 20, nil},
			{"search=appointment+number", 20, nil},
			{"search=Bilal", 20, nil},
			{"search=300%201200042", 1, nil}, // +92 300 1200042 without its country code
			{"search=1200042", 1, nil},       // its local part
			{"search=0042", 1, nil},          // its last four digits
			{"search=%2B923001200042", 1, nil},
			{"search=nonexistentword", 0, nil},
			{"ordering=started_at", 60, func(l listed) bool { return l.Results[0].ExternalID == "u-000" }},
			{"ordering=-duration", 60, func(l listed) bool { return l.Results[0].DurationSeconds >= l.Results[1].DurationSeconds }},
			{"ordering=duration", 60, func(l listed) bool { return l.Results[0].DurationSeconds <= l.Results[1].DurationSeconds }},
			{"ordering=-satisfaction", 60, func(l listed) bool { return *l.Results[0].Satisfaction == 5 }},
			{"ordering=satisfaction", 60, func(l listed) bool { return *l.Results[0].Satisfaction == 1 }},
		} {
			t.Run(tc.query, func(t *testing.T) {
				l := list(t, s, u.Access, tc.query)
				if tc.n >= 0 && *l.Count != tc.n {
					t.Fatalf("count %d, want %d", *l.Count, tc.n)
				}
				for _, r := range l.Results {
					if !strings.HasPrefix(r.ExternalID, "u-") {
						t.Fatalf("another user's call %s listed", r.ExternalID)
					}
				}
				if tc.check != nil && !tc.check(l) {
					t.Fatalf("order or values wrong: %v", l.externals())
				}
			})
		}
		t.Run("both SQLite search paths agree", func(t *testing.T) {
			queries := []string{"search=delivery", "search=appointment+number", "search=Bilal", "search=1200042",
				"search=delivery&status=completed", "search=billing&ordering=duration&page_size=5", "search=nonexistentword"}
			few := map[string][]string{}
			for _, q := range queries {
				few[q] = list(t, s, u.Access, q).externals()
			}
			calls.SetSearchListMax(s.Calls, 0) // every word is "common": walk the history
			defer calls.SetSearchListMax(s.Calls, 2000)
			for _, q := range queries {
				if got := list(t, s, u.Access, q).externals(); !slices.Equal(got, few[q]) {
					t.Errorf("%s: walk %v, by id %v", q, got, few[q])
				}
			}
		})
		t.Run("agent filter", func(t *testing.T) {
			l := list(t, s, u.Access, "page_size=1")
			agentID := l.Results[0].Agent.ID
			l = list(t, s, u.Access, fmt.Sprintf("agent=%d", agentID))
			if *l.Count != 20 {
				t.Fatalf("count %d", *l.Count)
			}
			// Another user's agent id finds nothing.
			if l := list(t, s, other.Access, fmt.Sprintf("agent=%d", agentID)); *l.Count != 0 {
				t.Fatalf("other user's agent: %d", *l.Count)
			}
		})
		t.Run("cursor keeps the filters and ordering", func(t *testing.T) {
			l := list(t, s, u.Access, "status=completed&ordering=-duration&page_size=7")
			var all []string
			all = append(all, l.externals()...)
			for l.Next != nil {
				res := s.Do(t, apitest.Request{Method: "GET", Path: *l.Next, Token: u.Access})
				l = listed{}
				res.Decode(t, &l)
				all = append(all, l.externals()...)
			}
			if len(all) != 20 {
				t.Fatalf("walked %d", len(all))
			}
		})
	})
}

func TestListInvalid(t *testing.T) {
	db := storetest.SQLite(t)
	s := apitest.New(t, db)
	u := s.SignUp(t)
	for _, tc := range []struct{ query, loc string }{
		{"status=exploded", "query.status"},
		{"status=completed,bogus", "query.status"},
		{"direction=up", "query.direction"},
		{"agent=abc", "query.agent"},
		{"date_from=10-03-2025", "query.date_from"},
		{"date_to=2025-02-30", "query.date_to"},
		{"date_from=2025-03-10&date_to=2025-03-01", "query.date_to"},
		{"search=%2B%2B%2B", "query.search"},
		{"search=" + strings.Repeat("a", 201), "query.search"},
		{"sentiment=angry", "query.sentiment"},
		{"min_duration=-1", "query.min_duration"},
		{"max_duration=ten", "query.max_duration"},
		{"min_duration=10&max_duration=5", "query.max_duration"},
		{"ordering=id", "query.ordering"},
		{"page=0", "query.page"},
		{"page=abc", "query.page"},
		{"page=51", "query.page"},
		{"page=1001", "query.page"},
		{"page=9223372036854775807", "query.page"},
		{"page=9223372036854775807&page_size=100", "query.page"},
		{"page_size=0", "query.page_size"},
		{"page_size=101", "query.page_size"},
		{"cursor=not-a-cursor", "query.cursor"},
		{"cursor=" + url.QueryEscape("MS4tc3RhcnRlZF9hdC4xLjEueA"), "query.cursor"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			for _, path := range []string{"/api/dashboard/user/calls/?", "/api/dashboard/user/calls/export/?"} {
				if strings.HasPrefix(tc.query, "page") || strings.HasPrefix(tc.query, "cursor") {
					if strings.Contains(path, "export") {
						continue
					}
				}
				res := s.Do(t, apitest.Request{Method: "GET", Path: path + tc.query, Token: u.Access})
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%s: %d %s", path, res.Status, res.Body)
				}
				if locs := apitest.ErrorLocations(t, res); !slices.Contains(locs, tc.loc) {
					t.Fatalf("%s: locations %v, want %s", path, locs, tc.loc)
				}
			}
		})
	}
	if res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/"}); res.Status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.Status)
	}
	// The service refuses a page number past the cap without HTTP's bounds
	// too, and a huge one does not wrap around to page 1.
	for _, page := range []int{1001, math.MaxInt} {
		_, err := s.Calls.List(context.Background(), u.UserID, calls.ListParams{Page: page, PageSize: calls.MaxPageSize})
		if e, ok := apperr.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Location != "page" {
			t.Fatalf("page %d: %v", page, err)
		}
	}
}

func TestDetail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		consent := &consentFor{}
		s := apitest.New(t, db, func(c *app.Config) { c.Calls.Consent = consent })
		u, other := s.SignUp(t), s.SignUp(t)
		sum := ingest(t, s, with(call("d-1", u.UserID, 0), "recording_url", "https://rec.example.com/d-1.mp3", "transcript", "full text"))
		id := *sum.Results[0].ID
		path := fmt.Sprintf("/api/dashboard/user/calls/%d/", id)
		for _, tc := range []struct {
			name, path, token string
			want              int
		}{
			{"own call", path, u.Access, http.StatusOK},
			{"without trailing slash", strings.TrimSuffix(path, "/"), u.Access, http.StatusOK},
			{"another user's call", path, other.Access, http.StatusNotFound},
			{"no such call", "/api/dashboard/user/calls/999999/", u.Access, http.StatusNotFound},
			{"not an id", "/api/dashboard/user/calls/abc/", u.Access, http.StatusUnprocessableEntity},
			{"no token", path, "", http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := s.Do(t, apitest.Request{Method: "GET", Path: tc.path, Token: tc.token})
				if res.Status != tc.want {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				if tc.want == http.StatusNotFound && strings.Contains(string(res.Body), "d-1") {
					t.Fatal("404 leaks the call")
				}
			})
		}
		res := s.Do(t, apitest.Request{Method: "GET", Path: path, Token: u.Access})
		got := res.JSON(t)
		if got["recording_url"] != nil || got["transcript"] != "full text" || got["satisfaction"] != nil || got["agent"] != nil {
			t.Fatalf("without consent: %v", got)
		}
		consent.give(u.UserID)
		got = s.Do(t, apitest.Request{Method: "GET", Path: path, Token: u.Access}).JSON(t)
		if got["recording_url"] != "https://rec.example.com/d-1.mp3" {
			t.Fatalf("with consent: %v", got["recording_url"])
		}
	})
}

// consentFor is the recording consent of one user, given during the test.
type consentFor struct{ userID atomic.Int64 }

func (c *consentFor) give(userID int64) { c.userID.Store(userID) }

func (c *consentFor) RecordingConsent(_ context.Context, userID int64) (bool, error) {
	return userID == c.userID.Load(), nil
}

type karachi struct{}

func (karachi) Location(context.Context, int64) (*time.Location, error) {
	return time.LoadLocation("Asia/Karachi")
}

func TestDatesInUserTimezone(t *testing.T) {
	db := storetest.SQLite(t)
	s := apitest.New(t, db, func(c *app.Config) { c.Calls.Zones = karachi{} })
	u := s.SignUp(t)
	// 20:00 UTC on 10 March is 01:00 on 11 March in Karachi (UTC+5).
	ingest(t, s, with(call("tz-1", u.UserID, 0), "started_at", "2025-03-10T20:00:00Z"),
		with(call("tz-2", u.UserID, 0), "started_at", "2025-03-10T18:59:59Z"))
	if l := list(t, s, u.Access, "date_from=2025-03-11&date_to=2025-03-11"); !slices.Equal(l.externals(), []string{"tz-1"}) {
		t.Fatalf("11 March in Karachi: %v", l.externals())
	}
	if l := list(t, s, u.Access, "date_to=2025-03-10"); !slices.Equal(l.externals(), []string{"tz-2"}) {
		t.Fatalf("up to 10 March in Karachi: %v", l.externals())
	}
}

func TestExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		seed(t, s, u.UserID, "u", 30)
		seed(t, s, other.UserID, "o", 10)
		ingest(t, s, with(call("evil", u.UserID, 100), "summary", "=HYPERLINK(\"http://evil.example\")",
			"agent", map[string]any{"external_id": "x", "name": "@SUM(A1)"}))
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/export/", Token: u.Access})
		if res.Status != http.StatusOK {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		wantName := `attachment; filename="calls-` + s.Clock.Now().UTC().Format("20060102") + `.csv"`
		if got := res.Header.Get("Content-Disposition"); got != wantName {
			t.Fatalf("Content-Disposition %q, want %q", got, wantName)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 32 || rows[0][0] != "id" || rows[1][1] != "evil" {
			t.Fatalf("%d rows, header %v, first %v", len(rows), rows[0], rows[1])
		}
		if rows[1][18] != `'=HYPERLINK("http://evil.example")` || rows[1][11] != "'@SUM(A1)" {
			t.Fatalf("formula cells not defused: %v", rows[1])
		}
		if rows[1][6] != "+923001234567" || rows[1][7] != "+442071234567" {
			t.Fatalf("plain phone numbers were changed: %q, %q", rows[1][6], rows[1][7])
		}
		for _, r := range rows[1:] {
			if strings.HasPrefix(r[1], "o-") {
				t.Fatalf("another user's call %s exported", r[1])
			}
		}
		res = s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/export/?status=failed&search=delivery", Token: u.Access})
		rows, _ = csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
		for _, r := range rows[1:] {
			if r[8] != "failed" || !strings.Contains(r[18], "delivery") {
				t.Fatalf("filter not applied: %v", r)
			}
		}
		if len(rows) != 6 {
			t.Fatalf("filtered export: %d rows", len(rows))
		}
	})
}

func TestSearchNeverCrossesUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		ingest(t, s, with(call("secret", other.UserID, 0), "transcript", "the zanzibar secret", "agent", map[string]any{"external_id": "z", "name": "Zanzibar"}))
		ingest(t, s, call("mine", u.UserID, 0))
		for _, q := range []string{"search=zanzibar", "search=secret", "search=442071234567"} {
			l := list(t, s, u.Access, q)
			for _, r := range l.Results {
				if r.ExternalID == "secret" {
					t.Fatalf("%s found another user's call", q)
				}
			}
		}
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/calls/export/?search=zanzibar", Token: u.Access})
		if strings.Contains(string(res.Body), "secret") {
			t.Fatal("export found another user's call")
		}
		if l := list(t, s, other.Access, "search=zanzibar"); len(l.Results) != 1 {
			t.Fatalf("owner search: %v", l.externals())
		}
	})
}

func TestIngestBody(t *testing.T) {
	db := storetest.SQLite(t)
	s := apitest.New(t, db)
	u := s.SignUp(t)
	good := fmt.Sprintf(`{"calls": [{"external_id": "b-1", "user_id": %d, "direction": "inbound", "from_number": "+1", "to_number": "+2", "status": "queued", "started_at": %q}]}`,
		u.UserID, at(0))
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"good", good, http.StatusOK},
		{"not JSON", `{"calls": [`, http.StatusUnprocessableEntity},
		{"wrong type", `{"calls": [{"external_id": 5}]}`, http.StatusUnprocessableEntity},
		{"unknown top-level field", `{"calls": [], "extra": 1}`, http.StatusUnprocessableEntity},
		{"trailing data", good + ` {}`, http.StatusUnprocessableEntity},
		{"no calls", `{"calls": []}`, http.StatusUnprocessableEntity},
		{"empty body", ``, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: tc.body,
				Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
			if res.Status != tc.want {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			if tc.want == http.StatusUnprocessableEntity && !slices.Contains(apitest.ErrorLocations(t, res), "body") && !slices.Contains(apitest.ErrorLocations(t, res), "body.calls") {
				t.Fatalf("error does not name the body: %s", res.Body)
			}
		})
	}
	// The OpenAPI document shows the real request body.
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"})
	if !strings.Contains(string(res.Body), `"IngestRequest"`) || !strings.Contains(string(res.Body), `"platformKey"`) {
		t.Fatal("OpenAPI lacks the ingest body schema or the platform key scheme")
	}
}

func TestSearchFollowsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		// Created and changed twice in one batch, then changed in another.
		ingest(t, s, with(call("f-1", u.UserID, 0), "status", "ringing", "summary", "alpha"),
			with(call("f-1", u.UserID, 0), "status", "in-progress", "summary", "bravo"),
			with(call("f-1", u.UserID, 0), "status", "completed", "summary", "charlie"))
		ingest(t, s, with(call("f-1", u.UserID, 0), "summary", "delta"), with(call("f-1", u.UserID, 0), "summary", "echo"))
		for word, want := range map[string]int{"alpha": 0, "bravo": 0, "charlie": 0, "delta": 0, "echo": 1} {
			if l := list(t, s, u.Access, "search="+word); len(l.Results) != want {
				t.Errorf("search %s: %d results, want %d", word, len(l.Results), want)
			}
		}
	})
}

type batchRecorder struct {
	recorder
	batches [][]string
}

func (r *batchRecorder) CallsChangedTx(ctx context.Context, tx *sql.Tx, changes []calls.CallChange) error {
	if r.fail {
		return fmt.Errorf("observer refused")
	}
	var got []string
	for _, c := range changes {
		was := "nil"
		if c.Before != nil {
			was = string(c.Before.Status)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE id = $1`, c.After.ID).Scan(&n); err != nil || n != 1 {
			return fmt.Errorf("call %d not visible in tx: %v", c.After.ID, err)
		}
		got = append(got, c.After.ExternalID+" "+was+"->"+string(c.After.Status))
	}
	r.batches = append(r.batches, got)
	return nil
}

func TestBatchObserver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := &batchRecorder{}
		s := apitest.New(t, db, func(c *app.Config) { c.Calls.Observer = rec })
		u := s.SignUp(t)
		first := with(call("bo-1", u.UserID, 0), "status", "ringing")
		ingest(t, s, first, with(first, "status", "completed"), call("bo-2", u.UserID, 1))
		ingest(t, s, first, call("bo-2", u.UserID, 1)) // nothing changes: not told
		want := [][]string{{"bo-1 nil->ringing", "bo-1 ringing->completed", "bo-2 nil->completed"}}
		if fmt.Sprint(rec.batches) != fmt.Sprint(want) || len(rec.changes) != 0 {
			t.Fatalf("batches %v (per-call %v), want %v", rec.batches, rec.changes, want)
		}
		rec.fail = true
		before := countCalls(t, db)
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Body: map[string]any{"calls": []any{call("bo-3", u.UserID, 2)}},
			Header: map[string]string{calls.PlatformHeader: apitest.PlatformKey}})
		if res.Status != http.StatusInternalServerError || countCalls(t, db) != before {
			t.Fatalf("observer failure: %d, calls %d → %d", res.Status, before, countCalls(t, db))
		}
	})
}

// The full-text index gets each transcript word once; every word, in any
// case and with any punctuation, still finds the call.
func TestSearchFindsEveryWord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u := s.SignUp(t)
		transcript := "Agent: Hello! Your ORDER #4521 ships Tuesday.\nCustomer: hello, thanks; order-4521 again?\n" +
			"Agent: جی ہاں، آپ کا آرڈر منگل کو پہنچے گا۔ Café naïve"
		ingest(t, s, with(call("w-1", u.UserID, 0), "transcript", transcript, "summary", "Refund REFUND refund."))
		ingest(t, s, with(call("w-2", u.UserID, 5), "transcript", "nothing relevant here"))
		for _, q := range []string{"hello", "HELLO", "order", "4521", "tuesday", "customer", "thanks", "again",
			"آرڈر", "منگل", "café", "naïve", "refund", "tues", "ord"} {
			l := list(t, s, u.Access, "search="+url.QueryEscape(q))
			if got := l.externals(); !slices.Equal(got, []string{"w-1"}) {
				t.Errorf("search %q found %v, want [w-1]", q, got)
			}
		}
	})
}
