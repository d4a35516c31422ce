package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"callboard/internal/app"
)

const subscriptionUsage = `callboard subscription set --user ID|EMAIL --plan CODE
Puts the user on the plan at once, without an invoice (for support); archived plans too.
`

// subscriptionCommand is "callboard subscription set".
func subscriptionCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("subscription", subscriptionUsage, args, stdout)
	if err != nil {
		return err
	}
	if verb != "set" {
		return usageError{fmt.Sprintf("unknown subscription command %q; usage:\n%s", verb, subscriptionUsage)}
	}
	var user, plan string
	cfg, err := parseConfig("subscription set", rest, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "the user: id or email (required)")
		fs.StringVar(&plan, "plan", "", "the plan's code (required)")
	})
	if err != nil {
		return err
	}
	if plan == "" {
		return usageError{"--plan is required"}
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		id, err := resolveUser(ctx, a, user)
		if err != nil {
			return err
		}
		c, err := a.Billing.SetPlan(ctx, id, plan)
		if err != nil {
			return operatorError(err)
		}
		fmt.Fprintf(stdout, "user %d is on %s (%s) until %s\n", id, c.Plan.Code, c.Status, c.CurrentPeriodEnd.Format("2006-01-02"))
		return nil
	})
}
