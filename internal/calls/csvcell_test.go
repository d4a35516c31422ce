package calls

import "testing"

// TestSafeCell: a cell a spreadsheet could run as a formula is defused with
// a leading quote; a plain phone number or number is left as it is, so
// scripts reading the export get the value.
func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Plain values stay as they are.
		{"", ""},
		{"hello", "hello"},
		{"+923001234567", "+923001234567"},
		{"-42", "-42"},
		{"3.14", "3.14"},
		{"-0.5", "-0.5"},
		{"anonymous", "anonymous"},
		{"sip:alice@example.com", "sip:alice@example.com"},
		{"customer-ended", "customer-ended"},
		{"Call about a refund.\nThe customer was happy.", "Call about a refund.\nThe customer was happy."},
		// Formulas and what spreadsheets take as their start are defused.
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://evil.example")`, `'=HYPERLINK("http://evil.example")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+92 300 1234567", "'+92 300 1234567"}, // not a plain number: a formula to a spreadsheet
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{" =1", "' =1"},             // leading whitespace
		{"\u00a0=1", "'\u00a0=1"},   // leading no-break space
		{"\uff1d1+1", "'\uff1d1+1"}, // full-width equals sign
		{"\uff0bcmd", "'\uff0bcmd"}, // full-width plus sign
		{"note\n=cmd|' /C calc'!A0", "'note\n=cmd|' /C calc'!A0"}, // a newline before a formula
		{"note\r\n@SUM(A1)", "'note\r\n@SUM(A1)"},
		{"a\n \t-1+2", "'a\n \t-1+2"},
	} {
		if got := safeCell(tc.in); got != tc.want {
			t.Errorf("safeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
