package httpapi

import (
	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/account"
	"callboard/internal/auth"
	"callboard/internal/calls"
	"callboard/internal/stats"
)

// registerRoutes is every capability's operations, in one list.
func registerRoutes(api huma.API, cfg Config) {
	auth.Register(api, cfg.Auth)
	account.Register(api, cfg.Account)
	calls.Register(api, cfg.Calls)
	stats.Register(api, cfg.Stats, cfg.Auth, cfg.Calls)
}
