package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"callboard/internal/apperr"
	"callboard/internal/auth"
)

// userCommand is "callboard user create": an operator adds an account. The
// password is read from standard input so it never appears in a process list.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: callboard user create --email E --first-name F --last-name L [--phone P] < password")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, finish := bindConfig(fs, getenv)
	email := fs.String("email", "", "email address (required)")
	first := fs.String("first-name", "", "first name (required)")
	last := fs.String("last-name", "", "last name (required)")
	phone := fs.String("phone", "", "phone number (optional)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	password, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	u, err := a.auth.CreateUser(ctx, auth.NewUser{
		Email: *email, Password: strings.TrimRight(password, "\r\n"), FirstName: *first, LastName: *last, Phone: *phone,
	}, auth.Client{IP: "cli", UserAgent: "callboard user create"})
	if e, ok := apperr.As(err); ok {
		var b strings.Builder
		b.WriteString(e.Message)
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "\n  %s: %s", strings.TrimPrefix(f.Location, "body."), f.Message)
		}
		return fmt.Errorf("%s", b.String())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %d <%s>\n", u.ID, u.Email)
	return nil
}
