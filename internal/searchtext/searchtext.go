// Package searchtext turns a call's text into the terms SQLite's full-text
// index of calls holds, and a search's words into the terms it looks for,
// with one set of functions: ingest (package calls), the migration that
// rebuilds the index and the rewrite that drops a user's numbers (SQL
// functions registered by package store) and the search itself all go
// through them, so they agree on every term by construction.
//
// A term is a word of the text, lowercased and without diacritics, behind
// its owner's prefix (Owned): "u42xrefund" is "refund" in a call of user
// 42. A prefix query for one user's word ("u42xrefu"*) then reads only that
// user's entries, however many calls other users hold with the same word.
// The index tokenizes with FTS5's ascii tokenizer, which splits at ASCII
// characters other than letters and digits only, so each term written here
// is exactly one token there.
package searchtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Reducer computes Distinct, keeping its memory across texts (the calls of
// an ingest batch) so that a transcript costs one allocation, its result.
// The zero value is ready; a Reducer is not safe for concurrent use.
type Reducer struct {
	seen map[string]struct{}
	out  []byte
}

// Distinct returns text's words, each once, separated by spaces. A word is
// a run of letters and digits (what the history's search splits a search
// into, too), lowercased and without its diacritics: "Café, CAFE" is
// "cafe".
func Distinct(text string) string {
	var r Reducer
	return r.Distinct(text)
}

// Distinct is the package's Distinct with r's memory.
func (r *Reducer) Distinct(text string) string {
	if r.seen == nil {
		r.seen = make(map[string]struct{}, 256)
	}
	clear(r.seen)
	r.out = r.out[:0]
	start, fold := -1, false // the current word's start, and whether it needs folding
	for i := 0; i < len(text); {
		c := text[i]
		size, isWord, needsFold := 1, false, false
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			isWord = true
		case c >= 'A' && c <= 'Z':
			isWord, needsFold = true, true
		case c >= utf8.RuneSelf:
			var rn rune
			rn, size = utf8.DecodeRuneInString(text[i:])
			isWord, needsFold = isWordRune(rn), true
		}
		switch {
		case isWord && start < 0:
			start, fold = i, needsFold
		case isWord:
			fold = fold || needsFold
		case start >= 0:
			r.add(text[start:i], fold)
			start = -1
		}
		i += size
	}
	if start >= 0 {
		r.add(text[start:], fold)
	}
	return string(r.out)
}

// add appends word (a substring of the text: no copy unless folded) if it
// is new; folding may split it further.
func (r *Reducer) add(word string, fold bool) {
	if !fold {
		r.addWord(word)
		return
	}
	folded := foldWord(word)
	if folded == word || !strings.ContainsFunc(folded, isSeparator) {
		r.addWord(folded)
		return
	}
	for _, w := range strings.FieldsFunc(folded, isSeparator) {
		r.addWord(w)
	}
}

func (r *Reducer) addWord(word string) {
	if word == "" {
		return
	}
	if _, ok := r.seen[word]; ok {
		return
	}
	r.seen[word] = struct{}{}
	if len(r.out) > 0 {
		r.out = append(r.out, ' ')
	}
	r.out = append(r.out, word...)
}

// Words is Distinct's words as a list: the terms one search word stands for
// (usually itself; "Café" is "cafe", and a word whose folding holds a
// separator is several).
func Words(text string) []string { return strings.Fields(Distinct(text)) }

// isWordRune tells the runes words are made of: letters and digits, as the
// history's search splits a search.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isSeparator(r rune) bool { return !isWordRune(r) }

// foldWord lowercases word and removes its diacritics (the nonspacing marks
// of its canonical decomposition: "é" is "e", "آ" is "ا").
func foldWord(word string) string {
	ascii := true
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(word)
	}
	if !norm.NFD.IsNormalString(word) {
		word = norm.NFD.String(word)
	}
	b := make([]byte, 0, len(word))
	for _, rn := range word {
		if unicode.Is(unicode.Mn, rn) {
			continue
		}
		b = utf8.AppendRune(b, unicode.ToLower(rn))
	}
	out := string(b)
	if !norm.NFC.IsNormalString(out) {
		// Recompose what decomposing split without a mark (Hangul).
		out = norm.NFC.String(out)
	}
	return out
}

// NumberTerms makes search terms of each number's digits: all of them and
// the last 10, 7 and 4, so a prefix query finds a number by its start, its
// national part (without country code), its local part or its last four
// digits: "4567" and "300123" both find +92 300 1234567. (Every suffix
// would find any part of it, but costs a term per digit in the index.)
func NumberTerms(numbers ...string) string {
	var sb strings.Builder
	for _, n := range numbers {
		digits := Digits(n)
		last := ""
		for _, keep := range []int{len(digits), 10, 7, 4} {
			if keep > len(digits) || keep <= 0 {
				continue
			}
			term := digits[len(digits)-keep:]
			if term == last {
				continue
			}
			sb.WriteString(term)
			sb.WriteByte(' ')
			last = term
		}
	}
	return sb.String()
}

// Digits is s without anything but its ASCII digits.
func Digits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// Prefix is the owner's prefix of every term of its calls: "u42x". The
// owner's digits end at the x, so no user's terms start with another's
// prefix.
func Prefix(owner int64) string { return "u" + strconv.FormatInt(owner, 10) + "x" }

// Owned is the text of a call's row in SQLite's full-text index: each word
// of each part (words separated by spaces, as Distinct and NumberTerms
// return them) behind the owner's prefix.
func Owned(owner int64, parts ...string) string {
	prefix := Prefix(owner)
	n := 0
	for _, p := range parts {
		n += len(p) + (strings.Count(p, " ")+1)*(len(prefix)+1)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		for w := range strings.FieldsSeq(p) {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, prefix...)
			b = append(b, w...)
		}
	}
	return string(b)
}
