package store

import (
	"database/sql/driver"
	"fmt"
	"sync"

	"modernc.org/sqlite"

	"callboard/internal/searchtext"
)

// registerFunctions makes Go functions callable from SQLite's SQL, on every
// connection opened afterwards (the driver registers them for the whole
// process, hence once). The migration that rebuilds the full-text index of
// calls and the rewrite that drops a user's numbers from it compute each
// row's terms with them, exactly as ingest does in Go:
//
//   - search_number_terms(number, …): the numbers' search terms
//     (searchtext.NumberTerms);
//   - search_owner_terms(owner, text, …): the row of the index for a call of
//     owner holding those texts (searchtext.Owned of each text's distinct
//     words).
var registerFunctions = sync.OnceValue(func() error {
	if err := sqlite.RegisterDeterministicScalarFunction("search_number_terms", -1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		numbers := make([]string, 0, len(args))
		for _, a := range args {
			s, err := textArg(a)
			if err != nil {
				return nil, fmt.Errorf("search_number_terms: %w", err)
			}
			numbers = append(numbers, s)
		}
		return searchtext.NumberTerms(numbers...), nil
	}); err != nil {
		return err
	}
	return sqlite.RegisterDeterministicScalarFunction("search_owner_terms", -1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("search_owner_terms: no owner")
		}
		owner, ok := args[0].(int64)
		if !ok {
			return nil, fmt.Errorf("search_owner_terms: owner %T is not an integer", args[0])
		}
		var r searchtext.Reducer
		parts := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			s, err := textArg(a)
			if err != nil {
				return nil, fmt.Errorf("search_owner_terms: %w", err)
			}
			parts = append(parts, r.Distinct(s))
		}
		return searchtext.Owned(owner, parts...), nil
	})
})

// textArg is an SQL function's text argument; NULL is empty.
func textArg(v driver.Value) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("argument %T is not text", v)
}
