package audit

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/principal"
)

// Client is who made a request: the address (as httpapi resolved it,
// trusted proxies honoured) and user agent that entries record. Embed it
// in an operation's input; it fills itself (huma.Resolver).
type Client struct {
	IP        string `json:"-"`
	UserAgent string `json:"-"`
}

// Resolve implements huma.Resolver.
func (c *Client) Resolve(ctx huma.Context) []error {
	c.IP = ctx.RemoteAddr()
	if host, _, err := net.SplitHostPort(c.IP); err == nil {
		c.IP = host
	}
	c.UserAgent = ctx.Header("User-Agent")
	return nil
}

// Entry returns an entry of action by userID from c.
func (c Client) Entry(userID int64, action string, details map[string]string) Entry {
	return Entry{UserID: userID, Action: action, IP: c.IP, UserAgent: c.UserAgent, Details: details}
}

type securityLogInput struct {
	Cursor   string `query:"cursor" doc:"From a previous page's next link."`
	PageSize int    `query:"page_size" default:"20" minimum:"1" maximum:"100"`
}

type securityLogOutput struct {
	Body struct {
		Next    *string `json:"next" doc:"The next (older) page, or null."`
		Results []Event `json:"results"`
	}
}

// Register adds GET /api/dashboard/user/security-log/.
func (l *Log) Register(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "security-log", Method: http.MethodGet, Path: "/api/dashboard/user/security-log/",
		Summary: "Your security log", Tags: []string{"Security"}, Security: principal.UserSecurity,
		Description: "Sign-ins and failed attempts, password changes, signed-out devices, profile changes, exports: newest first. " +
			"Entries are kept for a year.",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, l.list)
}

func (l *Log) list(ctx context.Context, in *securityLogInput) (*securityLogOutput, error) {
	var before int64
	if in.Cursor != "" {
		n, err := strconv.ParseInt(in.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.Invalid("query.cursor", "must be the cursor of a previous page")
		}
		before = n
	}
	page, err := l.List(ctx, principal.From(ctx).UserID, before, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &securityLogOutput{}
	out.Body.Results = page.Results
	if page.NextCursor != "" {
		next := "/api/dashboard/user/security-log/?page_size=" + strconv.Itoa(in.PageSize) + "&cursor=" + page.NextCursor
		out.Body.Next = &next
	}
	return out, nil
}
