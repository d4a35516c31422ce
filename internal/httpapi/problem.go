package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

var problemOnce sync.Once

// useProblemErrors makes every Huma error go through problemFor. Huma keeps
// this hook in a package variable, so it is set once per process.
func useProblemErrors() {
	problemOnce.Do(func() {
		huma.NewErrorWithContext = problemFor
	})
}

// StatusClientClosedRequest is nginx's 499: the client went away before
// the answer was ready. Nobody receives it; logs and metrics count it
// apart from the server's own failures.
const StatusClientClosedRequest = 499

// problemFor is the one mapping from errors to problem answers: an
// *apperr.Error keeps its status and message; Huma's own errors (validation,
// body too large, bad JSON) keep theirs, said in API terms; a database that
// cannot be reached is 503 with Retry-After; a request its client abandoned
// is 499, logged at info; anything else is logged with the request id and
// its cause, and answered "internal error", never with its text.
func problemFor(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	for _, err := range errs {
		if e, ok := apperr.As(err); ok {
			return fromAppErr(e)
		}
	}
	if status >= http.StatusInternalServerError {
		reqCtx := ctxOf(ctx)
		cause := errors.Join(errs...)
		if cause == nil {
			cause = errors.New(msg)
		}
		switch {
		case clientGone(reqCtx):
			loggerFrom(reqCtx).Info("request abandoned by the client", "err", cause.Error())
			return &huma.ErrorModel{Status: StatusClientClosedRequest, Title: "Client Closed Request", Detail: "the client closed the request"}
		case store.IsUnavailable(reqCtx, cause):
			loggerFrom(reqCtx).Warn("database unavailable", "err", cause.Error())
			if ctx != nil {
				// Huma sends the headers of the handler's own error only.
				ctx.SetHeader("Retry-After", errDatabaseUnavailable.GetHeaders().Get("Retry-After"))
			}
			return fromAppErr(errDatabaseUnavailable)
		}
		loggerFrom(reqCtx).Error("request failed", "status", status, "msg", msg, "err", cause.Error())
		return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "internal error"}
	}
	se := huma.NewError(status, msg, errs...)
	if m, ok := se.(*huma.ErrorModel); ok {
		for _, d := range m.Errors {
			if d == nil {
				continue
			}
			if loc, text, ok := decodeErrorInAPITerms(d.Message); ok {
				d.Location, d.Message = strings.TrimSuffix("body."+loc, "."), text
			}
			// Huma reports a missing property at its parent; name the field itself.
			if name, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
				if name, ok = strings.CutSuffix(name, " to be present"); ok {
					d.Location += "." + name
					d.Message = "is required"
				}
			}
			if secretLocation(d.Location) || !scalar(d.Value) {
				d.Value = nil
			}
		}
	}
	return se
}

// errDatabaseUnavailable answers requests while the database cannot be
// reached; recovery is automatic.
var errDatabaseUnavailable = apperr.Unavailable("the database is unavailable; try again shortly", 2*time.Second)

// clientGone reports whether the request was abandoned by its client (the
// server cancels the request's context when the connection closes), as
// opposed to a deadline or the database guard cancelling it.
func clientGone(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled)
}

// goTypeError matches encoding/json's type errors, which name Go types and
// struct fields: "json: cannot unmarshal number 6.0 into Go struct field
// SettingsPatch.calls.auto_answer_delay_seconds of type int".
var goTypeError = regexp.MustCompile(`^json: cannot unmarshal (\w+)(?: \S+)? into Go (?:struct field \w+\.(\S+)|value) of type (\S+)$`)

// decodeErrorInAPITerms rewrites a JSON decoding error about Go types as
// the field (path below the body) and what the API expects there.
func decodeErrorInAPITerms(msg string) (field, text string, ok bool) {
	m := goTypeError.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	goType := strings.TrimLeft(m[3], "*[]")
	want := "a value of another type"
	if _, name, ok := strings.Cut(goType, "."); ok {
		goType = name // a named type: only its kind below is said
	}
	switch {
	case strings.HasPrefix(m[3], "[]"):
		want = "an array"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		want = "an integer (a whole number without a decimal point)"
	case strings.HasPrefix(goType, "float"):
		want = "a number"
	case goType == "string":
		want = "a string"
	case goType == "bool":
		want = "true or false"
	case strings.HasPrefix(goType, "map"):
		want = "an object"
	}
	return m[2], "expected " + want + ", got " + m[1], true
}

// scalar reports whether v is a single value: Huma echoes whole objects
// (passwords included) for some errors, and those are never echoed.
func scalar(v any) bool {
	switch v.(type) {
	case nil, string, bool, float64, int, int64:
		return true
	}
	return false
}

// secretLocation reports whether echoing the value at loc could send a
// secret back (and into whatever logs the client keeps): the whole body, or
// a field that holds a password or token.
func secretLocation(loc string) bool {
	loc = strings.ToLower(loc)
	return loc == "body" || strings.Contains(loc, "password") || strings.Contains(loc, "refresh") ||
		strings.Contains(loc, "token") || strings.Contains(loc, "key")
}

func fromAppErr(e *apperr.Error) huma.StatusError {
	m := &huma.ErrorModel{Status: e.Status(), Title: http.StatusText(e.Status()), Detail: e.Message}
	for _, f := range e.Fields {
		m.Errors = append(m.Errors, &huma.ErrorDetail{Location: f.Location, Message: f.Message, Value: f.Value})
	}
	if h := e.GetHeaders(); h != nil {
		return &problemWithHeaders{ErrorModel: m, headers: h}
	}
	return m
}

// problemWithHeaders carries headers such as Retry-After with a problem.
type problemWithHeaders struct {
	*huma.ErrorModel
	headers http.Header
}

func (p *problemWithHeaders) GetHeaders() http.Header { return p.headers }

// writeProblem answers outside Huma (router misses, panics, probes).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
