package calls

import (
	"encoding/base64"
	"strconv"
	"strings"

	"callboard/internal/apperr"
)

// cursor is a position in the history: after (or, backwards, before) the
// row with sort value value and id id, in ordering order.
type cursor struct {
	order    string
	value    int64
	id       int64
	backward bool
}

func (c cursor) encode() string {
	dir := "n"
	if c.backward {
		dir = "p"
	}
	raw := "1." + c.order + "." + strconv.FormatInt(c.value, 10) + "." + strconv.FormatInt(c.id, 10) + "." + dir
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

var errBadCursor = apperr.Invalid("cursor", "is not a cursor from this list; follow next or previous as given")

func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 {
		return cursor{}, errBadCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 5 || parts[0] != "1" || (parts[4] != "n" && parts[4] != "p") {
		return cursor{}, errBadCursor
	}
	if _, ok := orderings[parts[1]]; !ok {
		return cursor{}, errBadCursor
	}
	value, err1 := strconv.ParseInt(parts[2], 10, 64)
	id, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return cursor{}, errBadCursor
	}
	return cursor{order: parts[1], value: value, id: id, backward: parts[4] == "p"}, nil
}
