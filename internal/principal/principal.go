// Package principal is who a request acts for: the signed-in user that
// auth's middleware authenticated, carried in the request's context. It is
// a leaf every capability may import (to read the caller) without importing
// auth itself, so auth can in turn use other capabilities (the profile view
// of account) without an import cycle. It owns no tables.
package principal

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
)

// BearerScheme is the OpenAPI security scheme of user routes.
const BearerScheme = "bearer"

// UserSecurity marks an operation as needing a user's access token; auth's
// middleware authenticates every operation that carries it.
var UserSecurity = []map[string][]string{{BearerScheme: {}}}

// AddSecurityScheme declares a security scheme (how a caller proves who it
// is) in api's document, for the capability whose middleware checks it.
func AddSecurityScheme(api huma.API, name string, scheme *huma.SecurityScheme) {
	doc := api.OpenAPI()
	if doc.Components == nil {
		doc.Components = &huma.Components{}
	}
	if doc.Components.SecuritySchemes == nil {
		doc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	doc.Components.SecuritySchemes[name] = scheme
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    int64
	SessionID int64
}

type key struct{}

// From returns the caller authenticated by auth's middleware. It panics
// when called from an operation without UserSecurity: a wiring bug.
func From(ctx context.Context) Principal {
	p, ok := ctx.Value(key{}).(Principal)
	if !ok {
		panic("principal: operation without UserSecurity asked for the principal")
	}
	return p
}

// With returns ctx carrying p (for the middleware, tests and internal callers).
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, key{}, p)
}
