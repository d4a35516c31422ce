package calls

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// safeCell defuses a text cell that a spreadsheet could read as a formula
// (OWASP CSV injection) by putting a single quote before it. A plain number
// or phone number ("+923001234567", "-42", "3.5") is left as it is, so the
// export stays useful to scripts. Defused: a cell starting with = + - @ (or
// their full-width forms), or with whitespace (spreadsheets skip it before
// a formula), and a cell with a line that starts, after whitespace, with
// one of those characters (some spreadsheets read each line on its own).
func safeCell(s string) string {
	if s == "" || plainNumber(s) {
		return s
	}
	if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) || formulaRune(r) {
		return "'" + s
	}
	for i := strings.IndexAny(s, "\r\n"); i >= 0; {
		line := strings.TrimLeftFunc(s[i+1:], unicode.IsSpace)
		if r, _ := utf8.DecodeRuneInString(line); formulaRune(r) {
			return "'" + s
		}
		next := strings.IndexAny(s[i+1:], "\r\n")
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return s
}

// formulaRune reports whether a spreadsheet starts a formula with r.
func formulaRune(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20': // and full-width ＝ ＋ － ＠
		return true
	}
	return false
}

// plainNumber reports whether s is an optionally signed decimal number,
// such as an E.164 phone number.
func plainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	whole, frac, dotted := strings.Cut(s, ".")
	digits := func(p string) bool {
		return p != "" && strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) < 0
	}
	return digits(whole) && (!dotted || digits(frac))
}
