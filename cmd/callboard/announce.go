package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"callboard/internal/account"
	"callboard/internal/app"
	"callboard/internal/apperr"
	"callboard/internal/notify"
)

const announceUsage = `callboard announce --subject-en S --subject-ur S --body-en-file F --body-ur-file F [--dry-run]
Queues one product-news email for each user who turned marketing on and has a verified address, in their
language, with a one-click unsubscribe link. A body file is plain UTF-8 text; blank lines separate paragraphs.
The running server delivers the queued mail. Running the command again sends again.
`

// maxBodyFile bounds a body file (the announcement's own limit is 64 KiB).
const maxBodyFile = 1 << 20

// announceCommand is "callboard announce": product news to opted-in users.
func announceCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, announceUsage)
		return flag.ErrHelp
	}
	var (
		subjectEN, subjectUR, bodyEN, bodyUR string
		dryRun                               bool
	)
	cfg, err := parseConfig("announce", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&subjectEN, "subject-en", "", "subject in English (required)")
		fs.StringVar(&subjectUR, "subject-ur", "", "subject in Urdu (required)")
		fs.StringVar(&bodyEN, "body-en-file", "", "file with the text in English (required)")
		fs.StringVar(&bodyUR, "body-ur-file", "", "file with the text in Urdu (required)")
		fs.BoolVar(&dryRun, "dry-run", false, "only count the recipients")
	})
	if err != nil {
		return err
	}
	var missing []string
	for flag, v := range map[string]string{"--subject-en": subjectEN, "--subject-ur": subjectUR, "--body-en-file": bodyEN, "--body-ur-file": bodyUR} {
		if v == "" {
			missing = append(missing, flag)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return usageError{fmt.Sprintf("%s required; usage:\n%s", strings.Join(missing, ", "), announceUsage)}
	}
	news := notify.Announcement{
		Subject:    map[account.Language]string{account.LanguageEnglish: subjectEN, account.LanguageUrdu: subjectUR},
		Paragraphs: map[account.Language][]string{},
	}
	for lang, path := range map[account.Language]string{account.LanguageEnglish: bodyEN, account.LanguageUrdu: bodyUR} {
		paragraphs, err := readParagraphs(path)
		if err != nil {
			return err
		}
		news.Paragraphs[lang] = paragraphs
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		n, err := a.Notify.Announce(ctx, news, dryRun, func(queued int) {
			if !dryRun {
				fmt.Fprintf(stderr, "queued %d\n", queued)
			}
		})
		if e, ok := apperr.As(err); ok {
			for i, f := range e.Fields {
				if strings.HasPrefix(f.Location, "body-") {
					e.Fields[i].Location += "-file" // the flag that named the text
				}
			}
		}
		if err != nil && n > 0 {
			return fmt.Errorf("stopped after queuing %d emails: %w", n, err)
		}
		if err != nil {
			return operatorError(err)
		}
		if dryRun {
			fmt.Fprintf(stdout, "would queue %d emails (users with marketing on and a verified address)\n", n)
			return nil
		}
		fmt.Fprintf(stdout, "queued %d emails; the running server delivers them\n", n)
		return nil
	})
}

// readParagraphs reads a body file: paragraphs are separated by blank
// lines, and the lines of one paragraph are joined with spaces.
func readParagraphs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("body file: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxBodyFile+1))
	if err != nil {
		return nil, fmt.Errorf("body file %s: %w", path, err)
	}
	if len(raw) > maxBodyFile {
		return nil, fmt.Errorf("body file %s: larger than %d KiB", path, maxBodyFile>>10)
	}
	var paragraphs, lines []string
	flush := func() {
		if len(lines) > 0 {
			paragraphs = append(paragraphs, strings.Join(lines, " "))
			lines = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			flush()
			continue
		}
		lines = append(lines, line)
	}
	flush()
	return paragraphs, nil
}
