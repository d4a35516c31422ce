// Package apperr is Callboard's one error type. Capabilities return these;
// httpapi turns them into RFC 9457 problem answers. Any other error is an
// internal one: logged with the request id, answered as "internal error".
package apperr

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Kind says what went wrong in terms a client can act on.
type Kind int

const (
	KindInvalid      Kind = iota + 1 // bad input; FieldErrors name the fields
	KindNotFound                     // missing, or another user's (never 403)
	KindConflict                     // the request clashes with stored state
	KindUnauthorized                 // no valid credentials
	KindForbidden                    // valid credentials, action not allowed
	KindRateLimited                  // too many attempts; RetryAfter says when to retry
	KindTooLarge                     // a body or upload over its limit
	KindUnsupported                  // a media type we do not accept
	KindUnavailable                  // the service cannot take this now (overloaded, database down); RetryAfter says when to retry
	KindBadRequest                   // well-formed input the server cannot act on (an unknown or used token); FieldErrors name it
)

// FieldError names one bad input. Location is where the value came from,
// like "body.password" or "query.status".
type FieldError struct {
	Location string
	Message  string
	Value    any
}

// Error is a client-safe error: its Message is written to the client.
type Error struct {
	Kind       Kind
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// Status is the HTTP status for the error's kind.
func (e *Error) Status() int {
	switch e.Kind {
	case KindInvalid:
		return http.StatusUnprocessableEntity
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindUnsupported:
		return http.StatusUnsupportedMediaType
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindBadRequest:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// GetHeaders adds Retry-After to rate-limited and unavailable answers (it
// satisfies Huma's HeadersError without this package importing Huma).
func (e *Error) GetHeaders() http.Header {
	if e.Kind != KindRateLimited && e.Kind != KindUnavailable {
		return nil
	}
	secs := int((e.RetryAfter + time.Second - 1) / time.Second)
	return http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}}
}

// Invalid reports one bad field.
func Invalid(location, message string) *Error {
	return &Error{Kind: KindInvalid, Message: "validation failed", Fields: []FieldError{{Location: location, Message: message}}}
}

// InvalidFields reports several bad fields at once.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Message: "validation failed", Fields: fields}
}

// NotFound reports a missing resource (or another user's).
func NotFound(what string) *Error { return &Error{Kind: KindNotFound, Message: what + " not found"} }

// Conflict reports a clash with stored state.
func Conflict(message string) *Error { return &Error{Kind: KindConflict, Message: message} }

// ConflictAt reports a clash with stored state caused by the value at
// location (an email address another account uses).
func ConflictAt(location, message string) *Error {
	return &Error{Kind: KindConflict, Message: message, Fields: []FieldError{{Location: location, Message: message}}}
}

// BadRequest reports a value at location that is well formed but cannot be
// acted on, such as a link token that is unknown, expired or used.
func BadRequest(location, message string) *Error {
	return &Error{Kind: KindBadRequest, Message: message, Fields: []FieldError{{Location: location, Message: message}}}
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(message string) *Error { return &Error{Kind: KindUnauthorized, Message: message} }

// Forbidden reports an action the caller may not take now.
func Forbidden(message string) *Error { return &Error{Kind: KindForbidden, Message: message} }

// RateLimited reports too many attempts.
func RateLimited(message string, retryAfter time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Message: message, RetryAfter: retryAfter}
}

// Unavailable reports that the service cannot serve the request now (too
// busy, or a dependency is down); the client should retry after retryAfter.
func Unavailable(message string, retryAfter time.Duration) *Error {
	return &Error{Kind: KindUnavailable, Message: message, RetryAfter: retryAfter}
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Within returns err with prefix put before each bad field's location: a
// capability names a field by its own name ("date_to", "calls[3].status")
// and its HTTP layer says where that came from ("query.", "body."). Any
// other error comes back unchanged.
func Within(prefix string, err error) error {
	e, ok := As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make([]FieldError, len(e.Fields))
	for i, f := range e.Fields {
		f.Location = prefix + f.Location
		out.Fields[i] = f
	}
	return &out
}
