package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
)

var problemOnce sync.Once

// useProblemErrors makes every Huma error go through problemFor. Huma keeps
// this hook in a package variable, so it is set once per process.
func useProblemErrors() {
	problemOnce.Do(func() {
		huma.NewErrorWithContext = problemFor
	})
}

// problemFor is the one mapping from errors to problem answers: an
// *apperr.Error keeps its status and message; Huma's own errors (validation,
// body too large, bad JSON) keep theirs; anything else is logged with the
// request id and answered "internal error", never with its text.
func problemFor(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	for _, err := range errs {
		if e, ok := apperr.As(err); ok {
			return fromAppErr(e)
		}
	}
	if status >= http.StatusInternalServerError {
		var reqCtx = ctxOf(ctx)
		loggerFrom(reqCtx).Error("request failed", "status", status, "msg", msg, "errs", errs)
		return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "internal error"}
	}
	se := huma.NewError(status, msg, errs...)
	if m, ok := se.(*huma.ErrorModel); ok {
		for _, d := range m.Errors {
			if d == nil {
				continue
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
