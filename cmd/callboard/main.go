// Command callboard serves the Callboard API and dashboard, and manages its
// database and users. See the README for the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	code := exitCode(err)
	if code != 0 {
		fmt.Fprintln(os.Stderr, "callboard:", err)
	}
	stop()
	os.Exit(code) // 0 (also for --help), 2 for a command used wrongly, 1 for a failure
}
