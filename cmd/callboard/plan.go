package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"callboard/internal/app"
	"callboard/internal/billing"
)

const planUsage = `callboard plan create --code C --name N --price MINOR --currency CUR [--interval month|year]
                      [--included-minutes N] [--overage MINOR] [--max-agents N] [--description D] [--feature F]...
callboard plan list [--all]
callboard plan archive --code C
Prices are integer minor units of the currency (cents, paisa): --price 4900 --currency USD is USD 49.00.
`

// features collects repeated --feature flags.
type features []string

func (f *features) String() string     { return strings.Join(*f, "; ") }
func (f *features) Set(v string) error { *f = append(*f, v); return nil }

// planCommand is "callboard plan create|list|archive": the catalogue.
func planCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("plan", planUsage, args, stdout)
	if err != nil {
		return err
	}
	switch verb {
	case "create":
		var (
			np   billing.NewPlan
			feat features
		)
		cfg, err := parseConfig("plan create", rest, getenv, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&np.Code, "code", "", "plan code, like pro-pkr (required)")
			fs.StringVar(&np.Name, "name", "", "name shown to customers (required)")
			fs.StringVar(&np.Description, "description", "", "one sentence shown with the plan")
			fs.Int64Var(&np.Price.Amount, "price", -1, "price per interval in minor units (required)")
			fs.StringVar(&np.Price.Currency, "currency", "", "ISO 4217 code, like USD or PKR (required)")
			fs.StringVar(&np.Interval, "interval", billing.IntervalMonth, "month or year")
			fs.Int64Var(&np.IncludedMinutes, "included-minutes", 0, "call minutes included per period")
			fs.Int64Var(&np.OveragePerMinute, "overage", 0, "price of a minute over the included ones, minor units")
			fs.Int64Var(&np.MaxAgents, "max-agents", 1, "AI agents allowed")
			fs.Var(&feat, "feature", "a feature line shown with the plan (repeat for several)")
		})
		if err != nil {
			return err
		}
		np.Features = feat
		return withApp(ctx, cfg, stderr, func(a *app.App) error {
			p, err := a.Billing.CreatePlan(ctx, np)
			if err != nil {
				return operatorError(err)
			}
			fmt.Fprintf(stdout, "created plan %s (%s): %s a %s, %d minutes included\n", p.Code, p.Name, p.Price, p.Interval, p.IncludedMinutes)
			return nil
		})
	case "list":
		var all bool
		cfg, err := parseConfig("plan list", rest, getenv, stderr, func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all", false, "include archived plans")
		})
		if err != nil {
			return err
		}
		return withApp(ctx, cfg, stderr, func(a *app.App) error {
			plans, err := a.Billing.Plans(ctx, all)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "CODE\tNAME\tPRICE\tINTERVAL\tMINUTES\tOVERAGE/MIN\tAGENTS\tSTATUS")
			for _, p := range plans {
				status := "active"
				if !p.Active {
					status = "archived"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n", p.Code, p.Name, p.Price, p.Interval, p.IncludedMinutes, p.OveragePerMinute, p.MaxAgents, status)
			}
			return w.Flush()
		})
	case "archive":
		var code string
		cfg, err := parseConfig("plan archive", rest, getenv, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&code, "code", "", "code of the plan to archive (required)")
		})
		if err != nil {
			return err
		}
		if code == "" {
			return usageError{"--code is required"}
		}
		return withApp(ctx, cfg, stderr, func(a *app.App) error {
			p, err := a.Billing.ArchivePlan(ctx, code)
			if err != nil {
				return operatorError(err)
			}
			fmt.Fprintf(stdout, "archived plan %s: nobody can choose it now; its subscribers keep it until they change\n", p.Code)
			return nil
		})
	}
	return usageError{fmt.Sprintf("unknown plan command %q; usage:\n%s", verb, planUsage)}
}
