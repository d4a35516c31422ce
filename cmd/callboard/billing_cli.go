package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"callboard/internal/app"
	"callboard/internal/apperr"
)

// usageError is a command used wrongly (unknown subcommand, missing or bad
// flag): the process exits 2, as flag parsing errors do; other failures
// exit 1.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode is the process's exit status for run's error.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "flag provided but not defined"), strings.HasPrefix(err.Error(), "invalid value"):
		return 2
	}
	return 1
}

// operatorError turns a billing refusal into a message naming each bad
// flag, for the operator commands.
func operatorError(err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  --%s: %s", strings.TrimPrefix(strings.TrimPrefix(f.Location, "body."), "query."), f.Message)
	}
	return errors.New(b.String())
}

// resolveUser reads --user as an id or an email address.
func resolveUser(ctx context.Context, a *app.App, user string) (int64, error) {
	if user == "" {
		return 0, usageError{"--user is required (an id or an email address)"}
	}
	if id, err := strconv.ParseInt(user, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	id, err := a.Auth.UserIDByEmail(ctx, user)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return 0, fmt.Errorf("no user %q", user)
	}
	return id, err
}

// subcommand splits "callboard NOUN VERB …" into the verb and its flags.
func subcommand(noun, usage string, args []string, stdout io.Writer) (string, []string, error) {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, usage)
			return "", nil, flag.ErrHelp
		}
		return "", nil, usageError{"usage:\n" + usage}
	}
	if args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return "", nil, flag.ErrHelp
	}
	return args[0], args[1:], nil
}
