package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callboard/internal/store"
)

// "callboard announce" end to end through run on a SQLite data directory:
// it queues news for the opted-in verified user only; output, errors and
// exit codes.
func TestAnnounceCommand(t *testing.T) {
	dir, cli := commandLine(t)
	for _, email := range []string{"news@example.com", "quiet@example.com"} {
		if _, e, code := cli("violet-lantern-87-orbit\n", "user", "create", "--email", email, "--first-name", "Ops", "--last-name", "Person"); code != 0 {
			t.Fatalf("user create: %d %s", code, e)
		}
	}
	// Verification and the opt-in happen through the dashboard; here, in
	// the database.
	db, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write().Exec(`UPDATE users SET is_verified = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write().Exec(`INSERT INTO user_settings (user_id, notify_marketing, updated_at)
		SELECT id, 1, 1 FROM users WHERE email = 'news@example.com'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	write := func(name, text string) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	en := write("en.txt", "Every call now gets a summary.\nRead it in the call's page.\n\nThank you for using Callboard.\n")
	ur := write("ur.txt", "اب ہر کال کا خلاصہ بنتا ہے۔\n")
	blank := write("blank.txt", "\n \n")
	flags := func(extra ...string) []string {
		return append([]string{"announce", "--subject-en", "Call summaries", "--subject-ur", "کال کا خلاصہ", "--body-en-file", en, "--body-ur-file", ur}, extra...)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout, or in stderr for failures
	}{
		{"dry run", flags("--dry-run"), 0, "would queue 1 emails"},
		{"announce", flags(), 0, "queued 1 emails; the running server delivers them"},
		{"missing flags", []string{"announce", "--subject-en", "x"}, 2, "--body-en-file, --body-ur-file, --subject-ur required"},
		{"a body file that is not there", []string{"announce", "--subject-en", "x", "--subject-ur", "y", "--body-en-file", en, "--body-ur-file", "/nonexistent/ur.txt"}, 1, "no such file"},
		{"a blank body", []string{"announce", "--subject-en", "x", "--subject-ur", "y", "--body-en-file", en, "--body-ur-file", blank}, 1, "--body-ur-file: is required"},
		{"a subject of two lines", []string{"announce", "--subject-en", "x\nBcc: all@example.com", "--subject-ur", "y", "--body-en-file", en, "--body-ur-file", ur}, 1, "--subject-en: must be one line"},
		{"an unknown flag", flags("--to", "everyone"), 2, "flag provided but not defined"},
		{"help", []string{"announce", "--help"}, 0, "callboard announce --subject-en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli("", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}

	db, err = store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recipient, text, unsubscribe string
	if err := db.Read().QueryRow(`SELECT recipient, body_text, headers FROM mail_outbox WHERE kind = 'marketing'`).Scan(&recipient, &text, &unsubscribe); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d messages queued, want 1: %v", n, err)
	}
	if recipient != "news@example.com" || !strings.Contains(text, "Every call now gets a summary. Read it in the call's page.\n\nThank you") ||
		!strings.Contains(unsubscribe, "List-Unsubscribe-Post") {
		t.Fatalf("queued to %s:\n%s\nheaders %s", recipient, text, unsubscribe)
	}
}
