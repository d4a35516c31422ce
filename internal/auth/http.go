package auth

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/principal"
)

// ClientInfo fills a Client from the request; embed it in an operation's
// input. The address is the one httpapi resolved (proxies honoured only when
// trusted).
type ClientInfo struct {
	Client Client `json:"-"`
}

// Resolve implements huma.Resolver.
func (c *ClientInfo) Resolve(ctx huma.Context) []error {
	c.Client = Client{IP: hostOnly(ctx.RemoteAddr()), UserAgent: ctx.Header("User-Agent")}
	return nil
}

func hostOnly(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// Middleware authenticates every operation whose Security names the bearer
// scheme (principal.UserSecurity), puts the caller on its context
// (principal.From) and answers 401 (with WWW-Authenticate) otherwise.
func (s *Service) Middleware(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if !needsBearer(ctx.Operation()) {
			next(ctx)
			return
		}
		header := ctx.Header("Authorization")
		scheme, token, _ := strings.Cut(header, " ")
		var p principal.Principal
		var err error
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			err = errBadAccess
		} else {
			p, err = s.Authenticate(ctx.Context(), strings.TrimSpace(token))
		}
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="callboard"`)
			status := http.StatusInternalServerError
			if e, ok := apperr.As(err); ok {
				status = e.Status()
			}
			_ = huma.WriteErr(api, ctx, status, err.Error(), err)
			return
		}
		next(huma.WithContext(ctx, principal.With(ctx.Context(), p)))
	}
}

func needsBearer(op *huma.Operation) bool {
	for _, req := range op.Security {
		if _, ok := req[principal.BearerScheme]; ok {
			return true
		}
	}
	return false
}

type registerInput struct {
	ClientInfo
	AcceptLanguage string `header:"Accept-Language" doc:"The verification mail is written in the first of these languages that Callboard speaks (ur or en; English otherwise): the account has no language preference yet."`
	Body           struct {
		Email     string `json:"email" maxLength:"254" doc:"Used to sign in; unique, case-insensitive."`
		Password  string `json:"password" maxLength:"1024" doc:"8–128 characters, hard to guess, not containing your name or email."`
		FirstName string `json:"first_name" maxLength:"150"`
		LastName  string `json:"last_name" maxLength:"150"`
		Phone     string `json:"phone,omitempty" required:"false" nullable:"true" maxLength:"64" doc:"Optional; any common form, stored as E.164. Numbers without a country code are read as Pakistani. Absent, null or empty: no phone number."`
	}
}

type sessionOutput struct {
	Body struct {
		User account.User `json:"user"`
		Tokens
	}
}

func sessionAnswer(u account.User, tokens Tokens, err error) (*sessionOutput, error) {
	if err != nil {
		return nil, err
	}
	out := &sessionOutput{}
	out.Body.User, out.Body.Tokens = u, tokens
	return out, nil
}

type loginInput struct {
	ClientInfo
	Body struct {
		Email    string `json:"email" maxLength:"254"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type refreshInput struct {
	ClientInfo
	Body struct {
		Refresh string `json:"refresh" minLength:"1" maxLength:"256"`
	}
}

type tokensOutput struct {
	Body Tokens
}

// Register adds the /api/auth/ operations to api, and the bearer security
// scheme that user operations name (principal.UserSecurity).
func (s *Service) Register(api huma.API) {
	principal.AddSecurityScheme(api, principal.BearerScheme, &huma.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT"})
	tags := []string{"Authentication"}
	huma.Register(api, huma.Operation{
		OperationID: "auth-register", Method: http.MethodPost, Path: "/api/auth/register/", Tags: tags,
		Summary: "Create an account", DefaultStatus: http.StatusCreated, MaxBodyBytes: 16 << 10,
		Description: "The account starts with its email address unverified: a link to verify it (valid 24 hours) is mailed at once. " +
			"Until it is verified, calls the platform reports by this address are refused.",
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}, s.register)
	huma.Register(api, huma.Operation{
		OperationID: "auth-login", Method: http.MethodPost, Path: "/api/auth/login/", Tags: tags,
		Summary: "Sign in", MaxBodyBytes: 16 << 10,
		Description: "Unknown email and wrong password get the same 401. Too many failures for an account or an address answer 429 with Retry-After.",
		Errors:      []int{http.StatusUnauthorized, http.StatusTooManyRequests},
	}, s.login)
	huma.Register(api, huma.Operation{
		OperationID: "auth-refresh", Method: http.MethodPost, Path: "/api/auth/refresh/", Tags: tags,
		Summary: "Exchange a refresh token for a new pair", MaxBodyBytes: 4 << 10,
		Description: "The presented refresh token stops working. Presenting an already-used one revokes its whole session.",
		Errors:      []int{http.StatusUnauthorized},
	}, s.refresh)
	huma.Register(api, huma.Operation{
		OperationID: "auth-logout", Method: http.MethodPost, Path: "/api/auth/logout/", Tags: tags,
		Summary: "Sign out (end the session of this refresh token)", DefaultStatus: http.StatusNoContent, MaxBodyBytes: 4 << 10,
	}, s.logout)
	s.registerPasswordReset(api)
	s.registerEmailVerification(api)
	s.registerAccountSecurity(api)
}

func (s *Service) register(ctx context.Context, in *registerInput) (*sessionOutput, error) {
	u, tokens, err := s.SignUp(ctx, NewUser{Email: in.Body.Email, Password: in.Body.Password,
		FirstName: in.Body.FirstName, LastName: in.Body.LastName, Phone: in.Body.Phone, Language: AcceptedLanguage(in.AcceptLanguage)}, in.Client)
	return sessionAnswer(u, tokens, err)
}

func (s *Service) login(ctx context.Context, in *loginInput) (*sessionOutput, error) {
	u, tokens, err := s.Login(ctx, in.Body.Email, in.Body.Password, in.Client)
	if err == nil {
		s.notifySignIn(ctx, u.ID, in.Client)
	}
	return sessionAnswer(u, tokens, err)
}

func (s *Service) refresh(ctx context.Context, in *refreshInput) (*tokensOutput, error) {
	tokens, err := s.Refresh(ctx, in.Body.Refresh, in.Client)
	if err != nil {
		return nil, err
	}
	return &tokensOutput{Body: tokens}, nil
}

func (s *Service) logout(ctx context.Context, in *refreshInput) (*struct{}, error) {
	return nil, s.Logout(ctx, in.Body.Refresh, in.Client)
}
