package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"callboard/internal/app"
	"callboard/internal/billing"
)

const invoiceUsage = `callboard invoice list [--user ID|EMAIL] [--status open|paid|void] [--limit N]
callboard invoice mark-paid --invoice CB-000123|123 [--reference R]
`

// invoiceCommand is "callboard invoice list|mark-paid".
func invoiceCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("invoice", invoiceUsage, args, stdout)
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		var (
			user string
			f    billing.InvoiceFilter
		)
		cfg, err := parseConfig("invoice list", rest, getenv, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&user, "user", "", "only this user's invoices (id or email)")
			fs.StringVar(&f.Status, "status", "", "only invoices with this status: open, paid or void")
			fs.IntVar(&f.Limit, "limit", 100, "at most this many, newest first (1–1000)")
		})
		if err != nil {
			return err
		}
		return withApp(ctx, cfg, stderr, func(a *app.App) error {
			if user != "" {
				if f.UserID, err = resolveUser(ctx, a, user); err != nil {
					return err
				}
			}
			invs, err := a.Billing.AllInvoices(ctx, f)
			if err != nil {
				return operatorError(err)
			}
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NUMBER\tUSER\tKIND\tPLAN\tTOTAL\tSTATUS\tISSUED\tDUE")
			for _, inv := range invs {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", inv.Number, inv.UserID, inv.Kind, inv.Plan, inv.Total, inv.Status,
					inv.IssuedAt.Format("2006-01-02"), inv.DueAt.Format("2006-01-02"))
			}
			return w.Flush()
		})
	case "mark-paid":
		var number, ref string
		cfg, err := parseConfig("invoice mark-paid", rest, getenv, stderr, func(fs *flag.FlagSet) {
			fs.StringVar(&number, "invoice", "", "the invoice: its number (CB-000123) or id (required)")
			fs.StringVar(&ref, "reference", "", "the payment's reference (bank transfer, receipt)")
		})
		if err != nil {
			return err
		}
		id, perr := strconv.ParseInt(strings.TrimLeft(strings.TrimPrefix(strings.ToUpper(number), "CB-"), "0"), 10, 64)
		if number == "" || perr != nil || id <= 0 {
			return usageError{fmt.Sprintf("--invoice: want an invoice number like CB-000123 or an id, got %q", number)}
		}
		return withApp(ctx, cfg, stderr, func(a *app.App) error {
			inv, err := a.Billing.MarkPaid(ctx, id, "operator", ref)
			if err != nil {
				return operatorError(err)
			}
			fmt.Fprintf(stdout, "invoice %s (%s) marked paid\n", inv.Number, inv.Total)
			return nil
		})
	}
	return usageError{fmt.Sprintf("unknown invoice command %q; usage:\n%s", verb, invoiceUsage)}
}
