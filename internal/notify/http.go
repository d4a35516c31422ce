package notify

import (
	"context"
	"mime"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/audit"
	"callboard/internal/principal"
)

const base = "/api/dashboard/user/notifications/"

type notificationsInput struct {
	Unread   bool   `query:"unread" doc:"Only unread notifications."`
	Cursor   string `query:"cursor" doc:"From a previous page's next link."`
	PageSize int    `query:"page_size" default:"20" minimum:"1" maximum:"100"`
}

type notificationsOutput struct {
	Body struct {
		UnreadCount int            `json:"unread_count"`
		Next        *string        `json:"next" doc:"The next (older) page, or null."`
		Results     []Notification `json:"results"`
	}
}

type notificationsMarkReadInput struct {
	Body struct {
		IDs []int64 `json:"ids,omitempty" required:"false" maxItems:"500" doc:"Notifications to mark read; ids that are not yours are ignored."`
		All bool    `json:"all,omitempty" required:"false" doc:"Mark every notification read."`
	}
}

type notificationsMarkReadOutput struct {
	Body struct {
		Marked      int64 `json:"marked" doc:"How many changed from unread to read."`
		UnreadCount int   `json:"unread_count"`
	}
}

type streamTicketOutput struct {
	Body Ticket
}

type streamInput struct {
	Ticket      string `query:"ticket" required:"true" maxLength:"128" doc:"From POST …/notifications/stream-ticket/: single use, valid for 30 seconds."`
	LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"Resume after this notification (EventSource sends it when it reconnects)."`
	ResumeAfter string `query:"last_event_id" maxLength:"20" doc:"The same as Last-Event-ID, for a new EventSource (which cannot set headers)."`
}

// Register adds the notification operations: list, mark-read, stream
// tickets and the stream.
func (s *Service) Register(api huma.API) {
	tags := []string{"Notifications"}
	huma.Register(api, huma.Operation{
		OperationID: "notifications-list", Method: http.MethodGet, Path: base,
		Summary: "Your notifications", Tags: tags, Security: principal.UserSecurity,
		Description: "Newest first, with the number still unread. `?unread=true` lists only unread ones.",
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.list)
	huma.Register(api, huma.Operation{
		OperationID: "notifications-mark-read", Method: http.MethodPost, Path: base + "mark-read/",
		Summary: "Mark notifications read", Tags: tags, Security: principal.UserSecurity,
		Description:  "`{\"ids\": [1, 2]}` or `{\"all\": true}`. Ids of notifications that are not yours are ignored.",
		MaxBodyBytes: 16 << 10, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.markRead)
	huma.Register(api, huma.Operation{
		OperationID: "notifications-stream-ticket", Method: http.MethodPost, Path: base + "stream-ticket/",
		Summary: "A ticket to open the live stream", Tags: tags, Security: principal.UserSecurity,
		Description: "A browser's EventSource cannot send an Authorization header, and a long-lived token in a URL ends up in logs. " +
			"This answers a random ticket, valid once for 30 seconds, bound to your session; pass it as `?ticket=` to the stream.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests},
	}, s.ticket)
	huma.Register(api, huma.Operation{
		OperationID: "notifications-stream", Method: http.MethodGet, Path: base + "stream/",
		Summary: "Live notifications (Server-Sent Events)", Tags: tags,
		Description: "Opened with a ticket (no Authorization header). Each new notification is an event `notification` with its id " +
			"and the notification as JSON; a comment every 15 seconds keeps the connection open. Resume with Last-Event-ID " +
			"(or `?last_event_id=`); without it the stream starts with notifications newer than now. The stream ends " +
			"(after an event `session-ended`) when your session is signed out. At most 5 streams per user.",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
		Responses: map[string]*huma.Response{"200": {
			Description: "An event stream",
			Content:     map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: "string"}}},
		}},
	}, s.stream)

	huma.Register(api, huma.Operation{
		OperationID: "mail-unsubscribe", Method: http.MethodPost, Path: unsubscribePath,
		Summary: "Unsubscribe from product news (one click)", Tags: []string{"Mail"},
		Description: "The target of the `List-Unsubscribe` header of product-news emails (RFC 8058 one-click) and of the dashboard's " +
			"/unsubscribe page: no sign-in, the token alone says who. Turns the `marketing` setting off; doing it again changes nothing. " +
			"The body is ignored: mail providers send the form `List-Unsubscribe=One-Click`; JSON or no body work too. " +
			"A token that is not valid answers 400 at `query.token`. A GET never unsubscribes (link scanners follow links).",
		MaxBodyBytes: 1 << 10,
		Errors:       []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity},
	}, s.unsubscribe)
	// Document both bodies. Declaring the form alongside JSON is also what
	// lets this one operation past httpapi's JSON-only check (requireJSON
	// passes operations whose bodies are not JSON only); unsubscribe itself
	// refuses other media types.
	if item := api.OpenAPI().Paths[unsubscribePath]; item != nil && item.Post != nil && item.Post.RequestBody != nil {
		item.Post.RequestBody.Required = false
		item.Post.RequestBody.Content = map[string]*huma.MediaType{
			formMediaType: {Schema: &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
				"List-Unsubscribe": {Type: "string", Enum: []any{"One-Click"}},
			}}},
			"application/json": {Schema: &huma.Schema{Type: "object", Description: "Ignored; may be empty."}},
		}
	}
}

const (
	unsubscribePath = "/api/mail/unsubscribe/"
	formMediaType   = "application/x-www-form-urlencoded"
)

type unsubscribeInput struct {
	Token string `query:"token" required:"true" doc:"From the link in the email."`
	// RawBody is read (within MaxBodyBytes) and ignored: the token alone
	// decides.
	RawBody []byte `contentType:"application/x-www-form-urlencoded"`
	Media   bodyMedia
	audit.Client
}

// bodyMedia is the request's Content-Type, read by a resolver rather than
// declared as a header parameter: the document lists the body's media types.
type bodyMedia struct{ value string }

// Resolve implements huma.Resolver.
func (m *bodyMedia) Resolve(ctx huma.Context) []error {
	m.value = ctx.Header("Content-Type")
	return nil
}

type unsubscribeOutput struct {
	Body struct {
		Detail string `json:"detail" example:"You will no longer receive product news."`
		List   string `json:"list" enum:"marketing" doc:"What you unsubscribed from."`
	}
}

func (s *Service) unsubscribe(ctx context.Context, in *unsubscribeInput) (*unsubscribeOutput, error) {
	if in.Media.value != "" {
		mt, _, err := mime.ParseMediaType(in.Media.value)
		if err != nil || (mt != formMediaType && mt != "application/json") {
			return nil, &apperr.Error{Kind: apperr.KindUnsupported, Message: "the body must be a form or JSON",
				Fields: []apperr.FieldError{{Location: "header.Content-Type", Message: "must be " + formMediaType + " or application/json"}}}
		}
	}
	list, err := s.Unsubscribe(ctx, in.Token, in.Client)
	if err != nil {
		return nil, err
	}
	out := &unsubscribeOutput{}
	out.Body.Detail, out.Body.List = "You will no longer receive product news.", list
	return out, nil
}

func (s *Service) list(ctx context.Context, in *notificationsInput) (*notificationsOutput, error) {
	var before int64
	if in.Cursor != "" {
		n, err := strconv.ParseInt(in.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.Invalid("query.cursor", "must be the cursor of a previous page")
		}
		before = n
	}
	page, err := s.List(ctx, principal.From(ctx).UserID, in.Unread, before, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &notificationsOutput{}
	out.Body.UnreadCount, out.Body.Results = page.UnreadCount, page.Results
	if page.NextBefore > 0 {
		next := base + "?page_size=" + strconv.Itoa(in.PageSize) + "&cursor=" + strconv.FormatInt(page.NextBefore, 10)
		if in.Unread {
			next += "&unread=true"
		}
		out.Body.Next = &next
	}
	return out, nil
}

func (s *Service) markRead(ctx context.Context, in *notificationsMarkReadInput) (*notificationsMarkReadOutput, error) {
	userID := principal.From(ctx).UserID
	n, err := s.MarkRead(ctx, userID, in.Body.IDs, in.Body.All)
	if err != nil {
		return nil, err
	}
	out := &notificationsMarkReadOutput{}
	out.Body.Marked = n
	if out.Body.UnreadCount, err = s.UnreadCount(ctx, userID); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) ticket(ctx context.Context, _ *struct{}) (*streamTicketOutput, error) {
	p := principal.From(ctx)
	t, err := s.NewTicket(ctx, p.UserID, p.SessionID)
	if err != nil {
		return nil, err
	}
	return &streamTicketOutput{Body: t}, nil
}

func (s *Service) stream(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	resume, location := in.LastEventID, "header.Last-Event-ID"
	if resume == "" {
		resume, location = in.ResumeAfter, "query.last_event_id"
	}
	last, err := parseLastEventID(location, resume)
	if err != nil {
		return nil, err
	}
	body, err := s.openStream(ctx, in.Ticket, last)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: body}, nil
}
