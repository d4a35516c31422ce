package calls_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// searchTerms is what a search can find a call by: its words and its
// numbers' digits, all of them and the last 10, 7 and 4.
func searchTerms(words []string, numbers ...string) []string {
	terms := slices.Clone(words)
	for _, n := range numbers {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, n)
		for _, keep := range []int{len(digits), 10, 7, 4} {
			if keep <= len(digits) {
				terms = append(terms, digits[len(digits)-keep:])
			}
		}
	}
	return terms
}

// searchFinds tells whether a search finds a call with terms: each of the
// search's words starts one of them (a search of a phone number is its
// digits, one word).
func searchFinds(search string, terms []string) bool {
	words := strings.FieldsFunc(strings.ToLower(search), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if strings.Trim(search, "0123456789+-() ") == "" {
		words = []string{strings.Join(words, "")}
	}
	for _, w := range words {
		if !slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(t, w) }) {
			return false
		}
	}
	return true
}

// listAll follows a list's next links from query to its end.
func listAll(t *testing.T, s *apitest.Server, token, query string) (pages []listed, all []string) {
	t.Helper()
	l := list(t, s, token, query)
	for {
		pages = append(pages, l)
		all = append(all, l.externals()...)
		if l.Next == nil || len(pages) > 100 {
			return pages, all
		}
		res := s.Do(t, apitest.Request{Method: "GET", Path: *l.Next, Token: token})
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", *l.Next, res.Status, res.Body)
		}
		l = listed{}
		res.Decode(t, &l)
	}
}

// TestSearchPathsAgree: however a search is answered (a rare word's matches
// fetched by id; a common word's history walked whole, or within a window
// of its newest calls first), it finds exactly the user's calls whose terms
// its words start, in the page's order, page after page, forward, backward
// and by page number. The calls are reported out of time order and between
// another user's calls with the same words, so ids follow neither the
// history nor one user; the prefixes stand for one term, several, or more
// than a search looks up one by one.
func TestSearchPathsAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		const n = 48
		terms := map[string][]string{}
		for k := range n {
			i := (k * 29) % n // every minute once, out of order
			words := []string{"call", fmt.Sprintf("pa%02d", i)}
			if i%3 == 0 {
				words = append(words, "common")
			}
			if i == 5 || i == 40 {
				words = append(words, "rare")
			}
			if i%4 > 0 {
				words = append(words, []string{"refund", "refunds", "refunded"}[i%4-1])
			}
			ext, to := fmt.Sprintf("u-%02d", i), fmt.Sprintf("+4420712%04d", i)
			terms[ext] = searchTerms(words, "+923001234567", to)
			ingest(t, s, with(call(ext, u.UserID, i), "summary", strings.Join(words, " "), "to_number", to, "duration_seconds", (i*7)%20),
				with(call(fmt.Sprintf("o-%02d", i), other.UserID, i), "summary", "call common rare refund pa07 pa99", "to_number", to))
		}
		queries := []string{"common", "rare", "refund", "refu", "refunds", "REFUNDED", "pa", "pa1", "pa07", "common refund",
			"call", "0042", "44 20 7123 0042", "4567", "nothingatall", "common nothingatall", "o"}
		orderings := []string{"", "ordering=duration", "ordering=started_at"}
		history := map[string][]string{}
		for _, o := range orderings {
			_, history[o] = listAll(t, s, u.Access, "page_size=100&"+o)
			if len(history[o]) != n {
				t.Fatalf("history %q: %d calls", o, len(history[o]))
			}
		}
		for _, cfg := range []struct {
			name               string
			listMax, walkBound int
		}{
			{"matches by id", 300, 2000},
			{"walk, whole history", 0, 2000},
			{"walk, window of 5", 0, 5},
			{"walk, window of 9", 0, 9},
		} {
			t.Run(cfg.name, func(t *testing.T) {
				calls.SetSearchListMax(s.Calls, cfg.listMax)
				calls.SetWalkBound(s.Calls, cfg.walkBound)
				defer calls.SetSearchListMax(s.Calls, 300)
				defer calls.SetWalkBound(s.Calls, 2000)
				for _, q := range queries {
					for _, o := range orderings {
						var want []string
						for _, ext := range history[o] {
							if searchFinds(q, terms[ext]) {
								want = append(want, ext)
							}
						}
						query := "search=" + strings.ReplaceAll(q, " ", "+") + "&page_size=4&" + o
						pages, got := listAll(t, s, u.Access, query)
						if !slices.Equal(got, want) {
							t.Fatalf("%s: %v, want %v", query, got, want)
						}
						if c := pages[0].Count; c != nil && pages[0].CountExact && *c != len(want) {
							t.Errorf("%s: count %d, want %d", query, *c, len(want))
						}
						if len(pages) > 1 {
							prev := s.Do(t, apitest.Request{Method: "GET", Path: *pages[1].Previous, Token: u.Access})
							var back listed
							prev.Decode(t, &back)
							if !slices.Equal(back.externals(), pages[0].externals()) {
								t.Errorf("%s: previous of page 2 is %v, want %v", query, back.externals(), pages[0].externals())
							}
							if p2 := list(t, s, u.Access, query+"&page=2").externals(); !slices.Equal(p2, want[4:min(8, len(want))]) {
								t.Errorf("%s&page=2: %v, want %v", query, p2, want[4:min(8, len(want))])
							}
						}
					}
				}
				// The other user finds their own calls, all of them, and none of these.
				if _, got := listAll(t, s, other.Access, "search=refund&page_size=10"); len(got) != n || slices.ContainsFunc(got, func(e string) bool { return !strings.HasPrefix(e, "o-") }) {
					t.Fatalf("the other user's search: %v", got)
				}
			})
		}
	})
}

// TestSearchAfterErasure: once a user's numbers are erased (account
// deletion), no search finds their calls by a number, while their words
// still find them; another user's calls with the same number are untouched.
func TestSearchAfterErasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		u, other := s.SignUp(t), s.SignUp(t)
		ingest(t, s, with(call("e-1", u.UserID, 0), "to_number", "+442071230042", "summary", "refund asked"),
			with(call("x-1", other.UserID, 0), "to_number", "+442071230042", "summary", "refund asked"))
		check := func(when string, session apitest.Session, want map[string][]string) {
			t.Helper()
			for _, listMax := range []int{300, 0} {
				calls.SetSearchListMax(s.Calls, listMax)
				for q, exts := range want {
					if got := list(t, s, session.Access, "search="+q).externals(); !slices.Equal(got, exts) {
						t.Errorf("%s, %s (list max %d): %v, want %v", when, q, listMax, got, exts)
					}
				}
			}
			calls.SetSearchListMax(s.Calls, 300)
		}
		check("before", u, map[string][]string{"0042": {"e-1"}, "923001234567": {"e-1"}, "refund": {"e-1"}})
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return s.Calls.ErasePersonalData(ctx, tx, u.UserID) }); err != nil {
			t.Fatal(err)
		}
		check("after", u, map[string][]string{"0042": nil, "4420712": nil, "923001234567": nil, "4567": nil, "refund": {"e-1"}, "asked": {"e-1"}})
		check("another user's, after", other, map[string][]string{"0042": {"x-1"}, "refund": {"x-1"}})
	})
}

// TestSearchIgnoresDiacritics: on SQLite (whose index used to fold them
// through its tokenizer) a word is found with or without its diacritics,
// in any case.
func TestSearchIgnoresDiacritics(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	u := s.SignUp(t)
	ingest(t, s, with(call("d-1", u.UserID, 2), "summary", "Café au lait, naïve Ærø"),
		with(call("d-2", u.UserID, 1), "summary", "CAFE noir"),
		with(call("d-3", u.UserID, 0), "transcript", "آپ کا آرڈر"))
	for q, want := range map[string][]string{
		"café": {"d-1", "d-2"}, "CAFE": {"d-1", "d-2"}, "cafe\u0301": {"d-1", "d-2"}, "naive": {"d-1"}, "NAÏVE": {"d-1"},
		"ærø": {"d-1"}, "آرڈر": {"d-3"}, "ارڈر": {"d-3"}, "آپ": {"d-3"},
	} {
		if got := list(t, s, u.Access, "search="+url.QueryEscape(q)).externals(); !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
}
