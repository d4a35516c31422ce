// Package plaintext holds the rules every stored piece of user text
// follows, whichever capability takes it in: valid UTF-8 without control
// characters (PostgreSQL's text refuses NUL, and SQLite would store bytes
// that no client can show), and, for names, no bidirectional overrides.
package plaintext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem says why s cannot be stored as text, or returns "": bytes that
// are not UTF-8 (a JSON decoder turns them into U+FFFD, which is refused
// too, so such input is refused rather than silently changed), and control
// characters such as NUL, which PostgreSQL cannot store in text and no name
// or address contains.
func Problem(s string) string {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "must be valid UTF-8 text"
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "must not contain control characters such as NUL"
	}
	return ""
}

// HasBidiControl reports whether s holds an explicit bidirectional
// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069): in a name
// they reorder the text around it wherever it is shown ("Trojan Source").
func HasBidiControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
	})
}

// BidiMessage is the refusal of a name with HasBidiControl.
const BidiMessage = "must not contain bidirectional override characters (U+202A–U+202E, U+2066–U+2069)"

// ProblemMultiline is Problem for text of several lines, such as a call's
// summary or transcript: line breaks and tabs are allowed, other control
// characters (NUL first of all) are not.
func ProblemMultiline(s string) string {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "must be valid UTF-8 text"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "must not contain control characters such as NUL"
	}
	return ""
}
