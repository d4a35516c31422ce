package httpapi

import "github.com/danielgtaylor/huma/v2"

// Capability is one capability's HTTP surface: Register adds its
// operations (and any security scheme they name) to api.
type Capability interface {
	Register(api huma.API)
}

// MiddlewareProvider is a Capability that also puts a middleware in front
// of every operation, such as auth's, which authenticates the operations
// that name its security scheme.
type MiddlewareProvider interface {
	Middleware(api huma.API) func(huma.Context, func(huma.Context))
}

// mount installs every capability's middleware, then registers every
// capability's operations: Huma fixes an operation's middleware chain when
// it is registered, so all middlewares come first.
func mount(api huma.API, caps []Capability) {
	for _, c := range caps {
		if m, ok := c.(MiddlewareProvider); ok {
			api.UseMiddleware(m.Middleware(api))
		}
	}
	for _, c := range caps {
		c.Register(api)
	}
}
