package main

import (
	"strings"
	"testing"
)

// The operator's billing commands, end to end through run on a SQLite
// data directory: output, errors and exit codes.
func TestBillingCommands(t *testing.T) {
	_, cli := commandLine(t)
	if _, e, code := cli("violet-lantern-87-orbit\n", "user", "create", "--email", "ops@example.com", "--first-name", "Ops", "--last-name", "Person"); code != 0 {
		t.Fatalf("user create: %d %s", code, e)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout, or in stderr for failures
	}{
		{"list the default catalogue", []string{"plan", "list"}, 0, "business  Business  USD 199.00"},
		{"create a PKR plan", []string{"plan", "create", "--code", "pro-pkr", "--name", "Pro", "--price", "1390000", "--currency", "PKR",
			"--included-minutes", "2000", "--overage", "1100", "--feature", "2,000 minutes"}, 0, "created plan pro-pkr (Pro): PKR 13,900.00 a month"},
		{"create a taken code", []string{"plan", "create", "--code", "pro", "--name", "Pro", "--price", "1", "--currency", "USD"}, 1, `a plan with code "pro" exists`},
		{"create with bad fields", []string{"plan", "create", "--code", "Bad Code", "--name", "x", "--price", "5", "--currency", "XYZ"}, 1, "--currency: must be an ISO 4217 code"},
		{"archive", []string{"plan", "archive", "--code", "pro-pkr"}, 0, "archived plan pro-pkr"},
		{"archive again", []string{"plan", "archive", "--code", "pro-pkr"}, 1, "already archived"},
		{"archive the free plan", []string{"plan", "archive", "--code", "free"}, 1, "new users start on"},
		{"archive without a code", []string{"plan", "archive"}, 2, "--code is required"},
		{"list with archived", []string{"plan", "list", "--all"}, 0, "archived"},
		{"unknown verb", []string{"plan", "frob"}, 2, `unknown plan command "frob"`},
		{"help", []string{"plan", "--help"}, 0, "callboard plan create"},
		{"set a plan", []string{"subscription", "set", "--user", "ops@example.com", "--plan", "pro"}, 0, "is on pro (active)"},
		{"set an unknown plan", []string{"subscription", "set", "--user", "ops@example.com", "--plan", "nope"}, 1, "plan nope not found"},
		{"set for nobody", []string{"subscription", "set", "--user", "nobody@example.com", "--plan", "pro"}, 1, `no user "nobody@example.com"`},
		{"set without a user", []string{"subscription", "set", "--plan", "pro"}, 2, "--user is required"},
		{"list invoices", []string{"invoice", "list", "--status", "open"}, 0, "NUMBER"},
		{"list invoices with a bad status", []string{"invoice", "list", "--status", "owed"}, 1, "--status: must be open, paid or void"},
		{"mark an unknown invoice paid", []string{"invoice", "mark-paid", "--invoice", "CB-000042"}, 1, "invoice not found"},
		{"mark paid without a number", []string{"invoice", "mark-paid"}, 2, "--invoice: want an invoice number"},
		{"an unknown flag", []string{"invoice", "list", "--colour", "red"}, 2, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli("", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
}
