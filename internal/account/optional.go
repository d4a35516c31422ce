package account

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
)

// Optional is one member of a JSON Merge Patch (RFC 7396) body: Set says the
// member was sent at all, Null that it was sent as null (which clears the
// field or resets it to its default), and Value holds what was sent
// otherwise. A struct field of this type should carry `json:",omitzero"` so
// the OpenAPI schema marks it optional.
type Optional[T any] struct {
	Value T
	Set   bool
	Null  bool
}

// Some returns a set, non-null Optional holding v (handy in Go callers and
// tests).
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Set: true} }

// Null returns an Optional sent as null.
func Null[T any]() Optional[T] { return Optional[T]{Set: true, Null: true} }

// UnmarshalJSON records that the member was present. encoding/json calls it
// for a null too, which is how null is told apart from absent.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	*o = Optional[T]{Set: true}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON writes the value, or null when unset or null.
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if !o.Set || o.Null {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// IsZero reports an unset member, so `omitzero` leaves it out.
func (o Optional[T]) IsZero() bool { return !o.Set }

// Schema documents an Optional as its value's schema; the field's tags
// (doc, enum, nullable, limits) are applied on top by Huma.
func (Optional[T]) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[T](), true, "")
}

// present reports whether o carries a value (set and not null).
func (o Optional[T]) present() bool { return o.Set && !o.Null }

// enumSchema is the schema of a string type whose values are listed once,
// in Go, and shown to clients as an enum.
func enumSchema[T ~string](values []T, doc string) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Description: doc}
	for _, v := range values {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// checkChoice adds a problem at location unless v is one of values.
func checkChoice[T ~string](problems *[]apperr.FieldError, location string, o Optional[T], values []T) {
	if o.present() && !slices.Contains(values, o.Value) {
		*problems = append(*problems, apperr.FieldError{
			Location: location, Message: "must be one of " + joinQuoted(values), Value: string(o.Value),
		})
	}
}

func joinQuoted[T ~string](values []T) string {
	var b bytes.Buffer
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + string(v) + `"`)
	}
	return b.String()
}

// pick is the merge-patch rule for a field stored as "NULL means default":
// absent keeps current, null resets (nil), a value replaces.
func pick[T any](current *T, o Optional[T]) *T {
	switch {
	case !o.Set:
		return current
	case o.Null:
		return nil
	}
	v := o.Value
	return &v
}

// orDefault is the effective value of a stored "NULL means default" field.
func orDefault[T any](stored *T, def T) T {
	if stored == nil {
		return def
	}
	return *stored
}

// choiceOrDefault is orDefault for a field with a fixed list of choices: a
// stored value no longer on the list (a choice since withdrawn) reads as
// the default, so clients never see a value the schema does not allow.
func choiceOrDefault[T ~string](stored *T, values []T, def T) T {
	if stored == nil || !slices.Contains(values, *stored) {
		return def
	}
	return *stored
}
