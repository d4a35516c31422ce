package searchtext_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"callboard/internal/searchtext"
)

func TestDistinct(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Hello, hello HELLO world.", "hello world"},
		{"order #4521: order-4521 (ORDER)", "order 4521"},
		{"don't stop", "don t stop"},
		{"don’t stop…now", "don t stop now"}, // non-ASCII punctuation splits too
		{"Agent: السلام علیکم، آپ کا آرڈر آپ کا", "agent السلام علیکم اپ کا ارڈر"},
		{"café Café CAFÉ cafe\u0301", "cafe"}, // precomposed or not, any case
		{"naïve Ærøskøbing ŞİŞLİ", "naive ærøskøbing sisli"},
		{"한국어 日本語", "한국어 日本語"}, // decomposed and recomposed unchanged
		{"x² ½ 3", "x 3"}, // only letters and decimal digits make words
		{"\n\t  a\r\nb a ", "a b"},
		{"bad\xffbyte", "bad byte"},
	} {
		if got := searchtext.Distinct(tc.in); got != tc.want {
			t.Errorf("Distinct(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A Reducer reused across texts forgets the previous text's words.
	var r searchtext.Reducer
	if a, b := r.Distinct("one two"), r.Distinct("two three"); a != "one two" || b != "two three" {
		t.Fatalf("reused reducer: %q, %q", a, b)
	}
}

// FuzzSearchFindsIndexedWords: whatever the text, each word the history's
// search splits out of it (lowercased, split at anything but letters and
// digits, as calls.searchWords does) stands for terms the text's own index
// row holds. The seeds run with every go test.
func FuzzSearchFindsIndexedWords(f *testing.F) {
	for _, s := range []string{
		"Hello, World", "CAFÉ café cafe\u0301s", "İstanbul ISTANBUL", "آپ کا آرڈر، منگل کو۔", "ǅemal ǆ Ǆ",
		"ﬁne ﬂow", "Straße STRASSE ẞ", "ΌΣΟΣ όσος", "x²y ½ Ⅻ ⓐⒶ", "\xff\xfe broken", "e\u0301\u0301 \u0301", "ꙮ ᾈ ᾀ",
		"한국어 한", "a;b a\u037eb", "0042 +92 300 1234567",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		row := strings.Fields(searchtext.Distinct(text))
		if len(slices.Compact(slices.Sorted(slices.Values(row)))) != len(row) {
			t.Fatalf("Distinct(%q) repeats a word: %q", text, row)
		}
		isSep := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
		for _, word := range strings.FieldsFunc(strings.ToLower(text), isSep) {
			for _, term := range searchtext.Words(word) {
				if !slices.Contains(row, term) {
					t.Fatalf("search word %q (term %q) is not in the row of %q: %q", word, term, text, row)
				}
			}
		}
		for _, term := range row {
			if strings.ContainsFunc(term, func(r rune) bool { return r < 0x80 && isSep(r) }) {
				t.Fatalf("term %q of %q would be split by the ascii tokenizer", term, text)
			}
		}
	})
}

func TestNumberTerms(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"+923001234567"}, "923001234567 3001234567 1234567 4567 "},
		{[]string{"+12025550123", "sip:alice@example.com"}, "12025550123 2025550123 5550123 0123 "},
		{[]string{"1234", "anonymous", ""}, "1234 "},
	} {
		if got := searchtext.NumberTerms(tc.in...); got != tc.want {
			t.Errorf("NumberTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOwned(t *testing.T) {
	if got := searchtext.Owned(42, "refund order", "", "4567 ", " x"); got != "u42xrefund u42xorder u42x4567 u42xx" {
		t.Fatalf("Owned = %q", got)
	}
	if got := searchtext.Owned(7); got != "" {
		t.Fatalf("Owned without words = %q", got)
	}
	// No user's prefix starts another's, so a prefix query for one user's
	// word never reaches another user's terms.
	for a := int64(1); a < 200; a++ {
		for b := int64(1); b < 200; b++ {
			if a != b && strings.HasPrefix(searchtext.Prefix(a)+"123", searchtext.Prefix(b)) {
				t.Fatalf("prefix of %d starts with the prefix of %d", a, b)
			}
		}
	}
}
