package store

import (
	"encoding/json"
	"io"
)

// WriteJSONArray streams a JSON array of rows to w a batch at a time, the
// way a data export walks a user's rows: next returns at most limit rows
// after the key after (0 for the first batch), in key order, and key gives
// a row's key. Memory stays at one batch however long the array is, and no
// read transaction is held between batches.
func WriteJSONArray[T any](w io.Writer, limit int, key func(T) int64, next func(after int64, limit int) ([]T, error)) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	var after int64
	for first := true; ; {
		batch, err := next(after, limit)
		if err != nil {
			return err
		}
		for _, row := range batch {
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			if err := enc.Encode(row); err != nil {
				return err
			}
			after = key(row)
		}
		if len(batch) < limit {
			break
		}
	}
	_, err := io.WriteString(w, "]\n")
	return err
}
