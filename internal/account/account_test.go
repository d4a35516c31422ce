package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

const (
	profilePath     = "/api/dashboard/user/profile/"
	settingsPath    = "/api/dashboard/user/settings/"
	preferencesPath = "/api/dashboard/user/preferences/"
)

// get fetches path as the session's user and fails unless it answers 200.
func get(t *testing.T, s *apitest.Server, token, path string) *apitest.Response {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "GET", Path: path, Token: token})
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	return res
}

// at digs a dotted path ("notifications.sms", "widgets.0.id") out of a
// decoded JSON object.
func at(t *testing.T, m map[string]any, path string) any {
	t.Helper()
	var v any = m
	for _, key := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[key]; !ok {
				t.Fatalf("no %q in %v", path, m)
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(key, &i); err != nil || i >= len(c) {
				t.Fatalf("no %q in %v", path, m)
			}
			v = c[i]
		default:
			t.Fatalf("no %q in %v", path, m)
		}
	}
	return v
}

// patchCase is one PATCH: what is sent, what is answered, and for a
// success which fields the answer (and a following GET) must show.
type patchCase struct {
	name      string
	body      any
	status    int
	locations []string       // for refusals: every one must be named
	want      map[string]any // for successes: dotted path → value
}

// runPatches sends each case in order, as one user, so successes build on
// each other. A refused patch must name its fields and change nothing (the
// following GET is byte-for-byte the one before it); a successful one must
// answer what a following GET shows.
func runPatches(t *testing.T, s *apitest.Server, token, path string, cases []patchCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := get(t, s, token, path)
			res := s.Do(t, apitest.Request{Method: "PATCH", Path: path, Token: token, Body: tt.body})
			if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			after := get(t, s, token, path)
			if tt.status >= 400 {
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type %q", ct)
				}
				locs := apitest.ErrorLocations(t, res)
				for _, want := range tt.locations {
					if !slices.Contains(locs, want) {
						t.Fatalf("errors %v do not name %s: %s", locs, want, res.Body)
					}
				}
				if !bytes.Equal(before.Body, after.Body) {
					t.Fatalf("a refused patch changed stored data:\nbefore %s\nafter  %s", before.Body, after.Body)
				}
				return
			}
			if !bytes.Equal(res.Body, after.Body) {
				t.Fatalf("PATCH answered %s but GET shows %s", res.Body, after.Body)
			}
			got := res.JSON(t)
			for path, want := range tt.want {
				if v := at(t, got, path); fmt.Sprint(v) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", path, v, want)
				}
			}
		})
	}
}

func TestProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)
		otherBefore := get(t, s, other.Access, profilePath)

		p := get(t, s, me.Access, profilePath).JSON(t)
		if p["email"] != me.Email || p["phone"] != nil || p["avatar_url"] != nil || p["is_verified"] != false || p["date_joined"] == nil {
			t.Fatalf("new profile: %v", p)
		}

		runPatches(t, s, me.Access, profilePath, []patchCase{
			{name: "first name only", body: map[string]any{"first_name": "  Ayesha "}, status: 200,
				want: map[string]any{"first_name": "Ayesha", "last_name": p["last_name"], "email": me.Email}},
			{name: "national phone in default region", body: `{"phone": "0300 123-4567"}`, status: 200,
				want: map[string]any{"phone": "+923001234567", "first_name": "Ayesha"}},
			{name: "international phone", body: `{"phone": "+44 20 7946 0958", "last_name": "Malik"}`, status: 200,
				want: map[string]any{"phone": "+442079460958", "last_name": "Malik"}},
			{name: "empty patch changes nothing", body: `{}`, status: 200,
				want: map[string]any{"phone": "+442079460958", "first_name": "Ayesha"}},
			{name: "merge-patch null clears phone", body: `{"phone": null}`, status: 200,
				want: map[string]any{"phone": nil, "first_name": "Ayesha"}},
			{name: "phone set again", body: `{"phone": "+923001234567"}`, status: 200, want: map[string]any{"phone": "+923001234567"}},
			{name: "blank phone clears it", body: `{"phone": "  "}`, status: 200, want: map[string]any{"phone": nil}},
			{name: "national phone without spaces", body: `{"phone": "03001234567"}`, status: 200, want: map[string]any{"phone": "+923001234567"}},

			{name: "invalid phone", body: `{"phone": "12345"}`, status: 422, locations: []string{"body.phone"}},
			{name: "letters for phone", body: `{"phone": "call me maybe"}`, status: 422, locations: []string{"body.phone"}},
			{name: "phone too long", body: map[string]any{"phone": strings.Repeat("1", 65)}, status: 422, locations: []string{"body.phone"}},
			{name: "phone wrong type", body: `{"phone": 923001234567}`, status: 422, locations: []string{"body.phone"}},
			{name: "blank first name", body: `{"first_name": "   "}`, status: 422, locations: []string{"body.first_name"}},
			{name: "null first name", body: `{"first_name": null}`, status: 422, locations: []string{"body.first_name"}},
			{name: "NUL in first name", body: `{"first_name": "Ay\u0000esha"}`, status: 422, locations: []string{"body.first_name"}},
			{name: "invalid UTF-8 in last name", body: "{\"last_name\": \"Ma\xfflik\"}", status: 422, locations: []string{"body.last_name"}},
			{name: "bidi override in last name", body: `{"last_name": "Malik\u202Egnp.exe"}`, status: 422, locations: []string{"body.last_name"}},
			{name: "NUL in phone", body: `{"phone": "0300\u00001234567"}`, status: 422, locations: []string{"body.phone"}},
			{name: "null last name", body: `{"last_name": null}`, status: 422, locations: []string{"body.last_name"}},
			{name: "last name too long", body: map[string]any{"last_name": strings.Repeat("م", 151)}, status: 422, locations: []string{"body.last_name"}},
			{name: "email is read-only here", body: `{"email": "new@example.com"}`, status: 422, locations: []string{"body.email"}},
			{name: "is_verified is read-only", body: `{"is_verified": true}`, status: 422, locations: []string{"body.is_verified"}},
			{name: "avatar_url is read-only", body: `{"avatar_url": "https://evil.example/x.png"}`, status: 422, locations: []string{"body.avatar_url"}},
			{name: "good name with bad phone stores neither", body: `{"first_name": "Zara", "phone": "12"}`, status: 422, locations: []string{"body.phone"}},
			{name: "every bad field named", body: `{"first_name": "", "last_name": null, "phone": "1"}`, status: 422,
				locations: []string{"body.first_name", "body.last_name", "body.phone"}},
			{name: "not JSON", body: `{"first_name": `, status: 400},
			{name: "not an object", body: `["first_name"]`, status: 422},
		})

		t.Run("phone region follows the timezone preference", func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: "PATCH", Path: preferencesPath, Token: me.Access, Body: `{"timezone": "Europe/London"}`})
			if res.Status != 200 {
				t.Fatalf("set timezone: %d %s", res.Status, res.Body)
			}
			res = s.Do(t, apitest.Request{Method: "PATCH", Path: profilePath, Token: me.Access, Body: `{"phone": "020 7946 0958"}`,
				Header: map[string]string{"Content-Type": "application/merge-patch+json"}})
			if res.Status != 200 || res.JSON(t)["phone"] != "+442079460958" {
				t.Fatalf("national UK number with a London timezone: %d %s", res.Status, res.Body)
			}
		})

		t.Run("another user's profile is untouched", func(t *testing.T) {
			if after := get(t, s, other.Access, profilePath); !bytes.Equal(after.Body, otherBefore.Body) {
				t.Fatalf("other user's profile changed:\n%s\n%s", otherBefore.Body, after.Body)
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			for _, method := range []string{"GET", "PATCH"} {
				res := s.Do(t, apitest.Request{Method: method, Path: profilePath, Body: `{"first_name": "X"}`})
				if res.Status != http.StatusUnauthorized {
					t.Fatalf("%s without a token: %d", method, res.Status)
				}
			}
		})
	})
}

func TestSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)

		defaults := get(t, s, me.Access, settingsPath)
		want := `{"notifications":{"email":true,"sms":false,"marketing":false,"calls":true,"billing":true},` +
			`"privacy":{"profile_visibility":"private","recording_consent":false},` +
			`"calls":{"auto_record":false,"ai_assistance":true,"call_quality":"high","noise_cancellation":true,"auto_answer":false,"auto_answer_delay_seconds":3}}`
		if got := strings.TrimSpace(string(defaults.Body)); got != want {
			t.Fatalf("defaults:\n got %s\nwant %s", got, want)
		}

		runPatches(t, s, me.Access, settingsPath, []patchCase{
			{name: "one nested field", body: `{"notifications": {"sms": true}}`, status: 200,
				want: map[string]any{"notifications.sms": true, "notifications.email": true, "calls.call_quality": "high"}},
			{name: "other group keeps earlier change", body: `{"calls": {"call_quality": "hd", "auto_answer": true, "auto_answer_delay_seconds": 0}}`, status: 200,
				want: map[string]any{"notifications.sms": true, "calls.call_quality": "hd", "calls.auto_answer": true, "calls.auto_answer_delay_seconds": 0, "calls.ai_assistance": true}},
			{name: "several groups at once", body: `{"notifications": {"marketing": true, "email": false}, "privacy": {"profile_visibility": "public", "recording_consent": true}}`, status: 200,
				want: map[string]any{"notifications.marketing": true, "notifications.email": false, "notifications.sms": true, "privacy.profile_visibility": "public", "privacy.recording_consent": true}},
			{name: "null field resets to default", body: `{"notifications": {"sms": null}}`, status: 200,
				want: map[string]any{"notifications.sms": false, "notifications.marketing": true}},
			{name: "null group resets the group", body: `{"calls": null}`, status: 200,
				want: map[string]any{"calls.call_quality": "high", "calls.auto_answer": false, "calls.auto_answer_delay_seconds": 3, "privacy.profile_visibility": "public"}},
			{name: "empty group changes nothing", body: `{"privacy": {}}`, status: 200, want: map[string]any{"privacy.profile_visibility": "public"}},
			{name: "maximum delay", body: `{"calls": {"auto_answer_delay_seconds": 60}}`, status: 200, want: map[string]any{"calls.auto_answer_delay_seconds": 60}},

			{name: "string for boolean", body: `{"notifications": {"sms": "yes"}}`, status: 422, locations: []string{"body.notifications.sms"}},
			{name: "unknown notification", body: `{"notifications": {"fax": true}}`, status: 422, locations: []string{"body.notifications.fax"}},
			{name: "unknown group", body: `{"display": {"theme": "dark"}}`, status: 422, locations: []string{"body.display"}},
			{name: "bad visibility", body: `{"privacy": {"profile_visibility": "friends"}}`, status: 422, locations: []string{"body.privacy.profile_visibility"}},
			{name: "bad call quality", body: `{"calls": {"call_quality": "ultra"}}`, status: 422, locations: []string{"body.calls.call_quality"}},
			{name: "negative delay", body: `{"calls": {"auto_answer_delay_seconds": -1}}`, status: 422, locations: []string{"body.calls.auto_answer_delay_seconds"}},
			{name: "delay too long", body: `{"calls": {"auto_answer_delay_seconds": 61}}`, status: 422, locations: []string{"body.calls.auto_answer_delay_seconds"}},
			{name: "fractional delay", body: `{"calls": {"auto_answer_delay_seconds": 2.5}}`, status: 422, locations: []string{"body.calls.auto_answer_delay_seconds"}},
			{name: "group as a scalar", body: `{"privacy": true}`, status: 422, locations: []string{"body.privacy"}},
			{name: "good and bad together store nothing", body: `{"notifications": {"sms": true}, "calls": {"call_quality": "ultra"}}`, status: 422,
				locations: []string{"body.calls.call_quality"}},
		})

		t.Run("another user's settings are untouched", func(t *testing.T) {
			if got := get(t, s, other.Access, settingsPath); !bytes.Equal(got.Body, defaults.Body) {
				t.Fatalf("other user's settings changed: %s", got.Body)
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			for _, method := range []string{"GET", "PATCH"} {
				if res := s.Do(t, apitest.Request{Method: method, Path: settingsPath, Body: `{}`}); res.Status != http.StatusUnauthorized {
					t.Fatalf("%s without a token: %d", method, res.Status)
				}
			}
		})
	})
}

// timezoneRecorder is an account.TimezoneObserver made of a function.
type timezoneRecorder func(ctx context.Context, userID int64, loc *time.Location)

func (f timezoneRecorder) TimezoneChanged(ctx context.Context, userID int64, loc *time.Location) {
	f(ctx, userID, loc)
}

func TestPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var (
			mu      sync.Mutex
			changes []string
		)
		s := apitest.New(t, db, func(c *app.Config) {
			c.Account.TimezoneChanges = timezoneRecorder(func(_ context.Context, userID int64, loc *time.Location) {
				mu.Lock()
				changes = append(changes, fmt.Sprintf("%d:%s", userID, loc))
				mu.Unlock()
			})
		})
		me, other := s.SignUp(t), s.SignUp(t)

		defaults := get(t, s, me.Access, preferencesPath)
		d := defaults.JSON(t)
		for path, want := range map[string]any{"theme": "auto", "language": "en", "dashboard_layout": "default", "timezone": "UTC",
			"date_format": "DD/MM/YYYY", "time_format": "12h", "week_start": "monday", "widgets.0.id": "call_stats", "widgets.7.id": "notifications", "widgets.7.visible": true} {
			if v := at(t, d, path); v != want {
				t.Errorf("default %s = %v, want %v", path, v, want)
			}
		}
		if loc, err := s.Account.Location(context.Background(), me.UserID); err != nil || loc != time.UTC {
			t.Fatalf("Location before any preference = %v, %v; want UTC", loc, err)
		}

		runPatches(t, s, me.Access, preferencesPath, []patchCase{
			{name: "the seed's example", body: `{"theme": "dark", "language": "ur", "dashboard_layout": "compact"}`, status: 200,
				want: map[string]any{"theme": "dark", "language": "ur", "dashboard_layout": "compact", "timezone": "UTC"}},
			{name: "timezone and formats", body: `{"timezone": "Asia/Karachi", "date_format": "YYYY-MM-DD", "time_format": "24h", "week_start": "sunday"}`, status: 200,
				want: map[string]any{"timezone": "Asia/Karachi", "date_format": "YYYY-MM-DD", "time_format": "24h", "week_start": "sunday", "theme": "dark"}},
			{name: "same timezone again", body: `{"timezone": "Asia/Karachi"}`, status: 200, want: map[string]any{"timezone": "Asia/Karachi"}},
			{name: "widgets reordered, the rest follow", body: `{"widgets": [{"id": "agents", "visible": false}, {"id": "trend", "visible": true}]}`, status: 200,
				want: map[string]any{"widgets.0.id": "agents", "widgets.0.visible": false, "widgets.1.id": "trend", "widgets.2.id": "call_stats", "widgets.7.id": "notifications"}},
			{name: "null theme resets it", body: `{"theme": null}`, status: 200, want: map[string]any{"theme": "auto", "language": "ur", "widgets.0.id": "agents"}},
			{name: "null widgets restore the default order", body: `{"widgets": null}`, status: 200, want: map[string]any{"widgets.0.id": "call_stats", "widgets.0.visible": true}},
			{name: "empty widget list is the default order", body: `{"widgets": []}`, status: 200, want: map[string]any{"widgets.0.id": "call_stats"}},

			{name: "unknown theme", body: `{"theme": "neon"}`, status: 422, locations: []string{"body.theme"}},
			{name: "unknown language", body: `{"language": "fr"}`, status: 422, locations: []string{"body.language"}},
			{name: "unknown layout", body: `{"dashboard_layout": "grid"}`, status: 422, locations: []string{"body.dashboard_layout"}},
			{name: "unknown timezone", body: `{"timezone": "Mars/Olympus_Mons"}`, status: 422, locations: []string{"body.timezone"}},
			{name: "Local is not a timezone", body: `{"timezone": "Local"}`, status: 422, locations: []string{"body.timezone"}},
			{name: "Factory is not a timezone", body: `{"timezone": "Factory"}`, status: 422, locations: []string{"body.timezone"}},
			{name: "posixrules is not a timezone", body: `{"timezone": "posixrules"}`, status: 422, locations: []string{"body.timezone"}},
			{name: "empty timezone", body: `{"timezone": ""}`, status: 422, locations: []string{"body.timezone"}},
			{name: "path as timezone", body: `{"timezone": "../../etc/passwd"}`, status: 422, locations: []string{"body.timezone"}},
			{name: "timezone too long", body: map[string]any{"timezone": "Asia/" + strings.Repeat("x", 70)}, status: 422, locations: []string{"body.timezone"}},
			{name: "unknown date format", body: `{"date_format": "YY/M/D"}`, status: 422, locations: []string{"body.date_format"}},
			{name: "unknown time format", body: `{"time_format": "13h"}`, status: 422, locations: []string{"body.time_format"}},
			{name: "unknown week start", body: `{"week_start": "friday"}`, status: 422, locations: []string{"body.week_start"}},
			{name: "unknown widget", body: `{"widgets": [{"id": "trend", "visible": true}, {"id": "weather", "visible": true}]}`, status: 422, locations: []string{"body.widgets[1].id"}},
			{name: "duplicate widget", body: `{"widgets": [{"id": "trend", "visible": true}, {"id": "trend", "visible": false}]}`, status: 422, locations: []string{"body.widgets[1].id"}},
			{name: "widget without visible", body: `{"widgets": [{"id": "trend"}]}`, status: 422, locations: []string{"body.widgets[0].visible"}},
			{name: "widget with extra field", body: `{"widgets": [{"id": "trend", "visible": true, "x": 1}]}`, status: 422, locations: []string{"body.widgets[0].x"}},
			{name: "widgets not a list", body: `{"widgets": {"id": "trend"}}`, status: 422, locations: []string{"body.widgets"}},
			{name: "unknown field", body: `{"font": "Inter"}`, status: 422, locations: []string{"body.font"}},
			{name: "good and bad together store nothing", body: `{"theme": "light", "timezone": "Nowhere/Else"}`, status: 422, locations: []string{"body.timezone"}},
		})

		loc, err := s.Account.Location(context.Background(), me.UserID)
		if err != nil || loc.String() != "Asia/Karachi" {
			t.Fatalf("Location = %v, %v; want Asia/Karachi", loc, err)
		}
		if loc, _ := s.Account.Location(context.Background(), other.UserID); loc != time.UTC {
			t.Fatalf("other user's Location = %v, want UTC", loc)
		}
		res := s.Do(t, apitest.Request{Method: "PATCH", Path: preferencesPath, Token: me.Access, Body: `{"timezone": null}`})
		if res.Status != 200 || res.JSON(t)["timezone"] != "UTC" {
			t.Fatalf("null timezone: %d %s", res.Status, res.Body)
		}
		mu.Lock()
		got := slices.Clone(changes)
		mu.Unlock()
		wantChanges := []string{fmt.Sprintf("%d:Asia/Karachi", me.UserID), fmt.Sprintf("%d:UTC", me.UserID)}
		if !slices.Equal(got, wantChanges) {
			t.Fatalf("TimezoneChanged calls %v, want %v (once per actual change)", got, wantChanges)
		}

		t.Run("another user's preferences are untouched", func(t *testing.T) {
			if got := get(t, s, other.Access, preferencesPath); !bytes.Equal(got.Body, defaults.Body) {
				t.Fatalf("other user's preferences changed: %s", got.Body)
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			for _, method := range []string{"GET", "PATCH"} {
				if res := s.Do(t, apitest.Request{Method: method, Path: preferencesPath, Body: `{}`}); res.Status != http.StatusUnauthorized {
					t.Fatalf("%s without a token: %d", method, res.Status)
				}
			}
		})
	})
}

// TestConcurrentPatchesKeepEveryField checks that patches of different
// fields racing each other all land (the row is locked while merged).
func TestConcurrentPatchesKeepEveryField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := s.SignUp(t)
		fields := []string{"email", "sms", "marketing", "calls", "billing"}
		var wg sync.WaitGroup
		for i, f := range fields {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]any{"notifications": map[string]bool{f: i%2 == 0}})
				if res := s.Do(t, apitest.Request{Method: "PATCH", Path: settingsPath, Token: me.Access, Body: string(body)}); res.Status != 200 {
					t.Errorf("patch %s: %d %s", f, res.Status, res.Body)
				}
			}()
		}
		wg.Wait()
		got := get(t, s, me.Access, settingsPath).JSON(t)
		for i, f := range fields {
			if v := at(t, got, "notifications."+f); v != (i%2 == 0) {
				t.Errorf("notifications.%s = %v after concurrent patches", f, v)
			}
		}
	})
}
