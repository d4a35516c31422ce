package account_test

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// person is a registered user with values distinctive enough to search
// the whole database for.
type person struct {
	apitest.Session
	First, Last, Phone string
}

func register(t *testing.T, s *apitest.Server, email, first, last, phone string) person {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/register/", Body: map[string]string{
		"email": email, "password": apitest.StrongPassword, "first_name": first, "last_name": last, "phone": phone}})
	if res.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, res.Status, res.Body)
	}
	var out struct {
		User            struct{ ID int64 }
		Access, Refresh string
	}
	res.Decode(t, &out)
	return person{Session: apitest.Session{UserID: out.User.ID, Email: email, Access: out.Access, Refresh: out.Refresh},
		First: first, Last: last, Phone: phone}
}

func ingest(t *testing.T, s *apitest.Server, calls ...map[string]any) {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
		Body: map[string]any{"calls": calls}})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"failed":0`) {
		t.Fatalf("ingest: %d %s", res.Status, res.Body)
	}
}

func call(externalID string, userID int64, from, to, status string) map[string]any {
	return map[string]any{"external_id": externalID, "user_id": userID, "agent": map[string]any{"external_id": fmt.Sprint("agent-", userID), "name": "Sana"},
		"direction": "inbound", "from_number": from, "to_number": to, "status": status,
		"started_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "duration_seconds": 60,
		"summary": "Asked about opening hours"}
}

// textHits lists "table.column" for every text value in the database
// containing needle (case-insensitively): every table, every text column.
func textHits(t *testing.T, db *store.DB, needle string) []string {
	t.Helper()
	type col struct{ table, column string }
	var cols []col
	if db.Dialect == store.Postgres {
		rows, err := db.Read().Query(`SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'tsvector')`)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			cols = append(cols, col{})
			return r.Scan(&cols[len(cols)-1].table, &cols[len(cols)-1].column)
		}); err != nil {
			t.Fatal(err)
		}
	} else {
		var tables []string
		rows, err := db.Read().Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		if err := store.EachRow(rows, err, func(r *sql.Rows) error {
			tables = append(tables, "")
			return r.Scan(&tables[len(tables)-1])
		}); err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			rows, err := db.Read().Query(`SELECT name FROM pragma_table_info($1)`, table)
			if err := store.EachRow(rows, err, func(r *sql.Rows) error {
				var name string
				if err := r.Scan(&name); err != nil {
					return err
				}
				cols = append(cols, col{table, name})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(cols) < 20 {
		t.Fatalf("found only %d columns to search", len(cols))
	}
	var hits []string
	for _, c := range cols {
		// Every column's text values (SQLite: any column holding text).
		q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE typeof(%q) = 'text' AND lower(%q) LIKE $1`, c.table, c.column, c.column)
		if db.Dialect == store.Postgres {
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE lower(%q::text) LIKE $1`, c.table, c.column)
		}
		var n int
		if err := db.Read().QueryRow(q, "%"+strings.ToLower(needle)+"%").Scan(&n); err != nil {
			t.Fatalf("search %s.%s: %v", c.table, c.column, err)
		}
		if n > 0 {
			hits = append(hits, c.table+"."+c.column)
		}
	}
	return hits
}

func TestDeleteAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := register(t, s, "quintessa.vondrake@example.com", "Quintessa", "Vondrakeova", "+92 321 7654321")
		other := register(t, s, "zebulon.marchetti@example.com", "Zebulon", "Marchetti", "+92 300 5550001")
		second := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
		if second.Status != 200 {
			t.Fatalf("second login: %d", second.Status)
		}
		secondAccess, secondRefresh := second.JSON(t)["access"].(string), second.JSON(t)["refresh"].(string)
		if res := upload(t, s, me.Access, avatarFile("me.png", account.EncodePNG(t, account.Quadrants(64, 64)))); res.Status != 200 {
			t.Fatalf("avatar: %d %s", res.Status, res.Body)
		}
		avatar := profileAvatar(t, s, me.Access)
		ingest(t, s, call("q-1", me.UserID, "+923338887766", "+925155512340", "completed"),
			call("q-2", me.UserID, "+925155512340", "+923338887766", "no-answer"),
			call("z-1", other.UserID, "+923001110000", "+924235761000", "completed"))
		if res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/profile/", Token: me.Access, Body: map[string]any{"last_name": "Vondrakeova"}}); res.Status != 200 {
			t.Fatalf("profile: %d", res.Status)
		}
		personal := []string{me.Email, "quintessa", "vondrake", "3217654321", "3338887766", "5155512340"}
		for _, v := range personal {
			if len(textHits(t, db, v)) == 0 {
				t.Fatalf("the fixture does not store %q anywhere: the search below would prove nothing", v)
			}
		}

		refused := []struct {
			name string
			body any
			loc  string
		}{
			{"wrong password", map[string]string{"password": "not-my-password-at-all", "confirm": "DELETE"}, "body.password"},
			{"no confirmation", map[string]string{"password": apitest.StrongPassword}, "body.confirm"},
			{"lower-case confirmation", map[string]string{"password": apitest.StrongPassword, "confirm": "delete"}, "body.confirm"},
			{"no password", map[string]string{"confirm": "DELETE"}, "body.password"},
			{"unknown field", map[string]string{"password": apitest.StrongPassword, "confirm": "DELETE", "force": "yes"}, "body.force"},
		}
		for _, tc := range refused {
			res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/delete-account/", Token: me.Access, Body: tc.body})
			if res.Status != 422 || !slices.Contains(apitest.ErrorLocations(t, res), tc.loc) {
				t.Fatalf("%s: %d %s, want 422 naming %s", tc.name, res.Status, res.Body, tc.loc)
			}
		}
		if res := get(t, s, me.Access, "/api/dashboard/user/profile/"); res.Status != 200 || !strings.Contains(string(res.Body), "Quintessa") {
			t.Fatalf("a refused deletion changed the account: %d %s", res.Status, res.Body)
		}
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/delete-account/", Body: map[string]string{"password": apitest.StrongPassword, "confirm": "DELETE"}}); res.Status != 401 {
			t.Fatalf("deletion without a token: %d", res.Status)
		}

		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/delete-account/", Token: me.Access,
			Body: map[string]string{"password": apitest.StrongPassword, "confirm": "DELETE"}})
		if res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}

		for name, token := range map[string]string{"access": me.Access, "other session's access": secondAccess} {
			if res := do(t, s, token, "/api/dashboard/user/profile/"); res.Status != 401 {
				t.Fatalf("%s token after deletion: %d", name, res.Status)
			}
		}
		for _, refresh := range []string{me.Refresh, secondRefresh} {
			if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/refresh/", Body: map[string]string{"refresh": refresh}}); res.Status != 401 {
				t.Fatalf("refresh after deletion: %d", res.Status)
			}
		}
		for _, v := range personal {
			if hits := textHits(t, db, v); len(hits) > 0 {
				t.Errorf("%q is still stored in %v", v, hits)
			}
		}
		// (After the search: a sign-in attempt is counted under the email it
		// names, for the limit's window, whoever makes it.)
		if res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}}); res.Status != 401 {
			t.Fatalf("login after deletion: %d", res.Status)
		}
		if res := s.Do(t, apitest.Request{Method: "GET", Path: avatar}); res.Status != 404 {
			t.Errorf("the avatar file is still served: %d", res.Status)
		}
		var calls, notifications int
		_ = db.Read().QueryRow(`SELECT count(*) FROM calls WHERE user_id = $1`, me.UserID).Scan(&calls)
		_ = db.Read().QueryRow(`SELECT count(*) FROM notifications WHERE user_id = $1`, me.UserID).Scan(&notifications)
		if calls != 2 || notifications != 0 {
			t.Errorf("calls are kept without numbers and notifications go: %d calls, %d notifications", calls, notifications)
		}

		// The other user is untouched.
		for _, v := range []string{other.Email, "zebulon", "marchetti", "3001110000"} {
			if len(textHits(t, db, v)) == 0 {
				t.Errorf("another user's %q was erased too", v)
			}
		}
		if res := get(t, s, other.Access, "/api/dashboard/user/calls/"); res.Status != 200 || !strings.Contains(string(res.Body), "+923001110000") {
			t.Errorf("another user's calls: %d %s", res.Status, res.Body)
		}

		// The email is free again.
		again := register(t, s, me.Email, "Quintessa", "Again", "")
		if again.UserID == me.UserID {
			t.Fatal("re-registration reused the deleted account")
		}
		if res := get(t, s, again.Access, "/api/dashboard/user/calls/"); !strings.Contains(string(res.Body), `"results":[]`) {
			t.Fatalf("the new account sees the deleted one's calls: %s", res.Body)
		}
	})
}

// do is a GET that may answer anything.
func do(t *testing.T, s *apitest.Server, token, path string) *apitest.Response {
	t.Helper()
	return s.Do(t, apitest.Request{Method: "GET", Path: path, Token: token})
}

func readZip(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

func TestExportData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me := register(t, s, "export.me@example.com", "Farida", "Qureshi", "+92 321 1112223")
		other := register(t, s, "export.other@example.com", "Omar", "Sheikh", "")
		if res := upload(t, s, me.Access, avatarFile("me.png", account.EncodePNG(t, account.Quadrants(64, 64)))); res.Status != 200 {
			t.Fatalf("avatar: %d", res.Status)
		}
		ingest(t, s, call("mine-1", me.UserID, "+923001000001", "+924235761000", "completed"),
			call("mine-2", me.UserID, "+923001000002", "+924235761000", "busy"),
			call("theirs-1", other.UserID, "+923009999999", "+924235761000", "completed"))
		s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": other.Email, "password": "wrong-password-123"}})

		res := get(t, s, me.Access, "/api/dashboard/user/export-data/")
		if res.Status != 200 {
			t.Fatalf("export: %d %s", res.Status, res.Body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/zip" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="callboard-export-`) {
			t.Fatalf("headers: %v", res.Header)
		}
		files := readZip(t, res.Body)
		var names []string
		for name := range files {
			names = append(names, name)
		}
		slices.Sort(names)
		want := []string{"README.txt", "audit.json", "avatar.jpg", "calls.csv", "invoices.json", "notifications.json", "preferences.json",
			"profile.json", "sessions.json", "settings.json"}
		if !slices.Equal(names, want) {
			t.Fatalf("files %v, want %v", names, want)
		}
		for _, name := range want {
			if name != "README.txt" && name != "avatar.jpg" && !strings.Contains(string(files["README.txt"]), name) {
				t.Errorf("README.txt does not explain %s", name)
			}
			if strings.HasSuffix(name, ".json") && !json.Valid(files[name]) {
				t.Errorf("%s is not JSON: %s", name, files[name])
			}
		}
		var profile struct{ Email string }
		_ = json.Unmarshal(files["profile.json"], &profile)
		if profile.Email != me.Email {
			t.Errorf("profile.json: %s", files["profile.json"])
		}
		if strings.TrimSpace(string(files["invoices.json"])) != "[]" {
			t.Errorf("invoices.json without billing: %s", files["invoices.json"])
		}
		rows, err := csv.NewReader(bytes.NewReader(files["calls.csv"])).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("calls.csv: %v %q", err, files["calls.csv"])
		}
		for _, r := range rows[1:] {
			if !strings.HasPrefix(r[1], "mine-") {
				t.Errorf("calls.csv holds another user's call: %v", r)
			}
		}
		var notifications []struct{ Kind string }
		_ = json.Unmarshal(files["notifications.json"], &notifications)
		if len(notifications) != 2 {
			t.Errorf("notifications.json: %s", files["notifications.json"])
		}
		var sessions []struct{ ID int64 }
		_ = json.Unmarshal(files["sessions.json"], &sessions)
		if len(sessions) != 1 {
			t.Errorf("sessions.json: %s", files["sessions.json"])
		}
		var entries []struct{ Action string }
		_ = json.Unmarshal(files["audit.json"], &entries)
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if !slices.Contains(actions, "user.registered") || !slices.Contains(actions, "data.exported") || slices.Contains(actions, "login.failed") {
			t.Errorf("audit.json actions: %v", actions)
		}
		if !bytes.HasPrefix(files["avatar.jpg"], []byte("\xff\xd8\xff")) {
			t.Error("avatar.png is not the avatar")
		}
		for _, f := range files {
			for _, leak := range []string{other.Email, "theirs-1", "+923009999999", "Sheikh"} {
				if bytes.Contains(f, []byte(leak)) {
					t.Errorf("the export holds another user's %q", leak)
				}
			}
		}

		// One export per user per few minutes; others are not held back.
		again := do(t, s, me.Access, "/api/dashboard/user/export-data/")
		if again.Status != 429 || again.Header.Get("Retry-After") == "" {
			t.Fatalf("second export at once: %d %v", again.Status, again.Header)
		}
		if res := get(t, s, other.Access, "/api/dashboard/user/export-data/"); res.Status != 200 {
			t.Fatalf("another user's export: %d", res.Status)
		}
		s.Clock.Advance(5*time.Minute + time.Second)
		if res := get(t, s, me.Access, "/api/dashboard/user/export-data/"); res.Status != 200 {
			t.Fatalf("export after the interval: %d", res.Status)
		}
		if res := do(t, s, "", "/api/dashboard/user/export-data/"); res.Status != 401 {
			t.Fatalf("export without a token: %d", res.Status)
		}
	})
}
