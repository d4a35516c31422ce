package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"callboard/internal/app"
	"callboard/internal/apperr"
	"callboard/internal/auth"
)

// userCommand is "callboard user create": an operator adds an account. The
// password is read from standard input so it never appears in a process list.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: callboard user create --email E --first-name F --last-name L [--phone P] < password")
	}
	var email, first, last, phone string
	cfg, err := parseConfig("user create", args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address (required)")
		fs.StringVar(&first, "first-name", "", "first name (required)")
		fs.StringVar(&last, "last-name", "", "last name (required)")
		fs.StringVar(&phone, "phone", "", "phone number (optional)")
	})
	if err != nil {
		return err
	}
	password, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		u, err := a.Auth.CreateUser(ctx, auth.NewUser{
			Email: email, Password: strings.TrimRight(password, "\r\n"), FirstName: first, LastName: last, Phone: phone,
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
	})
}
