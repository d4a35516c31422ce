// Package account is what a signed-in user configures about themselves:
// profile, settings, preferences and avatar.
package account

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/auth"
)

type profileOutput struct {
	Body auth.User
}

// Register adds the account operations to api.
func Register(api huma.API, users *auth.Service) {
	huma.Register(api, huma.Operation{
		OperationID: "profile-get", Method: http.MethodGet, Path: "/api/dashboard/user/profile/",
		Summary: "Your profile", Tags: []string{"Profile"}, Security: auth.UserSecurity,
		Errors: []int{http.StatusUnauthorized},
	}, func(ctx context.Context, _ *struct{}) (*profileOutput, error) {
		u, err := users.UserByID(ctx, auth.PrincipalFrom(ctx).UserID)
		if err != nil {
			return nil, err
		}
		return &profileOutput{Body: u}, nil
	})
}
